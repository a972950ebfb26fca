// peerscope dashboard: an overview of the node, a searchable peer list and a page per peer (#/peers/<id>).
// Charts read the history the node keeps (GET /api/v1/history), so a reload or a second browser sees the same
// past. No framework, no build step. Every value from the API (peer ids, protocol ids, addresses, agents) comes
// from remote peers: it is only ever written with textContent, never parsed as HTML.
;(() => {
  const F = globalThis.PeerscopeFormat
  const C = globalThis.PeerscopeCharts

  const POLL_MS = 1000
  const SLOW_POLL_MS = 5000
  const TOP = 10
  const RANGES = {
    '5m': { resolution: 'fine', span: 5 * 60_000, every: 1 },
    '1h': { resolution: 'fine', span: 60 * 60_000, every: 1 },
    '24h': { resolution: 'coarse', span: 24 * 60 * 60_000, every: 10 }
  }
  const PALETTE = ['--p0', '--p1', '--p2', '--p3', '--p4', '--p5', '--p6', '--p7']

  // A token given as `?token=` (the page itself could not carry a header) goes into the Authorization header.
  const token = new URLSearchParams(location.search).get('token')
  const headers = token === null ? {} : { Authorization: `Bearer ${token}` }

  const $ = (id) => document.getElementById(id)

  const state = {
    node: undefined,
    range: '5m',
    hist: null,
    peerHist: null,
    charts: {},
    updates: 0,
    polls: 0,
    peersKey: '',
    peerShown: ''
  }

  class ApiError extends Error {}

  async function api(path) {
    const res = await fetch(`api/v1/${path}`, { headers, cache: 'no-store' })
    if (!res.ok) {
      const body = await res.json().catch(() => ({}))
      const error = new ApiError(body?.error?.message ?? `HTTP ${res.status}`)
      error.status = res.status
      error.code = body?.error?.code
      throw error
    }
    return res.json()
  }

  // ---- small DOM helpers ----------------------------------------------------------------------------------

  function el(tag, options = {}, ...children) {
    const node = document.createElement(tag)
    if (options.className) node.className = options.className
    if (options.text !== undefined) node.textContent = options.text
    if (options.title) node.title = options.title
    if (options.href) node.href = options.href
    for (const [k, v] of Object.entries(options.data ?? {})) node.dataset[k] = v
    node.append(...children)
    return node
  }

  const peerHref = (id) => `#/peers/${encodeURIComponent(id)}`

  function peerLink(id, short = true) {
    return el('a', { className: 'mono', href: peerHref(id), title: id, text: short ? F.shortId(id) : id })
  }

  function row(cells) {
    const tr = document.createElement('tr')
    for (const c of cells) {
      const td = document.createElement('td')
      if (c instanceof Node) td.append(c)
      else {
        const [text, className, title] = Array.isArray(c) ? c : [c, '']
        td.textContent = text
        if (className) td.className = className
        if (title) td.title = title
      }
      tr.append(td)
    }
    return tr
  }

  function emptyRow(tbody, columns, text) {
    const td = el('td', { className: 'muted empty', text })
    td.colSpan = columns
    tbody.replaceChildren(el('tr', {}, td))
  }

  const sum = (a, b) => (a === null && b === null ? null : (a ?? 0) + (b ?? 0))

  // ---- history kept by the node, merged poll after poll -----------------------------------------------------

  function emptyHist(resolution) {
    return { resolution, t: [], totals: {}, protocols: new Map(), peers: new Map(), gcs: [] }
  }

  function mergeSeries(map, list, fields, before, added) {
    const seen = new Set()
    for (const s of list) {
      seen.add(s.id)
      let own = map.get(s.id)
      if (own === undefined) {
        own = Object.fromEntries(fields.map((f) => [f, new Array(before).fill(null)]))
        map.set(s.id, own)
      }
      for (const f of fields) own[f].push(...s[f])
    }
    for (const [id, own] of map) {
      if (!seen.has(id)) for (const f of fields) own[f].push(...new Array(added).fill(null))
    }
  }

  function mergeHistory(hist, page) {
    const before = hist.t.length
    const added = page.t.length
    hist.t.push(...page.t)
    for (const [field, column] of Object.entries(page.totals)) {
      hist.totals[field] ??= new Array(before).fill(null)
      hist.totals[field].push(...column)
    }
    mergeSeries(hist.protocols, page.protocols, ['rateIn', 'rateOut'], before, added)
    mergeSeries(hist.peers ?? new Map(), page.peers ?? [], ['rateIn', 'rateOut', 'latencyMs'], before, added)
    for (const gc of page.gcs ?? []) if (!hist.gcs.some((g) => g.at === gc.at)) hist.gcs.push(gc)
  }

  /** Drops samples older than `from` from every column. */
  function trimHistory(hist, from) {
    let cut = 0
    while (cut < hist.t.length && hist.t[cut] < from) cut++
    if (cut === 0) return
    hist.t.splice(0, cut)
    for (const column of Object.values(hist.totals)) column.splice(0, cut)
    for (const map of [hist.protocols, hist.peers]) {
      for (const [id, series] of map) {
        for (const column of Object.values(series)) column.splice(0, cut)
        if (Object.values(series).every((c) => c.every((v) => v === null))) map.delete(id)
      }
    }
    hist.gcs = hist.gcs.filter((g) => g.at >= from)
  }

  async function pollHistory() {
    const range = RANGES[state.range]
    const fresh = state.hist === null || state.hist.resolution !== range.resolution
    if (!fresh && state.polls % range.every !== 0) return
    if (fresh) state.hist = emptyHist(range.resolution)
    const hist = state.hist
    const since = hist.t.length > 0 ? hist.t.at(-1) : Math.max(0, Date.now() - range.span)
    const page = await api(`history?resolution=${range.resolution}&since=${since}&peers=16&protocols=32`)
    if (state.hist !== hist) return
    hist.intervalMs = page.intervalMs
    mergeHistory(hist, page)
    trimHistory(hist, Date.now() - range.span)
  }

  // ---- charts -----------------------------------------------------------------------------------------------

  function charts() {
    if (state.charts.bandwidth) return state.charts
    state.charts = {
      bandwidth: C.timeChart($('chart-bandwidth'), {
        label: 'Bandwidth in and out',
        kind: 'rate',
        height: 260
      }),
      protocols: C.timeChart($('chart-protocols'), { label: 'Rate per protocol', kind: 'rate' }),
      connections: C.timeChart($('chart-connections'), { label: 'Connections and streams', kind: 'count' }),
      latency: C.timeChart($('chart-latency'), { label: 'Latency', kind: 'ms' }),
      peerstore: C.timeChart($('chart-peerstore'), {
        label: 'Peer store size',
        kind: 'count',
        y2: 'count',
        marks: () => (state.hist?.gcs ?? []).map((g) => g.at)
      }),
      peerBandwidth: C.timeChart($('chart-peer-bandwidth'), {
        label: 'Bandwidth of this peer',
        kind: 'rate'
      }),
      peerProtocols: C.timeChart($('chart-peer-protocols'), {
        label: 'Rate per protocol of this peer',
        kind: 'rate'
      })
    }
    return state.charts
  }

  const pair = [
    { label: 'in', color: '--in' },
    { label: 'out', color: '--out', dash: true }
  ]

  function protocolSeries(map, limit) {
    const ranked = [...map]
      .map(([id, s]) => {
        const column = s.rateIn.map((v, i) => sum(v, s.rateOut[i]))
        return { id, column, total: column.reduce((a, v) => a + (v ?? 0), 0) }
      })
      .sort((a, b) => b.total - a.total || (a.id < b.id ? -1 : 1))
      .slice(0, limit)
    return {
      series: ranked.map((r, i) => ({
        label: r.id,
        color: PALETTE[i % PALETTE.length],
        dash: i >= PALETTE.length
      })),
      columns: ranked.map((r) => r.column)
    }
  }

  function drawOverviewCharts() {
    const hist = state.hist
    if (hist === null) return
    const c = charts()
    const totals = (f) => hist.totals[f] ?? []
    const note = 'No samples yet: the node records one per interval.'
    c.bandwidth.update(pair, hist.t, [totals('rateIn'), totals('rateOut')], note)
    const protocols = protocolSeries(hist.protocols, 10)
    c.protocols.update(protocols.series, hist.t, protocols.columns, 'No protocol traffic in this range.')
    c.connections.update(
      [
        { label: 'inbound', color: '--in' },
        { label: 'outbound', color: '--out', dash: true },
        { label: 'streams open', color: '--p2' },
        { label: 'streams opened', color: '--p3', dash: true }
      ],
      hist.t,
      [totals('inbound'), totals('outbound'), totals('streams'), totals('streamsOpened')],
      note
    )
    const busiest = [...hist.peers]
      .filter(([, s]) => s.latencyMs.some((v) => v !== null))
      .slice(0, 5)
      .map(([id, s], i) => ({ id, s, i }))
    c.latency.update(
      [
        { label: 'mean', color: '--text' },
        ...busiest.map(({ id, i }) => ({
          label: F.shortId(id),
          color: PALETTE[(i + 1) % PALETTE.length],
          dash: true
        }))
      ],
      hist.t,
      [totals('latencyMs'), ...busiest.map(({ s }) => s.latencyMs)],
      note
    )
    c.peerstore.update(
      [
        { label: 'peers', color: '--peers' },
        { label: 'addresses', color: '--addrs', dash: true, scale: 'y2' }
      ],
      hist.t,
      [totals('peers'), totals('addresses')],
      note
    )
    document.body.dataset.historyPoints = String(hist.t.length)
  }

  // ---- overview ---------------------------------------------------------------------------------------------

  function busiestEntries(map) {
    return Object.entries(map)
      .map(([name, s]) => ({ name, ...s }))
      .sort(
        (a, b) =>
          b.rateIn + b.rateOut - (a.rateIn + a.rateOut) ||
          b.totalIn + b.totalOut - (a.totalIn + a.totalOut) ||
          (a.name < b.name ? -1 : 1)
      )
      .slice(0, TOP)
  }

  function renderTop(tbody, map, first) {
    const top = busiestEntries(map)
    if (top.length === 0) return emptyRow(tbody, 4, 'No traffic yet.')
    tbody.replaceChildren(
      ...top.map((e) =>
        row([
          first(e.name),
          [F.formatRate(e.rateIn), 'num in'],
          [F.formatRate(e.rateOut), 'num out'],
          [`${F.formatBytes(e.totalIn)} / ${F.formatBytes(e.totalOut)}`, 'num']
        ])
      )
    )
  }

  function streamsText(c) {
    return c.streamsOpened === null ? String(c.streams) : `${c.streams} / ${c.streamsOpened}`
  }

  function connectionCells(c, withPeer) {
    return [
      ...(withPeer ? [peerLink(c.peerId)] : []),
      [c.remoteAddr, 'mono addr', c.remoteAddr],
      [c.direction === 'inbound' ? 'in' : 'out', ''],
      [c.transport + (c.limited ? ' (limited)' : ''), ''],
      [c.encryption ?? '–', 'mono'],
      [c.muxer ?? '–', 'mono'],
      [streamsText(c), 'num', 'open now / opened over the connection'],
      [F.formatBytes(c.bytesIn), 'num'],
      [F.formatBytes(c.bytesOut), 'num'],
      ...(withPeer ? [[F.formatMs(c.rttMs), 'num']] : []),
      [F.formatAge(Date.now() - c.openedAt), 'num']
    ]
  }

  function renderConnections(connections) {
    const inbound = connections.filter((c) => c.direction === 'inbound').length
    $('stat-connections').textContent = String(connections.length)
    $('stat-directions').textContent = `${inbound} in · ${connections.length - inbound} out`
    const open = connections.reduce((n, c) => n + c.streams, 0)
    $('stat-streams').textContent = String(open)
    const opened = connections.some((c) => c.streamsOpened !== null)
      ? connections.reduce((n, c) => n + (c.streamsOpened ?? 0), 0)
      : null
    $('stat-streams-opened').textContent = opened === null ? 'open now' : `open now · ${opened} opened`
    $('connections-count').textContent = `${connections.length} open`
    const tbody = $('connections')
    if (connections.length === 0) return emptyRow(tbody, 11, 'No open connections.')
    tbody.replaceChildren(
      ...[...connections]
        .sort((a, b) => b.bytesIn + b.bytesOut - (a.bytesIn + a.bytesOut))
        .map((c) => row(connectionCells(c, true)))
    )
  }

  function renderPeerStore(stats) {
    $('stat-peers').textContent = stats.peers.toLocaleString('en-US')
    $('stat-addresses').textContent = `${stats.addresses.toLocaleString('en-US')} addresses`
    $('stat-pinned').textContent = stats.pinnedPeers.toLocaleString('en-US')
    const gc = stats.lastGc
    $('stat-gc').textContent = gc === null ? 'never' : `${F.formatAge(Date.now() - gc.at)} ago`
    $('gc-detail').textContent =
      gc === null
        ? 'No garbage collection yet.'
        : `Last GC ${new Date(gc.at).toLocaleTimeString()}: ${gc.peersRemoved} peers and ` +
          `${gc.addressesRemoved} addresses removed in ${gc.durationMs.toFixed(1)} ms.`
  }

  async function pollOverview() {
    if (state.node === null) {
      const [stats, page] = await Promise.all([api('peerstore'), api('peers?limit=50')])
      renderPeerStore(stats)
      renderPeerTable($('offline-peers'), page, null)
      return
    }
    const [totals, byPeer, byProtocol, connections, peerstore] = await Promise.all([
      api('bandwidth'),
      api('bandwidth/peers'),
      api('bandwidth/protocols'),
      api('connections'),
      api('peerstore'),
      pollHistory()
    ])
    $('stat-total-in').textContent = F.formatBytes(totals.totalIn)
    $('stat-total-out').textContent = F.formatBytes(totals.totalOut)
    $('stat-rate-in').textContent = F.formatRate(totals.rateIn)
    $('stat-rate-out').textContent = F.formatRate(totals.rateOut)
    const latency = state.hist?.totals.latencyMs?.findLast((v) => v !== null)
    $('stat-latency').textContent = F.formatMs(latency ?? null)
    renderPeerStore(peerstore)
    renderConnections(connections.connections)
    renderTop($('top-peers'), byPeer.peers, (id) =>
      id.startsWith('(') ? el('span', { text: id }) : peerLink(id)
    )
    renderTop($('top-protocols'), byProtocol.protocols, (p) =>
      el('span', { className: 'mono', text: p, title: p })
    )
    drawOverviewCharts()
  }

  // ---- peer list --------------------------------------------------------------------------------------------

  const COLUMNS = [
    { key: 'id', label: 'Peer' },
    { key: 'connected', label: 'State' },
    { key: 'agent', label: 'Agent' },
    { key: 'addresses', label: 'Addrs', num: true },
    { key: 'protocols', label: 'Protocols', num: true },
    { key: 'pins', label: 'Pins' },
    { key: 'latency', label: 'Latency', num: true },
    { key: 'rate', label: 'Rate', num: true },
    { key: 'traffic', label: 'Traffic', num: true }
  ]
  const defaultOrder = (sort) => (sort === 'id' || sort === 'agent' ? 'asc' : 'desc')

  function peersQuery(params) {
    const limit = Number(params.get('limit') ?? 50)
    const page = Math.max(0, Number(params.get('page') ?? 0) || 0)
    return {
      q: params.get('q') ?? '',
      sort: params.get('sort') ?? 'id',
      order: params.get('order') ?? '',
      connected: params.get('connected') ?? '',
      limit: [25, 50, 100, 250].includes(limit) ? limit : 50,
      page
    }
  }

  function setPeersQuery(query, replace = false) {
    const params = new URLSearchParams()
    if (query.q) params.set('q', query.q)
    if (query.sort !== 'id') params.set('sort', query.sort)
    if (query.order) params.set('order', query.order)
    if (query.connected) params.set('connected', query.connected)
    if (query.limit !== 50) params.set('limit', String(query.limit))
    if (query.page > 0) params.set('page', String(query.page))
    const text = params.toString()
    const hash = `#/peers${text ? `?${text}` : ''}`
    if (replace) history.replaceState(null, '', hash)
    else history.pushState(null, '', hash)
    route()
  }

  function renderPeerTable(container, page, query) {
    const table = el('table', { className: 'peers' })
    const head = el('tr')
    for (const column of COLUMNS) {
      const th = el('th', { className: column.num ? 'num' : '' })
      th.scope = 'col'
      if (query === null) th.textContent = column.label
      else {
        const active = query.sort === column.key
        const order = query.order || defaultOrder(query.sort)
        if (active) th.setAttribute('aria-sort', order === 'asc' ? 'ascending' : 'descending')
        const button = el('button', {
          className: 'sort',
          text: `${column.label}${active ? (order === 'asc' ? ' ▲' : ' ▼') : ''}`
        })
        button.type = 'button'
        button.dataset.sort = column.key
        button.addEventListener('click', () => {
          const next = active ? (order === 'asc' ? 'desc' : 'asc') : defaultOrder(column.key)
          setPeersQuery({
            ...query,
            sort: column.key,
            order: next === defaultOrder(column.key) ? '' : next,
            page: 0
          })
        })
        th.append(button)
      }
      head.append(th)
    }
    const tbody = el('tbody')
    for (const p of page.items) {
      const tr = row([
        peerLink(p.peerId),
        el('span', {
          className: `badge ${p.connected ? 'ok' : ''}`,
          text: p.connected ? 'connected' : 'stored'
        }),
        [p.agent ?? '–', 'agent', p.agent ?? ''],
        [String(p.addresses), 'num'],
        [String(p.protocols), 'num'],
        [p.pins.join(', ') || '–', ''],
        [F.formatMs(p.latencyMs), 'num'],
        [p.bandwidth === null ? '–' : F.formatRate(p.bandwidth.rateIn + p.bandwidth.rateOut), 'num'],
        [p.bandwidth === null ? '–' : F.formatBytes(p.bandwidth.totalIn + p.bandwidth.totalOut), 'num']
      ])
      tr.dataset.peer = p.peerId
      tr.className = 'clickable'
      tr.addEventListener('click', (event) => {
        if (event.target.closest('a, button') || String(getSelection())) return
        location.hash = peerHref(p.peerId)
      })
      tbody.append(tr)
    }
    if (page.items.length === 0) emptyRow(tbody, COLUMNS.length, 'No peer matches.')
    table.append(el('thead', {}, head), tbody)
    const parts = [el('div', { className: 'table-wrap tall' }, table)]
    if (query !== null) {
      const from = page.total === 0 ? 0 : page.offset + 1
      const to = page.offset + page.items.length
      const prev = el('button', { text: '← Previous' })
      prev.type = 'button'
      prev.disabled = page.offset === 0
      prev.addEventListener('click', () => setPeersQuery({ ...query, page: Math.max(0, query.page - 1) }))
      const next = el('button', { text: 'Next →' })
      next.type = 'button'
      next.disabled = to >= page.total
      next.addEventListener('click', () => setPeersQuery({ ...query, page: query.page + 1 }))
      parts.push(
        el(
          'nav',
          { className: 'pager' },
          prev,
          el('span', { className: 'muted', text: `${from}–${to} of ${page.total.toLocaleString('en-US')}` }),
          next
        )
      )
    }
    // Keep keyboard focus on the control that was used across the re-render.
    const focused = document.activeElement?.dataset?.sort
    container.replaceChildren(...parts)
    if (focused) container.querySelector(`button[data-sort="${focused}"]`)?.focus()
  }

  async function pollPeers(params, force) {
    const query = peersQuery(params)
    const key = JSON.stringify(query)
    if (!force && key === state.peersKey && state.polls % 5 !== 0) return
    state.peersKey = key
    const search = new URLSearchParams({
      limit: String(query.limit),
      offset: String(query.page * query.limit)
    })
    if (query.q) search.set('q', query.q)
    if (query.sort !== 'id') search.set('sort', query.sort)
    if (query.order) search.set('order', query.order)
    if (query.connected) search.set('connected', query.connected)
    const page = await api(`peers?${search}`)
    if ($('peers-search') !== document.activeElement) $('peers-search').value = query.q
    $('peers-filter').value = query.connected
    $('peers-limit').value = String(query.limit)
    $('peers-count').textContent = `${page.total.toLocaleString('en-US')} peer${page.total === 1 ? '' : 's'}`
    renderPeerTable($('peers-list'), page, query)
  }

  // ---- one peer ---------------------------------------------------------------------------------------------

  function fact(name, label, value) {
    return el('div', {}, el('dt', { text: label }), el('dd', { text: value, data: { fact: name } }))
  }

  function renderPeer(p) {
    $('peer-state').textContent = p.connected ? 'connected' : 'stored'
    $('peer-state').className = `badge ${p.connected ? 'ok' : ''}`
    const bw = p.bandwidth
    $('peer-facts').replaceChildren(
      fact('agent', 'Agent', p.agent ?? 'unknown'),
      fact('latency', 'Latency', F.formatMs(p.latencyMs)),
      fact('pins', 'Pins', p.pins.length === 0 ? 'none' : p.pins.join(', ')),
      fact('addresses', 'Addresses', String(p.addresses.length)),
      fact('protocols', 'Protocols', String(p.protocols.length)),
      fact('total-in', 'Received', bw === null ? '–' : F.formatBytes(bw.totalIn)),
      fact('total-out', 'Sent', bw === null ? '–' : F.formatBytes(bw.totalOut)),
      fact('rate-in', 'Rate in', bw === null ? '–' : F.formatRate(bw.rateIn)),
      fact('rate-out', 'Rate out', bw === null ? '–' : F.formatRate(bw.rateOut))
    )
    const now = Date.now()
    $('peer-address-count').textContent = `${p.addresses.length}`
    if (p.addresses.length === 0) emptyRow($('peer-addresses'), 4, 'No unexpired address.')
    else
      $('peer-addresses').replaceChildren(
        ...p.addresses.map((a) =>
          row([
            [a.multiaddr, 'mono addr', a.multiaddr],
            [F.ttlClass(a), ''],
            [F.timeLeft(a.expiresAt, now), 'num'],
            [a.certified ? 'yes' : 'no', '']
          ])
        )
      )
    $('peer-protocol-count').textContent = `${p.protocols.length}`
    const protocols = [...new Set([...p.protocols, ...Object.keys(p.protocolBandwidth)])].sort()
    if (protocols.length === 0) emptyRow($('peer-protocols'), 3, 'No protocol known.')
    else
      $('peer-protocols').replaceChildren(
        ...protocols.map((name) => {
          const s = p.protocolBandwidth[name]
          return row([
            [name, 'mono', name],
            [s === undefined ? '–' : F.formatBytes(s.totalIn), 'num'],
            [s === undefined ? '–' : F.formatBytes(s.totalOut), 'num']
          ])
        })
      )
    const metadata = Object.entries(p.metadata)
    if (metadata.length === 0) emptyRow($('peer-metadata'), 2, 'No metadata.')
    else
      $('peer-metadata').replaceChildren(
        ...metadata.map(([k, v]) =>
          row([
            [k, ''],
            [v, 'mono breakall']
          ])
        )
      )
    $('peer-key').textContent = p.publicKey ?? 'unknown'
    if (p.connections.length === 0) emptyRow($('peer-connections'), 9, 'Not connected.')
    else $('peer-connections').replaceChildren(...p.connections.map((c) => row(connectionCells(c, false))))
  }

  async function pollPeer(id, force) {
    if (!force && state.polls % 2 !== 0) return
    const fresh = state.peerShown !== id
    if (fresh) {
      state.peerShown = id
      state.peerHist = null
      $('peer-title').textContent = id
      $('peer-facts').replaceChildren()
    }
    let detail = null
    try {
      detail = await api(`peers/${encodeURIComponent(id)}`)
    } catch (err) {
      if (!(err instanceof ApiError) || (err.status !== 404 && err.status !== 400)) throw err
      $('peer-missing').textContent =
        err.status === 400 ? `Not a valid peer id: ${err.message}` : 'The peer store does not know this peer.'
    }
    if (state.peerShown !== id) return
    $('peer-missing').hidden = detail !== null
    if (detail !== null) renderPeer(detail)
    if (state.node === null || detail === null) return
    const since = state.peerHist?.t.at(-1) ?? Math.max(0, Date.now() - RANGES['5m'].span)
    const page = await api(`history/peers/${encodeURIComponent(id)}?since=${since}&protocols=10`)
    if (state.peerShown !== id) return
    state.peerHist ??= emptyHist('fine')
    const hist = state.peerHist
    mergeHistory(hist, {
      t: page.t,
      totals: { rateIn: page.rateIn, rateOut: page.rateOut, latencyMs: page.latencyMs },
      protocols: page.protocols
    })
    trimHistory(hist, Date.now() - RANGES['5m'].span)
    const c = charts()
    c.peerBandwidth.update(
      pair,
      hist.t,
      [hist.totals.rateIn ?? [], hist.totals.rateOut ?? []],
      'No samples yet.'
    )
    const protocols = protocolSeries(hist.protocols, 8)
    c.peerProtocols.update(
      protocols.series,
      hist.t,
      protocols.columns,
      'No protocol traffic kept for this peer.'
    )
    const kept = (hist.totals.rateIn ?? []).filter((v) => v !== null).length
    $('peer-history-note').textContent =
      'Last 5 minutes. The node keeps the history of the busiest peers of each sample: ' +
      `this peer is in ${kept} of the ${hist.t.length} samples shown (gaps elsewhere).`
  }

  // ---- routing, status, polling -----------------------------------------------------------------------------

  function currentRoute() {
    const hash = location.hash.replace(/^#/, '') || '/'
    const [path, search = ''] = hash.split('?')
    const peer = /^\/peers\/(.+)$/.exec(path)
    if (peer) return { name: 'peer', id: decodeURIComponent(peer[1]) }
    if (path === '/peers') return { name: 'peers', params: new URLSearchParams(search) }
    return { name: 'overview' }
  }

  function showRoute(r) {
    for (const name of ['overview', 'peers', 'peer']) $(`view-${name}`).hidden = r.name !== name
    $('nav-overview').toggleAttribute('aria-current', r.name === 'overview')
    $('nav-peers').toggleAttribute('aria-current', r.name !== 'overview')
    document.title = r.name === 'peer' ? `peerscope · ${F.shortId(r.id)}` : `peerscope · ${r.name}`
  }

  function setStatus(kind, text) {
    $('status-dot').className = `dot ${kind}`
    $('status-text').textContent = text
    document.body.dataset.status = kind
  }

  async function poll(force = false) {
    const r = currentRoute()
    showRoute(r)
    try {
      if (state.node === undefined) await loadNode()
      if (r.name === 'overview') await pollOverview()
      else if (r.name === 'peers') await pollPeers(r.params, force)
      else await pollPeer(r.id, force)
      state.updates++
      document.body.dataset.updates = String(state.updates)
      if (state.node === null) setStatus('offline', 'offline · stored database')
      else setStatus('ok', `live · ${new Date().toLocaleTimeString()}`)
    } catch (err) {
      setStatus(
        'bad',
        err.status === 401 ? 'token required (open the page with ?token=…)' : `error: ${err.message}`
      )
      if (!(err instanceof ApiError)) console.error(err)
    }
  }

  async function loadNode() {
    const { node } = await api('node')
    state.node = node
    document.body.classList.toggle('offline', node === null)
    $('offline-banner').hidden = node !== null
    for (const e of document.querySelectorAll('.offline-only')) e.hidden = node !== null
    for (const e of document.querySelectorAll('.live-only')) e.hidden = node === null
    $('node-id').textContent = node === null ? 'offline peer store' : node.peerId
    $('node-agent').textContent = node === null ? '' : node.agent
  }

  let timer
  let running = null
  let again = false

  async function loop(force = false) {
    clearTimeout(timer)
    if (running !== null) {
      again = true
      return
    }
    running = poll(force)
    await running
    running = null
    state.polls++
    if (again) {
      again = false
      return loop(true)
    }
    timer = setTimeout(loop, state.node === null ? SLOW_POLL_MS : POLL_MS)
  }

  const route = () => loop(true)
  let lastView = ''
  window.addEventListener('hashchange', () => {
    // A new view (or another peer) starts at its top; re-sorting or paging the list keeps its place.
    const r = currentRoute()
    const name = r.name === 'peer' ? `peer:${r.id}` : r.name
    if (name !== lastView) scrollTo(0, 0)
    lastView = name
    route()
  })
  window.addEventListener('popstate', route)

  for (const input of $('range').querySelectorAll('input')) {
    input.addEventListener('change', () => {
      if (!input.checked) return
      state.range = input.value
      state.hist = null
      loop(true)
    })
  }

  let typing
  $('peers-form').addEventListener('submit', (event) => event.preventDefault())
  $('peers-search').addEventListener('input', () => {
    clearTimeout(typing)
    typing = setTimeout(() => {
      const query = peersQuery(currentRoute().params ?? new URLSearchParams())
      setPeersQuery({ ...query, q: $('peers-search').value.trim(), page: 0 }, true)
    }, 250)
  })
  for (const [id, key] of [
    ['peers-filter', 'connected'],
    ['peers-limit', 'limit']
  ]) {
    $(id).addEventListener('change', () => {
      const query = peersQuery(currentRoute().params ?? new URLSearchParams())
      const value = key === 'limit' ? Number($(id).value) : $(id).value
      setPeersQuery({ ...query, [key]: value, page: 0 })
    })
  }

  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
    for (const chart of Object.values(state.charts)) chart.restyle()
  })

  loop(true)
})()
