// peerscope dashboard: number, size, time and axis formatting. A classic script (no module loader: the page's
// token travels on each script URL, which an `import` would drop) that defines `PeerscopeFormat`; the Node tests
// load the same file.
;(() => {
  const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB']

  /** The 1024-based unit index for a magnitude (0 for anything under 1 KiB, tiny rates included). */
  function unitIndex(value) {
    let unit = 0
    let v = Math.abs(value)
    while (v >= 1024 && unit < UNITS.length - 1) {
      v /= 1024
      unit++
    }
    return unit
  }

  /** Decimals that keep `step` (in the unit shown) distinct: 0 for whole steps, up to 3 for tiny ones. */
  function decimalsFor(step) {
    if (!(step > 0) || step >= 1) return 0
    return Math.min(3, Math.ceil(-Math.log10(step) - 1e-9))
  }

  function trim(text) {
    return text.includes('.') ? text.replace(/\.?0+$/, '') : text
  }

  function formatBytes(n) {
    if (!Number.isFinite(n)) return '–'
    if (n === 0) return '0 B'
    const unit = unitIndex(n)
    const value = n / 1024 ** unit
    const abs = Math.abs(value)
    const decimals = unit === 0 ? (abs >= 10 ? 0 : abs >= 1 ? 1 : 2) : abs >= 100 ? 0 : 1
    return `${trim(value.toFixed(decimals))} ${UNITS[unit]}`
  }

  const formatRate = (n) => (Number.isFinite(n) ? `${formatBytes(n)}/s` : '–')

  /**
   * Tick labels of a byte axis: one unit for the whole axis (that of its largest tick) and as many decimals as
   * the step between ticks needs, so no two ticks read the same ("1, 1, 1, 0 B/s" cannot happen).
   */
  function byteTicks(splits, suffix = '') {
    const finite = splits.filter(Number.isFinite)
    const top = Math.max(0, ...finite.map(Math.abs))
    const unit = unitIndex(top)
    const scale = 1024 ** unit
    const step = finite.length > 1 ? Math.abs(finite[1] - finite[0]) / scale : 1
    const decimals = decimalsFor(step)
    return splits.map((v) =>
      Number.isFinite(v) ? `${v === 0 ? '0' : (v / scale).toFixed(decimals)} ${UNITS[unit]}${suffix}` : ''
    )
  }

  /** Tick labels of a plain axis (counts, milliseconds). */
  function numberTicks(splits, suffix = '') {
    const finite = splits.filter(Number.isFinite)
    const step = finite.length > 1 ? Math.abs(finite[1] - finite[0]) : 1
    const decimals = decimalsFor(step)
    return splits.map((v) =>
      Number.isFinite(v)
        ? `${v === 0 ? '0' : Number(v.toFixed(decimals)).toLocaleString('en-US')}${suffix}`
        : ''
    )
  }

  /**
   * A round top for an axis from 0 to `value`: 1, 2 or 5 times a power of ten (of 1024-based units for bytes).
   * Zero or no data gives `minTop` (1 B/s, 1 peer), never an empty range; tiny rates keep their scale (0.4 B/s).
   */
  function niceTop(value, binary, minTop = 1) {
    if (!(value > 0)) return minTop
    const unit = binary ? 1024 ** unitIndex(value) : 1
    const scaled = value / unit
    const exp = 10 ** Math.floor(Math.log10(scaled))
    for (const step of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
      if (step * exp >= scaled * (1 - 1e-9)) return Number((step * exp).toPrecision(12)) * unit
    }
    return 10 * exp * unit
  }

  /** Tick increments for a byte axis: round numbers in each 1024-based unit (0.001 B … 500 TiB). */
  function byteIncrements() {
    const out = []
    for (let unit = 0; unit < UNITS.length; unit++) {
      for (let exp = unit === 0 ? -3 : 0; exp <= 2; exp++) {
        for (const m of [1, 2, 2.5, 5]) out.push(m * 10 ** exp * 1024 ** unit)
      }
    }
    return out.sort((a, b) => a - b)
  }

  function countIncrements() {
    const out = []
    for (let exp = 0; exp <= 9; exp++) for (const m of [1, 2, 5]) out.push(m * 10 ** exp)
    return out
  }

  function decimalIncrements() {
    const out = []
    for (let exp = -3; exp <= 9; exp++) for (const m of [1, 2, 5]) out.push(m * 10 ** exp)
    return out
  }

  function formatAge(ms) {
    const s = Math.max(0, Math.round(ms / 1000))
    if (s < 60) return `${s}s`
    if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`
    if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`
    return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`
  }

  function formatMs(ms) {
    if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–'
    return ms >= 100 ? `${Math.round(ms)} ms` : `${trim(ms.toFixed(1))} ms`
  }

  // go-libp2p's address TTLs (peerstore.TempAddrTTL and friends) by their value in ms.
  const TTL_CLASSES = new Map([
    [2 * 60_000, 'temporary'],
    [10 * 60_000, 'recently connected'],
    [15 * 60_000, 'recently connected'],
    [30 * 60_000, 'provider / observed'],
    [60 * 60_000, 'address']
  ])

  /** The TTL class of an address of the API: its name when the API names it, else the go class of its TTL. */
  function ttlClass(address) {
    if (address.ttlName !== undefined) return address.ttlName
    if (address.ttl === null) return 'never expires'
    return TTL_CLASSES.get(address.ttl) ?? `${formatAge(address.ttl)} TTL`
  }

  function timeLeft(expiresAt, now) {
    if (expiresAt === null) return 'never'
    const left = expiresAt - now
    return left <= 0 ? 'expired' : formatAge(left)
  }

  const shortId = (id) => (id.length > 16 ? `${id.slice(0, 6)}…${id.slice(-6)}` : id)

  globalThis.PeerscopeFormat = {
    formatBytes,
    formatRate,
    formatAge,
    formatMs,
    byteTicks,
    numberTicks,
    niceTop,
    byteIncrements,
    countIncrements,
    decimalIncrements,
    ttlClass,
    timeLeft,
    shortId,
    unitIndex
  }
})()
