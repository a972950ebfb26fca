// The bandwidth counter: one class over one private table of series (per peer, protocol, peer and protocol,
// connection) and their counter handles. The counting path (channels), the reads and the rate sweep all work on
// that table; split into modules they would need it public. That is why this file is a little over 500 lines.
import { type CounterHandle, LocalMetricMap, type MetricMap } from '@peerscope/metric-map'
import { assertSize, MetricsError } from './errors.ts'
import { MIN_SWEEP_INTERVAL_MS, RateMeter } from './rate.ts'

/** go-libp2p's `Stats`, plus packets (messages) beside bytes, as in the seed. Rates are bytes per second. */
export interface Stats {
  totalIn: number
  totalOut: number
  packetsIn: number
  packetsOut: number
  rateIn: number
  rateOut: number
}

export interface BandwidthCounterInit {
  /** Epoch ms; injectable so tests drive rates with a virtual clock. */
  clock?: () => number
  /**
   * Most distinct peers tracked one by one (default 10,000). Bytes of further peers are counted under
   * `OVERFLOW_PEER`, so a stream of millions of distinct peers cannot grow memory without bound.
   */
  maxPeers?: number
  /** Where the counters live: a `LocalMetricMap` by default; a `SharedMetricMap` lets a worker read them. */
  map?: MetricMap
  /**
   * Also write each series' rates into the map at every sweep (as milli-bytes per second, fields `ri`/`ro`),
   * so a reader of the map alone (a worker exporting Prometheus text) sees them. Default: on for a map given
   * in `map`, off for the default local map.
   */
  publishRates?: boolean
}

export interface Attribution {
  peer?: string
  protocol?: string
}

/**
 * A stream's counters resolved once. An event only adds to two numbers held by the channel; they reach the map at
 * the end of the current task (one microtask for every channel that saw events in it), or at once when anything
 * reads the counter, so the figures stay exact at every moment while a burst of small messages costs one map
 * write per counter, not one per message.
 */
export interface Channel {
  sent(bytes: number): void
  received(bytes: number): void
}

/** The peer key under which peers beyond `maxPeers` are counted together. */
export const OVERFLOW_PEER = '(overflow)'
export const DEFAULT_MAX_PEERS = 10_000

type Kind = 'peer' | 'protocol' | 'peerProtocol' | 'connection'

/** One series: the totals, or one peer, protocol, (peer, protocol) pair or connection. */
interface Series {
  readonly key: string
  readonly kind: Kind | 'total'
  readonly name: string
  readonly protocol: string | undefined
  readonly bytesIn: CounterHandle
  readonly bytesOut: CounterHandle
  readonly packetsIn: CounterHandle
  readonly packetsOut: CounterHandle
  readonly rateIn: RateMeter
  readonly rateOut: RateMeter
  /** Published rates (milli-bytes/s) when `publishRates` is on, and the values last written there. */
  readonly publishedIn: CounterHandle | undefined
  readonly publishedOut: CounterHandle | undefined
  lastPublishedIn: number
  lastPublishedOut: number
  /** Clock time of the last sweep that saw bytes, or of creation. */
  lastActive: number
  /** False once trimmed or reset: channels holding it resolve again. */
  live: boolean
}

/** Separates kind, name and field in map keys; peer ids and protocol ids never contain it. */
export const SEP = '\u0000'
/** The map fields of one series: bytes and packets in and out, published rates in and out. */
export const SERIES_FIELDS = ['bi', 'bo', 'pi', 'po', 'ri', 'ro'] as const

/**
 * Writes a rate into a map counter as whole milli-bytes per second (the map holds integers) and returns what it
 * wrote. Only this thread writes published rates, so the last value is known without reading the map back, and
 * an unchanged rate (an idle series) costs no write.
 */
function publish(handle: CounterHandle, rate: number, last: number): number {
  const value = Math.round(rate * 1000)
  if (value !== last) handle.add(value - last)
  return value
}

/**
 * Bytes and packets in and out: totals, per peer, per protocol, per (peer, protocol) and per connection.
 * Totals are exact at every moment; rates follow go-flow-metrics on a one-second sweep (`tick()`, driven by
 * `start()` or by the caller). Reads never create entries; `trimIdle` really removes idle series.
 */
