// peerscope dashboard: polls the HTTP API once a second and draws small canvas charts. No framework, no build.
// Every value from the API (peer ids, protocol ids, addresses) comes from remote peers: it is only ever
// written with textContent or drawn on a canvas, never parsed as HTML.

const POLL_MS = 1000
const HISTORY = 120
const TOP = 8

// A token given as `?token=` (the page itself could not carry a header) goes into the Authorization header.
const token = new URLSearchParams(location.search).get('token')
const headers = token === null ? {} : { Authorization: `Bearer ${token}` }

const state = {
  bandwidth: [], // { t, rateIn, rateOut }
  peerstore: [], // { t, peers, addresses }
  gcMarks: [], // epoch ms of each GC seen
  lastGcAt: null,
  updates: 0
}

const $ = (id) => document.getElementById(id)

async function api(path) {
  const res = await fetch(`api/v1/${path}`, { headers, cache: 'no-store' })
  if (!res.ok) {
    const body = await res.json().catch(() => ({}))
    const error = new Error(body?.error?.message ?? `HTTP ${res.status}`)
    error.status = res.status
    throw error
  }
  return res.json()
}

function formatBytes(n) {
  if (!Number.isFinite(n)) return '–'
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = n
  let unit = 0
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(unit === 0 || value >= 100 ? 0 : 1)} ${units[unit]}`
}

const formatRate = (n) => `${formatBytes(n)}/s`

function formatAge(ms) {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m`
  if (s < 86400) return `${Math.floor(s / 3600)}h`
  return `${Math.floor(s / 86400)}d`
}

const shortId = (id) => (id.length > 16 ? `${id.slice(0, 6)}…${id.slice(-6)}` : id)

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim()
}

/** A canvas sized to its CSS box at the device pixel ratio, with the context scaled to CSS pixels. */
function prepare(canvas) {
  const ratio = window.devicePixelRatio || 1
  const width = canvas.clientWidth
  const height = canvas.clientHeight
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio)
    canvas.height = Math.round(height * ratio)
  }
  const ctx = canvas.getContext('2d')
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0)
  ctx.clearRect(0, 0, width, height)
  ctx.font = '11px system-ui, sans-serif'
  return { ctx, width, height }
}

/** A round axis maximum at or above `value`; byte axes round in their own 1024-based unit. */
function niceMax(value, binary) {
  if (value <= 0) return 1
  const unit = binary ? 1024 ** Math.min(4, Math.floor(Math.log(Math.max(1, value)) / Math.log(1024))) : 1
  const scaled = value / unit
  const exp = 10 ** Math.floor(Math.log10(scaled))
  for (const step of [1, 2, 4, 8, 10]) if (step * exp >= scaled) return step * exp * unit
  return 10 * exp * unit
}

/** Line chart of several series over time, with optional vertical markers. */
function drawLines(canvas, points, series, format, marks = []) {
  const { ctx, width, height } = prepare(canvas)
  const pad = { left: 74, right: 12, top: 10, bottom: 22 }
  const plotW = width - pad.left - pad.right
  const plotH = height - pad.top - pad.bottom
  const now = Date.now()
  const from = now - HISTORY * POLL_MS
  const bytes = format === formatRate
  const top = niceMax(Math.max(0, ...points.flatMap((p) => series.map((s) => p[s.key]))), bytes)
  // Counts are whole numbers: at least 4 on the axis, so its four steps are whole too.
  const max = bytes ? top : Math.max(4, top)
  const x = (t) => pad.left + ((t - from) / (now - from)) * plotW
  const y = (v) => pad.top + plotH - (v / max) * plotH

  ctx.strokeStyle = cssVar('--grid')
  ctx.fillStyle = cssVar('--muted')
  ctx.lineWidth = 1
  ctx.textAlign = 'right'
  ctx.textBaseline = 'middle'
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4
    const py = Math.round(y(v)) + 0.5
    ctx.beginPath()
    ctx.moveTo(pad.left, py)
    ctx.lineTo(width - pad.right, py)
    ctx.stroke()
    ctx.fillText(format(v), pad.left - 8, py)
  }
  ctx.textAlign = 'center'
  ctx.textBaseline = 'top'
  for (let s = 0; s <= HISTORY; s += 30) {
    ctx.fillText(s === 0 ? 'now' : `-${s}s`, x(now - s * POLL_MS), height - pad.bottom + 6)
  }

  ctx.strokeStyle = cssVar('--gc')
  for (const t of marks) {
    if (t < from) continue
    const px = Math.round(x(t)) + 0.5
    ctx.beginPath()
    ctx.moveTo(px, pad.top)
    ctx.lineTo(px, pad.top + plotH)
    ctx.stroke()
  }

  for (const s of series) {
    const color = cssVar(s.color)
    const visible = points.filter((p) => p.t >= from)
    if (visible.length === 0) continue
    ctx.beginPath()
    for (const [i, p] of visible.entries()) {
      if (i === 0) ctx.moveTo(x(p.t), y(p[s.key]))
      else ctx.lineTo(x(p.t), y(p[s.key]))
    }
    ctx.strokeStyle = color
    ctx.lineWidth = 2
    ctx.lineJoin = 'round'
    ctx.stroke()
    if (s.fill) {
      ctx.lineTo(x(visible.at(-1).t), y(0))
      ctx.lineTo(x(visible[0].t), y(0))
      ctx.closePath()
      ctx.globalAlpha = 0.12
      ctx.fillStyle = color
      ctx.fill()
      ctx.globalAlpha = 1
    }
  }
  canvas.dataset.points = String(points.length)
}

