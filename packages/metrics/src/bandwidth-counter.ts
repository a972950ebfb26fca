// The bandwidth counter: one class over one private table of series (per peer, protocol, peer and protocol,
// connection). The counting path, the reads, the rate sweep and the trimming all work on that table, so they stay
// together here; what needs no access to it lives apart: the channels' batching (channels.ts), one series and its
// map counters (series.ts), the meters (rate.ts) and the busiest-peer ranking (peer-ranking.ts). That is why it is
// about 600 lines: what is left here all reads or writes the table.
import { LocalMetricMap, type MetricMap } from '@peerscope/metric-map'
import { type Channel, PendingChannels } from './channels.ts'
import { assertSize, MetricsError } from './errors.ts'
import { PeerRanking } from './peer-ranking.ts'
import { MIN_SWEEP_INTERVAL_MS, rateOf, sweepMeter, UNREGISTERED } from './rate.ts'
import { type Kind, SEP, SERIES_FIELDS, Series, SeriesCells } from './series.ts'

/** go-libp2p's `Stats`, plus packets (messages) beside bytes, as in the seed. Rates are bytes per second. */
export interface Stats {
  totalIn: number
  totalOut: number
  packetsIn: number
  packetsOut: number
  rateIn: number
  rateOut: number
}

/** The busiest peers, and the bytes of every peer summed, read without a `Stats` object per peer. */
export interface BusiestPeers {
  /** At most `limit` peers (the overflow bucket among them if it ranks), most bytes in + out first, ties by id. */
  busiest: Array<[peer: string, stats: Stats]>
  /** Peer series in all, the overflow bucket included. */
  peers: number
  /** Bytes of every peer series, the overflow bucket included. */
  bytesIn: number
  bytesOut: number
}

export interface BandwidthCounterInit {
  /** Epoch ms; injectable so tests drive rates with a virtual clock. */
  clock?: () => number
  /**
   * Most distinct peers tracked one by one (default 10,000). Bytes of further peers are counted under
   * `OVERFLOW_PEER`, so a stream of millions of distinct peers cannot grow memory without bound.
   */
  maxPeers?: number
  /**
   * A map that receives every count as well (`<kind>\0<series>\0<field>` keys): a `SharedMetricMap` lets a worker
   * read them. Without one, the counter keeps its figures alone and makes a `LocalMetricMap` the first time its
   * `map` is read.
   */
  map?: MetricMap
  /**
   * Also write each series' rates into the map at every sweep (as milli-bytes per second, fields `ri`/`ro`),
   * so a reader of the map alone (a worker exporting Prometheus text) sees them. Default: on for a map given
   * in `map`, off otherwise.
   */
  publishRates?: boolean
}

export interface Attribution {
  peer?: string
  protocol?: string
}

export type { Channel } from './channels.ts'

/** The peer key under which peers beyond `maxPeers` are counted together. */
export const OVERFLOW_PEER = '(overflow)'
export const DEFAULT_MAX_PEERS = 10_000

/**
 * Bytes and packets in and out: totals, per peer, per protocol, per (peer, protocol) and per connection.
 * Totals are exact at every moment; rates follow go-flow-metrics on a one-second sweep (`tick()`, driven by
 * `start()` or by the caller). Reads never create entries; `trimIdle` really removes idle series.
 *
 * The sweep visits only the series that saw events since the previous one (and, when rates are published to a
 * map, those whose rates are still decaying): an idle series costs it nothing, and its rate decays when read.
 */
export class BandwidthCounter {
  #map: MetricMap | undefined
  readonly #clock: () => number
  readonly #maxPeers: number
  readonly #publishRates: boolean
  readonly #peers = new Map<string, Series>()
  readonly #protocols = new Map<string, Series>()
  readonly #connections = new Map<string, Series>()
  readonly #ranking = new PeerRanking()
  /** Bytes of every peer series (the overflow bucket included), kept as they are counted. */
  #peerBytesIn = 0
  #peerBytesOut = 0
  readonly #total: Series
  readonly #overflowSeries: Series
  /** Set when a fixed-size map refused a new series; cleared when a series is dropped and frees room. */
  #mapFull = false
  /** Sweeps done (skipped ones not counted): the clock of every series' `sweptAt`. */
  #sweeps = 0
  #lastSweep: number
  #timer: ReturnType<typeof setInterval> | undefined
  /** Series with events since the last sweep (the first `#queuedCount` slots), kept at capacity between sweeps. */
  readonly #queue: Array<Series | undefined> = []
  #queuedCount = 0
  /** With published rates: the series whose meters are registered, swept every time until they go idle. */
  #listed: Series[] = []
  /** Channels holding counts not yet handed to the counter. */
  readonly #pending = new PendingChannels()