export class BandwidthCounter {
  readonly #map: MetricMap
  readonly #clock: () => number
  readonly #maxPeers: number
  readonly #publishRates: boolean
  readonly #series = new Map<string, Series>()
  readonly #total: Series
  readonly #overflowSeries: Series
  #peers = 0
  /** Set when a fixed-size map refused a new series; cleared when a series is dropped and frees room. */
  #mapFull = false
  #lastSweep: number
  #timer: ReturnType<typeof setInterval> | undefined
  /**
   * Channels holding counts not yet in the map (the first `#unflushedCount` slots), and whether a microtask will
   * add them. The array keeps its capacity between flushes: emptying it with `length = 0` would free its backing
   * store, and every task's first event would then allocate a new one (garbage on the per-message path).
   */
  readonly #unflushed: Array<(() => void) | undefined> = []
  #unflushedCount = 0
  #flushQueued = false

  constructor(init: BandwidthCounterInit = {}) {
    const maxPeers = init.maxPeers ?? DEFAULT_MAX_PEERS
    if (!Number.isSafeInteger(maxPeers) || maxPeers < 1) {
      throw new MetricsError(
        'ERR_INVALID_OPTIONS',
        `maxPeers must be a positive integer, got ${String(maxPeers)}`
      )
    }
    this.#map = init.map ?? new LocalMetricMap()
    this.#clock = init.clock ?? Date.now
    this.#maxPeers = maxPeers
    this.#publishRates = init.publishRates ?? init.map !== undefined
    this.#lastSweep = this.#clock()
    this.#total = this.#resolve('total', 'total', undefined)
    // Made now, so it exists even when a fixed-size map is full later; listed once it carries bytes.
    this.#overflowSeries = this.#makeSeries('peer', OVERFLOW_PEER, undefined)
  }

  /** The map holding the counters (`<kind>\0<series>\0<field>` keys); a worker may read a shared one. */
  get map(): MetricMap {
    this.flush()
    return this.#map
  }

  // --- writes ---------------------------------------------------------------------------------------

  logSent(bytes: number, attribution: Attribution = {}): void {
    assertSize(bytes)
    this.#add(this.#seriesFor(attribution), bytes, 'out')
  }

  logReceived(bytes: number, attribution: Attribution = {}): void {
    assertSize(bytes)
    this.#add(this.#seriesFor(attribution), bytes, 'in')
  }