/** Horizontal bars, in and out side by side, for the busiest entries of a `{ name: stats }` map. */
function drawBars(canvas, entries, label) {
  const { ctx, width, height } = prepare(canvas)
  const top = Object.entries(entries)
    .map(([name, s]) => ({ name, totalIn: s.totalIn, totalOut: s.totalOut }))
    .sort((a, b) => b.totalIn + b.totalOut - (a.totalIn + a.totalOut))
    .slice(0, TOP)
  canvas.dataset.items = String(top.length)
  if (top.length === 0) {
    ctx.fillStyle = cssVar('--muted')
    ctx.textAlign = 'center'
    ctx.fillText('no traffic yet', width / 2, height / 2)
    return
  }
  const labelW = Math.min(190, width * 0.38)
  const valueW = 120
  const rowH = Math.min(26, (height - 4) / top.length)
  const barW = width - labelW - valueW
  const max = Math.max(1, ...top.map((e) => Math.max(e.totalIn, e.totalOut)))
  ctx.textBaseline = 'middle'
  top.forEach((e, i) => {
    const y0 = 2 + i * rowH
    const barH = Math.max(3, (rowH - 8) / 2)
    ctx.fillStyle = cssVar('--text')
    ctx.textAlign = 'left'
    ctx.fillText(fit(ctx, label(e.name), labelW - 10), 0, y0 + rowH / 2)
    ctx.fillStyle = cssVar('--in')
    ctx.fillRect(labelW, y0 + 3, Math.max(1, (e.totalIn / max) * barW), barH)
    ctx.fillStyle = cssVar('--out')
    ctx.fillRect(labelW, y0 + 4 + barH, Math.max(1, (e.totalOut / max) * barW), barH)
    ctx.fillStyle = cssVar('--muted')
    ctx.textAlign = 'right'
    ctx.fillText(`${formatBytes(e.totalIn)} / ${formatBytes(e.totalOut)}`, width, y0 + rowH / 2)
  })
}

function fit(ctx, text, maxWidth) {
  if (ctx.measureText(text).width <= maxWidth) return text
  let cut = text
  while (cut.length > 1 && ctx.measureText(`${cut}…`).width > maxWidth) cut = cut.slice(0, -1)
  return `${cut}…`
}

function renderConnections(connections) {
  $('stat-connections').textContent = String(connections.length)
  $('connections-count').textContent = `${connections.length} open`
  const rows = [...connections]
    .sort((a, b) => b.bytesIn + b.bytesOut - (a.bytesIn + a.bytesOut))
    .map((c) => {
      const tr = document.createElement('tr')
      const cells = [
        [shortId(c.peerId), 'mono'],
        [c.remoteAddr, 'mono addr'],
        [c.direction === 'inbound' ? 'in' : 'out', ''],
        [String(c.streams), 'num'],
        [formatBytes(c.bytesIn), 'num'],
        [formatBytes(c.bytesOut), 'num'],
        [formatAge(Date.now() - c.openedAt), 'num']
      ]
      for (const [text, className] of cells) {
        const td = document.createElement('td')
        td.textContent = text
        if (className !== '') td.className = className
        tr.append(td)
      }
      tr.title = c.peerId
      return tr
    })
  $('connections').replaceChildren(...rows)
}