  constructor(init: BandwidthCounterInit = {}) {
    const maxPeers = init.maxPeers ?? DEFAULT_MAX_PEERS
    if (!Number.isSafeInteger(maxPeers) || maxPeers < 1) {
      throw new MetricsError(
        'ERR_INVALID_OPTIONS',
        `maxPeers must be a positive integer, got ${String(maxPeers)}`
      )
    }
    this.#clock = init.clock ?? Date.now
    this.#maxPeers = maxPeers
    this.#publishRates = init.publishRates ?? init.map !== undefined
    // Published rates need a map to be published to from the first sweep on.
    this.#map = init.map ?? (this.#publishRates ? new LocalMetricMap() : undefined)
    this.#lastSweep = this.#clock()
    this.#total = this.#makeSeries('total', 'total', undefined)
    // Made now, so it exists even when a fixed-size map is full later; listed once it carries bytes.
    this.#overflowSeries = this.#makeSeries('peer', OVERFLOW_PEER, undefined)
  }

  /**
   * The map holding the counters (`<kind>\0<series>\0<field>` keys); a worker may read a shared one. A counter
   * made without one makes a `LocalMetricMap` here, the first time, and writes every count to it from then on.
   */
  get map(): MetricMap {
    this.flush()
    if (this.#map === undefined) {
      const map = new LocalMetricMap()
      this.#map = map
      for (const s of this.#allSeries()) {
        s.cells = new SeriesCells(map, s.key, this.#publishRates)
        s.cells.take(s)
      }
    }
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
    return this.#pending.channel((bytesIn, packetsIn, bytesOut, packetsOut) => {
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
    let series = this.#connection(connectionId)
    return this.#pending.channel((bytesIn, packetsIn, bytesOut, packetsOut) => {
      if (series === undefined || !series.live) series = this.#connection(connectionId)
      if (series !== undefined) this.#addSeries(series, bytesIn, packetsIn, bytesOut, packetsOut)
    })
  }

  /**
   * Adds the counts every channel gathered since the last flush to the counter. Runs by itself at the end of each
   * task that saw events and before every read; call it before reading the map from elsewhere in the same task.
   */
  flush(): void {
    this.#pending.flush()
  }

  // --- reads (never create an entry) ------------------------------------------------------------------

  totals(): Stats {
    this.flush()
    return this.#stats(this.#total)
  }

  forPeer(peer: string): Stats | undefined {
    this.flush()
    return this.#statsOf(this.#peers.get(peer))
  }

  forProtocol(protocol: string): Stats | undefined {
    this.flush()
    return this.#statsOf(this.#protocols.get(protocol))
  }

  forPeerProtocol(peer: string, protocol: string): Stats | undefined {
    this.flush()
    return this.#statsOf(this.#peers.get(peer)?.pair(protocol))
  }

  forConnection(connectionId: string): Stats | undefined {
    this.flush()
    return this.#statsOf(this.#connections.get(connectionId))
  }

  byPeer(): Map<string, Stats> {
    this.flush()
    return this.#collect(this.#peers)
  }

  byProtocol(): Map<string, Stats> {
    this.flush()
    return this.#collect(this.#protocols)
  }

  /** Per peer, its protocols. */
  byPeerProtocol(): Map<string, Map<string, Stats>> {
    this.flush()
    const out = new Map<string, Map<string, Stats>>()
    for (const [peer, s] of this.#peers) {
      if (s.pairs === undefined || s.pairs.length === 0) continue
      out.set(peer, new Map(s.pairs.map((pair) => [pair.name, this.#stats(pair)])))
    }
    return out
  }

  byConnection(): Map<string, Stats> {
    this.flush()
    return this.#collect(this.#connections)
  }

  /** The wire bytes and packets of every connection summed (rates summed too). */
  connectionTotals(): Stats {
    this.flush()
    const sum: Stats = { totalIn: 0, totalOut: 0, packetsIn: 0, packetsOut: 0, rateIn: 0, rateOut: 0 }
    for (const s of this.#connections.values()) {
      s.catchUp(this.#sweeps)
      sum.totalIn += s.bytesIn
      sum.totalOut += s.bytesOut
      sum.packetsIn += s.packetsIn
      sum.packetsOut += s.packetsOut
      sum.rateIn += rateOf(s.meterIn)
      sum.rateOut += rateOf(s.meterOut)
    }
    return sum
  }

  /**
   * The `limit` peers with most bytes in + out (ties by peer id), and the bytes of all peers summed: what a
   * scrape with per-peer labels needs, in one pass over the peers with no object made per peer.
   */
  busiestPeers(limit: number): BusiestPeers {
    this.flush()
    // The peers counted since the last sweep; the sweeps handed over the ones before.
    for (let i = 0; i < this.#queuedCount; i++) {
      const s = this.#queue[i] as Series
      if (s.kind === 'peer' && s.live) this.#ranking.grew(s)
    }
    const top = this.#ranking.top(limit, () => this.#peers.values())
    return {
      busiest: top.map((s) => [s.name, this.#stats(s)]),
      peers: this.#peers.size,
      bytesIn: this.#peerBytesIn,
      bytesOut: this.#peerBytesOut
    }
  }

  /** Distinct peers tracked one by one (the overflow bucket not included). */
  get trackedPeers(): number {
    this.flush()
    return this.#tracked()
  }

  // --- rates, trimming --------------------------------------------------------------------------------

  /**
   * One go-flow-metrics sweep; skipped when the previous one was <= 100 ms ago. Only series with events since the
   * previous sweep are visited (and, with published rates, those still decaying); the others' meters see no bytes
   * and are decayed by the same steps when next read.
   */
  tick(): void {
    this.flush()
    const now = this.#clock()
    const elapsed = now - this.#lastSweep
    if (elapsed <= MIN_SWEEP_INTERVAL_MS) return
    this.#lastSweep = now
    const sweep = ++this.#sweeps
    const queue = this.#queue
    for (let i = 0; i < this.#queuedCount; i++) {
      const s = queue[i] as Series
      queue[i] = undefined
      s.queued = false
      if (!s.live) continue
      if (s.kind === 'peer') this.#ranking.grew(s)
      s.catchUp(sweep - 1)
      const flowedIn = s.pendingIn
      const flowedOut = s.pendingOut
      s.pendingIn = 0
      s.pendingOut = 0
      s.meterIn = sweepMeter(s.meterIn, flowedIn, elapsed)
      s.meterOut = sweepMeter(s.meterOut, flowedOut, elapsed)
      s.sweptAt = sweep
      if (flowedIn > 0 || flowedOut > 0) s.lastActive = now
      if (this.#publishRates && !s.listed && s.cells !== undefined) {
        s.listed = true
        this.#listed.push(s)
      }
    }
    this.#queuedCount = 0
    if (this.#publishRates) this.#publishListed(sweep)
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
   * Removes every peer, protocol, pair and connection series that saw no bytes since `since` (clock ms, as of
   * the sweeps); a peer's pairs go with it. Returns how many were removed. Totals are kept. (go-flow-metrics'
   * TrimIdle removes nothing.)
   */
  trimIdle(since: number): number {
    this.flush()
    // Found first, dropped after: dropping edits the tables being walked.
    const going: Series[] = []
    for (const s of this.#peers.values()) {
      if (s !== this.#overflowSeries && s.lastActive < since) going.push(s)
      else if (s.pairs !== undefined)
        for (const pair of s.pairs) if (pair.lastActive < since) going.push(pair)
    }
    for (const table of [this.#protocols, this.#connections]) {
      for (const s of table.values()) if (s.lastActive < since) going.push(s)
    }
    let removed = 0
    for (const s of going) removed += this.#drop(s)
    return removed
  }

  /** Zeroes everything: totals, series, rates. */
  reset(): void {
    this.flush()
    for (const s of [...this.#peers.values(), ...this.#protocols.values(), ...this.#connections.values()]) {
      if (s !== this.#overflowSeries) this.#drop(s)
    }
    const overflowPairs = this.#overflowSeries.pairs ?? []
    this.#overflowSeries.pairs = undefined
    for (const pair of overflowPairs) this.#drop(pair)
    this.#peers.delete(OVERFLOW_PEER)
    this.#ranking.invalidate()
    this.#peerBytesIn = this.#peerBytesOut = 0
    for (const s of [this.#overflowSeries, this.#total]) {
      s.bytesIn = s.bytesOut = s.packetsIn = s.packetsOut = s.pendingIn = s.pendingOut = 0
      s.meterIn = s.meterOut = UNREGISTERED
      s.sweptAt = this.#sweeps
      s.lastActive = this.#clock()
      const cells = s.cells
      if (cells === undefined) continue
      for (const h of [cells.bytesIn, cells.bytesOut, cells.packetsIn, cells.packetsOut]) h.add(-h.get())
      for (const h of [cells.ratesIn, cells.ratesOut]) h?.add(-h.get())
      cells.publishedIn = cells.publishedOut = 0
    }
    for (let i = 0; i < this.#queuedCount; i++) (this.#queue[i] as Series).queued = false
    this.#queue.fill(undefined, 0, this.#queuedCount)
    this.#queuedCount = 0
    for (const s of this.#listed) s.listed = false
    this.#listed = []
    this.#lastSweep = this.#clock()
  }

  // --- internals --------------------------------------------------------------------------------------

  /** The listed series' published rates, kept current; series whose meters went idle leave the list. */
  #publishListed(sweep: number): void {
    const listed = this.#listed
    let kept = 0
    for (let i = 0; i < listed.length; i++) {
      const s = listed[i] as Series
      if (!s.live || s.cells === undefined) {
        s.listed = false
        continue
      }
      s.catchUp(sweep)
      s.cells.publish(s.meterIn, s.meterOut)
      if (s.registered) listed[kept++] = s
      else s.listed = false
    }
    listed.length = kept
  }

  #add(series: Series[], bytes: number, direction: 'in' | 'out'): void {
    this.flush() // keeps the order of counts the same as the order of events
    for (const s of series) {
      if (direction === 'in') this.#addSeries(s, bytes, 1, 0, 0)
      else this.#addSeries(s, 0, 0, bytes, 1)
    }
  }

  #addSeries(s: Series, bytesIn: number, packetsIn: number, bytesOut: number, packetsOut: number): void {
    const cells = s.cells
    if (s.kind === 'peer') {
      this.#peerBytesIn += bytesIn
      this.#peerBytesOut += bytesOut
    }
    if (packetsIn > 0) {
      s.bytesIn += bytesIn
      s.packetsIn += packetsIn
      s.pendingIn += bytesIn
      if (cells !== undefined) {
        cells.bytesIn.increment(bytesIn)
        cells.packetsIn.increment(packetsIn)
      }
    }
    if (packetsOut > 0) {
      s.bytesOut += bytesOut
      s.packetsOut += packetsOut
      s.pendingOut += bytesOut
      if (cells !== undefined) {
        cells.bytesOut.increment(bytesOut)
        cells.packetsOut.increment(packetsOut)
      }
    }
    if (!s.queued) {
      s.queued = true
      this.#queue[this.#queuedCount++] = s
    }
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

  /**
   * The series an attribution counts in. A peer beyond `maxPeers`, or one a full fixed-size (shared) map has no
   * room for, counts in the overflow peer; a protocol or pair with no room is left out: the bytes then count in
   * the totals and the overflow peer only, never lost and never an exception on the stream's hot path.
   */
  #seriesFor({ peer, protocol }: Attribution): Series[] {
    const series = [this.#total]
    let peerSeries: Series | undefined
    if (peer !== undefined) {
      peerSeries = peer === OVERFLOW_PEER ? this.#overflow() : this.#peers.get(peer)
      if (peerSeries === undefined && this.#tracked() < this.#maxPeers)
        peerSeries = this.#create(this.#peers, 'peer', peer, undefined)
      peerSeries ??= this.#overflow()
      series.push(peerSeries)
    }
    if (protocol !== undefined) {
      const protocolSeries =
        this.#protocols.get(protocol) ?? this.#create(this.#protocols, 'protocol', protocol, undefined)
      if (protocolSeries !== undefined) series.push(protocolSeries)
      if (peerSeries !== undefined) {
        const pair =
          peerSeries.pair(protocol) ?? this.#create(undefined, 'peerProtocol', protocol, peerSeries)
        if (pair !== undefined) series.push(pair)
      }
    }
    return series
  }

  #connection(connectionId: string): Series | undefined {
    return (
      this.#connections.get(connectionId) ??
      this.#create(this.#connections, 'connection', connectionId, undefined)
    )
  }

  /** The overflow peer's series, made with the counter so it exists even when the map is full. */
  #overflow(): Series {
    if (!this.#peers.has(OVERFLOW_PEER)) {
      this.#peers.set(OVERFLOW_PEER, this.#overflowSeries)
      this.#ranking.grew(this.#overflowSeries)
    }
    return this.#overflowSeries
  }

  /**
   * A new series in `table` (a pair: in its peer's list), or `undefined` when a fixed-size map has no room for
   * its counters. Once the map is full only existing series are found: no failed insert (and its exception) per
   * event.
   */
  #create(
    table: Map<string, Series> | undefined,
    kind: Kind,
    name: string,
    owner: Series | undefined
  ): Series | undefined {
    if (this.#mapFull) return undefined
    let s: Series
    try {
      s = this.#makeSeries(kind, name, owner)
    } catch (err) {
      if ((err as { code?: string }).code !== 'ERR_METRIC_MAP_FULL') throw err
      this.#mapFull = true
      return undefined
    }
    if (owner !== undefined) {
      owner.pairs ??= []
      owner.pairs.push(s)
    } else table?.set(name, s)
    if (kind === 'peer') this.#ranking.grew(s) // it ranks (last, with no bytes) from now on
    return s
  }

  #makeSeries(kind: Kind | 'total', name: string, owner: Series | undefined): Series {
    const s = new Series(kind, name, owner, this.#sweeps, this.#clock())
    if (this.#map !== undefined) s.cells = new SeriesCells(this.#map, s.key, this.#publishRates)
    return s
  }

  /** Removes a series (a peer with its pairs) and its map counters; returns how many series went. */
  #drop(s: Series): number {
    let removed = 1
    const pairs = s.pairs ?? []
    s.pairs = undefined // so dropping them does not edit the list being walked
    for (const pair of pairs) removed += this.#drop(pair)
    this.#mapFull = false
    s.live = false
    if (s.owner !== undefined) {
      const siblings = s.owner.pairs
      const at = siblings?.indexOf(s) ?? -1
      if (at >= 0) siblings?.splice(at, 1)
    } else if (s.kind === 'peer') {
      this.#peers.delete(s.name)
      this.#ranking.dropped(s)
      this.#peerBytesIn -= s.bytesIn
      this.#peerBytesOut -= s.bytesOut
    } else if (s.kind === 'protocol') this.#protocols.delete(s.name)
    else if (s.kind === 'connection') this.#connections.delete(s.name)
    if (s.cells !== undefined) {
      const key = s.key
      for (const field of SERIES_FIELDS) this.#map?.delete(`${key}${SEP}${field}`)
      s.cells = undefined
    }
    return removed
  }

  /** Every series, pairs and the (possibly unlisted) overflow bucket included. */
  *#allSeries(): Iterable<Series> {
    yield this.#total
    if (!this.#peers.has(OVERFLOW_PEER)) yield this.#overflowSeries
    for (const s of this.#peers.values()) {
      yield s
      yield* s.pairs ?? []
    }
    yield* this.#protocols.values()
    yield* this.#connections.values()
  }

  #tracked(): number {
    return this.#peers.size - (this.#peers.has(OVERFLOW_PEER) ? 1 : 0)
  }

  #collect(table: Map<string, Series>): Map<string, Stats> {
    const out = new Map<string, Stats>()
    for (const [name, s] of table) out.set(name, this.#stats(s))
    return out
  }

  #statsOf(s: Series | undefined): Stats | undefined {
    return s === undefined ? undefined : this.#stats(s)
  }

  #stats(s: Series): Stats {
    s.catchUp(this.#sweeps)
    return {
      totalIn: s.bytesIn,
      totalOut: s.bytesOut,
      packetsIn: s.packetsIn,
      packetsOut: s.packetsOut,
      rateIn: rateOf(s.meterIn),
      rateOut: rateOf(s.meterOut)
    }
  }
}