  /**
   * Counters for one stream (or connection) resolved once. The peer may be unknown at first (`undefined`) and
   * given later through a new channel. Events on the channel count in the totals and in each given series.
   */
  channel(attribution: Attribution = {}): Channel {
    let series = this.#seriesFor(attribution)
    // Indexed loops: this runs once per stream per task, and a callback or an iterator would be garbage each time.
    return this.#pendingChannel((bytesIn, packetsIn, bytesOut, packetsOut) => {
      for (let i = 0; i < series.length; i++) {
        if (!(series[i] as Series).live) {
          series = this.#reresolve(attribution)
          break
        }
      }
      for (let i = 0; i < series.length; i++)
        this.#addSeries(series[i] as Series, bytesIn, packetsIn, bytesOut, packetsOut)
    })
  }

  /**
   * Wire bytes of one connection (not in the totals: those count stream payload, as go-libp2p's do). A full
   * fixed-size map has no room for a new connection series: its wire bytes are then not kept, and nothing throws.
   */
  connectionChannel(connectionId: string): Channel {
    let series = this.#tryResolve('connection', connectionId, undefined)
    return this.#pendingChannel((bytesIn, packetsIn, bytesOut, packetsOut) => {
      if (series === undefined || !series.live)
        series = this.#tryResolve('connection', connectionId, undefined)
      if (series !== undefined) this.#addSeries(series, bytesIn, packetsIn, bytesOut, packetsOut)
    })
  }

  /**
   * Adds the counts every channel gathered since the last flush to the map. Runs by itself at the end of each
   * task that saw events and before every read; call it before reading the map from elsewhere in the same task.
   */
  flush(): void {
    const unflushed = this.#unflushed
    // A flush never queues another channel, so the list only shrinks here. Each slot is cleared as it is taken
    // (no closure of a closed stream is kept), and one that throws leaves the rest for the next flush.
    for (let i = 0; i < this.#unflushedCount; i++) {
      const flushOne = unflushed[i]
      unflushed[i] = undefined
      flushOne?.()
    }
    this.#unflushedCount = 0
  }

  // --- reads (never create an entry) ------------------------------------------------------------------

  totals(): Stats {
    this.flush()
    return this.#stats(this.#total)
  }

  forPeer(peer: string): Stats | undefined {
    this.flush()
    return this.#read('peer', peer)
  }

  forProtocol(protocol: string): Stats | undefined {
    this.flush()
    return this.#read('protocol', protocol)
  }

  forPeerProtocol(peer: string, protocol: string): Stats | undefined {
    this.flush()
    return this.#read('peerProtocol', `${peer}${SEP}${protocol}`)
  }

  forConnection(connectionId: string): Stats | undefined {
    this.flush()
    return this.#read('connection', connectionId)
  }

  byPeer(): Map<string, Stats> {
    this.flush()
    return this.#collect('peer')
  }

  byProtocol(): Map<string, Stats> {
    this.flush()
    return this.#collect('protocol')
  }

  /** Per peer, its protocols. */
  byPeerProtocol(): Map<string, Map<string, Stats>> {
    this.flush()
    const out = new Map<string, Map<string, Stats>>()
    for (const s of this.#series.values()) {
      if (s.kind !== 'peerProtocol') continue
      const [peer = '', protocol = ''] = s.name.split(SEP)
      const inner = out.get(peer) ?? new Map<string, Stats>()
      out.set(peer, inner)
      inner.set(protocol, this.#stats(s))
    }
    return out
  }

  byConnection(): Map<string, Stats> {
    this.flush()
    return this.#collect('connection')
  }

  /** Distinct peers tracked one by one (the overflow bucket not included). */
  get trackedPeers(): number {
    this.flush()
    return this.#peers
  }

  // --- rates, trimming --------------------------------------------------------------------------------

  /** One go-flow-metrics sweep over every series; skipped when the previous one was <= 100 ms ago. */
  tick(): void {
    this.flush()
    const now = this.#clock()
    const elapsed = now - this.#lastSweep
    if (elapsed <= MIN_SWEEP_INTERVAL_MS) return
    this.#lastSweep = now
    for (const s of this.#series.values()) {
      const flowedIn = s.rateIn.sweep(s.bytesIn.get(), elapsed)
      const flowedOut = s.rateOut.sweep(s.bytesOut.get(), elapsed)
      if (flowedIn || flowedOut) s.lastActive = now
      if (s.publishedIn !== undefined && s.publishedOut !== undefined) {
        s.lastPublishedIn = publish(s.publishedIn, s.rateIn.rate, s.lastPublishedIn)
        s.lastPublishedOut = publish(s.publishedOut, s.rateOut.rate, s.lastPublishedOut)
      }
    }
  }

  /** Sweeps every `intervalMs` (1 s, as go-flow-metrics) on an unref'd timer until `stop()`. */
  start(intervalMs = 1000): void {
    this.stop()
    this.#lastSweep = this.#clock()
    this.#timer = setInterval(() => this.tick(), intervalMs)
    this.#timer.unref?.() // a number in browsers, with nothing to unref
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
  }

  /**
   * Removes every peer, protocol, pair and connection series that saw no bytes since `since` (clock ms).
   * Returns how many were removed. Totals are kept. (go-flow-metrics' TrimIdle removes nothing.)
   */
  trimIdle(since: number): number {
    this.flush()
    let removed = 0
    for (const s of [...this.#series.values()]) {
      if (s.kind === 'total' || s === this.#overflowSeries || s.lastActive >= since) continue
      this.#drop(s)
      removed++
    }
    return removed
  }

  /** Zeroes everything: totals, series, rates. */
  reset(): void {
    this.flush()
    for (const s of [...this.#series.values()])
      if (s.kind !== 'total' && s !== this.#overflowSeries) this.#drop(s)
    this.#series.delete(this.#overflowSeries.key)
    for (const h of [
      this.#overflowSeries.bytesIn,
      this.#overflowSeries.bytesOut,
      this.#overflowSeries.packetsIn,
      this.#overflowSeries.packetsOut
    ]) {
      h.add(-h.get())
    }
    this.#overflowSeries.rateIn.reset(0)
    this.#overflowSeries.rateOut.reset(0)
    for (const h of [this.#overflowSeries.publishedIn, this.#overflowSeries.publishedOut]) h?.add(-h.get())
    this.#overflowSeries.lastPublishedIn = 0
    this.#overflowSeries.lastPublishedOut = 0
    for (const h of [
      this.#total.bytesIn,
      this.#total.bytesOut,
      this.#total.packetsIn,
      this.#total.packetsOut
    ]) {
      h.add(-h.get())
    }
    this.#total.rateIn.reset(0)
    this.#total.rateOut.reset(0)
    for (const h of [this.#total.publishedIn, this.#total.publishedOut]) h?.add(-h.get())
    this.#total.lastPublishedIn = 0
    this.#total.lastPublishedOut = 0
    this.#lastSweep = this.#clock()
  }

  // --- internals --------------------------------------------------------------------------------------

  #add(series: Series[], bytes: number, direction: 'in' | 'out'): void {
    this.flush() // keeps the order of counts the same as the order of events
    for (const s of series) {
      if (direction === 'in') this.#addSeries(s, bytes, 1, 0, 0)
      else this.#addSeries(s, 0, 0, bytes, 1)
    }
  }

  #addSeries(s: Series, bytesIn: number, packetsIn: number, bytesOut: number, packetsOut: number): void {
    if (packetsIn > 0) {
      s.bytesIn.increment(bytesIn)
      s.packetsIn.increment(packetsIn)
    }
    if (packetsOut > 0) {
      s.bytesOut.increment(bytesOut)
      s.packetsOut.increment(packetsOut)
    }
  }

  /**
   * A channel gathering its counts in plain numbers; `apply` adds them to the map. The first event after a flush
   * puts the channel on the list and makes sure a microtask will flush it.
   */
  #pendingChannel(
    apply: (bytesIn: number, packetsIn: number, bytesOut: number, packetsOut: number) => void
  ): Channel {
    let bytesIn = 0
    let packetsIn = 0
    let bytesOut = 0
    let packetsOut = 0
    let listed = false
    const flushOne = (): void => {
      listed = false
      // Zeroed before `apply`, so a flush that throws part-way never hands the same counts over twice.
      const inBytes = bytesIn
      const inPackets = packetsIn
      const outBytes = bytesOut
      const outPackets = packetsOut
      bytesIn = packetsIn = bytesOut = packetsOut = 0
      apply(inBytes, inPackets, outBytes, outPackets)
    }
    const list = (): void => {
      listed = true
      this.#unflushed[this.#unflushedCount++] = flushOne
      if (!this.#flushQueued) {
        this.#flushQueued = true
        queueMicrotask(this.#flushTask)
      }
    }
    return {
      sent: (bytes) => {
        assertSize(bytes)
        bytesOut += bytes
        packetsOut++
        if (!listed) list()
      },
      received: (bytes) => {
        assertSize(bytes)
        bytesIn += bytes
        packetsIn++
        if (!listed) list()
      }
    }
  }

  readonly #flushTask = (): void => {
    this.#flushQueued = false
    this.flush()
  }

  /**
   * Resolves a channel's series again after a trim or reset dropped one. It resolved once already, so only an
   * unexpected map error can fail it; the counts then go to the totals alone rather than throw in a microtask.
   */
  #reresolve(attribution: Attribution): Series[] {
    try {
      return this.#seriesFor(attribution)
    } catch {
      return [this.#total]
    }
  }

  #seriesFor({ peer, protocol }: Attribution): Series[] {
    const series = [this.#total]
    let peerName = peer
    if (peerName !== undefined) {
      if (!this.#series.has(`peer${SEP}${peerName}`) && this.#peers >= this.#maxPeers)
        peerName = OVERFLOW_PEER
      const peerSeries = this.#tryResolve('peer', peerName, undefined)
      if (peerSeries === undefined) peerName = OVERFLOW_PEER
      series.push(peerSeries ?? this.#overflow())
    }
    if (protocol !== undefined) {
      const protocolSeries = this.#tryResolve('protocol', protocol, protocol)
      if (protocolSeries !== undefined) series.push(protocolSeries)
      if (peerName !== undefined) {
        const pair = this.#tryResolve('peerProtocol', `${peerName}${SEP}${protocol}`, protocol)
        if (pair !== undefined) series.push(pair)
      }
    }
    return series
  }

  /**
   * A series, or `undefined` when a fixed-size (shared) map has no room for another: the bytes then count in
   * the totals and the overflow peer only, never lost and never an exception on the stream's hot path.
   */
  #tryResolve(kind: Kind, name: string, protocol: string | undefined): Series | undefined {
    // Once the map is full, only existing series are found: no failed insert (and its exception) per event.
    if (this.#mapFull) return this.#series.get(`${kind}${SEP}${name}`)
    try {
      return this.#resolve(kind, name, protocol)
    } catch (err) {
      if ((err as { code?: string }).code !== 'ERR_METRIC_MAP_FULL') throw err
      this.#mapFull = true
      return undefined
    }
  }

  /** The overflow peer's series, created with the counter so it exists even when the map is full. */
  #overflow(): Series {
    this.#series.set(this.#overflowSeries.key, this.#overflowSeries)
    return this.#overflowSeries
  }

  #resolve(kind: Series['kind'], name: string, protocol: string | undefined): Series {
    if (kind === 'peer' && name === OVERFLOW_PEER) return this.#overflow()
    const key = `${kind}${SEP}${name}`
    let s = this.#series.get(key)
    if (s !== undefined) return s
    s = this.#makeSeries(kind, name, protocol)
    this.#series.set(key, s)
    if (kind === 'peer') this.#peers++
    return s
  }

  #makeSeries(kind: Series['kind'], name: string, protocol: string | undefined): Series {
    const key = `${kind}${SEP}${name}`
    return {
      key,
      kind,
      name,
      protocol,
      bytesIn: this.#map.handle(`${key}${SEP}bi`),
      bytesOut: this.#map.handle(`${key}${SEP}bo`),
      packetsIn: this.#map.handle(`${key}${SEP}pi`),
      packetsOut: this.#map.handle(`${key}${SEP}po`),
      rateIn: new RateMeter(),
      rateOut: new RateMeter(),
      publishedIn: this.#publishRates ? this.#map.handle(`${key}${SEP}ri`) : undefined,
      publishedOut: this.#publishRates ? this.#map.handle(`${key}${SEP}ro`) : undefined,
      lastPublishedIn: 0,
      lastPublishedOut: 0,
      lastActive: this.#clock(),
      live: true
    }
  }

  #drop(s: Series): void {
    this.#mapFull = false
    s.live = false
    this.#series.delete(s.key)
    for (const field of SERIES_FIELDS) this.#map.delete(`${s.key}${SEP}${field}`)
    if (s.kind === 'peer') this.#peers--
  }

  #read(kind: Kind, name: string): Stats | undefined {
    const s = this.#series.get(`${kind}${SEP}${name}`)
    return s === undefined ? undefined : this.#stats(s)
  }

  #collect(kind: Kind): Map<string, Stats> {
    const out = new Map<string, Stats>()
    for (const s of this.#series.values()) if (s.kind === kind) out.set(s.name, this.#stats(s))
    return out
  }

  #stats(s: Series): Stats {
    return {
      totalIn: s.bytesIn.get(),
      totalOut: s.bytesOut.get(),
      packetsIn: s.packetsIn.get(),
      packetsOut: s.packetsOut.get(),
      rateIn: s.rateIn.rate,
      rateOut: s.rateOut.rate
    }
  }
}