function renderPeerStore(stats, now) {
  $('stat-peers').textContent = stats.peers.toLocaleString()
  $('stat-pinned').textContent = stats.pinnedPeers.toLocaleString()
  const gc = stats.lastGc
  if (gc !== null && gc.at !== state.lastGcAt) {
    state.lastGcAt = gc.at
    state.gcMarks.push(gc.at)
  }
  $('stat-gc').textContent = gc === null ? 'never' : `${formatAge(now - gc.at)} ago`
  $('gc-detail').textContent =
    gc === null
      ? 'No garbage collection yet.'
      : `Last GC ${new Date(gc.at).toLocaleTimeString()}: ${gc.peersRemoved} peers and ` +
        `${gc.addressesRemoved} addresses removed in ${gc.durationMs.toFixed(1)} ms.`
  state.peerstore.push({ t: now, peers: stats.peers, addresses: stats.addresses })
}

function setStatus(ok, text) {
  $('status-dot').className = `dot ${ok ? 'ok' : 'bad'}`
  $('status-text').textContent = text
}

function draw() {
  drawLines(
    $('chart-bandwidth'),
    state.bandwidth,
    [
      { key: 'rateIn', color: '--in', fill: true },
      { key: 'rateOut', color: '--out', fill: true }
    ],
    formatRate
  )
  drawLines(
    $('chart-peerstore'),
    state.peerstore,
    [
      { key: 'peers', color: '--peers' },
      { key: 'addresses', color: '--addrs' }
    ],
    (v) => Math.round(v).toLocaleString(),
    state.gcMarks
  )
}

let latest = null

async function poll() {
  try {
    const [totals, byPeer, byProtocol, connections, peerstore] = await Promise.all([
      api('bandwidth'),
      api('bandwidth/peers'),
      api('bandwidth/protocols'),
      api('connections'),
      api('peerstore')
    ])
    const now = Date.now()
    $('stat-total-in').textContent = formatBytes(totals.totalIn)
    $('stat-total-out').textContent = formatBytes(totals.totalOut)
    $('stat-rate-in').textContent = formatRate(totals.rateIn)
    $('stat-rate-out').textContent = formatRate(totals.rateOut)
    state.bandwidth.push({ t: now, rateIn: totals.rateIn, rateOut: totals.rateOut })
    renderPeerStore(peerstore, now)
    for (const list of [state.bandwidth, state.peerstore]) if (list.length > HISTORY + 5) list.shift()
    latest = { byPeer: byPeer.peers, byProtocol: byProtocol.protocols }
    renderConnections(connections.connections)
    drawBars($('chart-peers'), latest.byPeer, shortId)
    drawBars($('chart-protocols'), latest.byProtocol, (name) => name)
    draw()
    state.updates++
    document.body.dataset.updates = String(state.updates)
    setStatus(true, `live · ${new Date(now).toLocaleTimeString()}`)
  } catch (err) {
    setStatus(
      false,
      err.status === 401 ? 'token required (open the page with ?token=…)' : `error: ${err.message}`
    )
  }
}

async function loadNode() {
  try {
    const { node } = await api('node')
    $('node-id').textContent = node === null ? 'offline peer store' : node.peerId
    $('node-agent').textContent = node === null ? '' : node.agent
  } catch {
    $('node-id').textContent = 'unknown node'
  }
}

window.addEventListener('resize', () => {
  draw()
  if (latest !== null) {
    drawBars($('chart-peers'), latest.byPeer, shortId)
    drawBars($('chart-protocols'), latest.byProtocol, (name) => name)
  }
})

// One poll at a time: the next starts a second after the last one finished, however slow the server is.
async function loop() {
  await poll()
  setTimeout(loop, POLL_MS)
}

loadNode()
loop()
