// One series of the bandwidth counter (the totals, a peer, a protocol, a (peer, protocol) pair or a connection):
// its exact counts, its two rate meters and, when the counter writes to a map, the map counters it mirrors.
import type { CounterHandle, MetricMap } from '@peerscope/metric-map'
import { decayMeter, rateOf, UNREGISTERED } from './rate.ts'

export type Kind = 'peer' | 'protocol' | 'peerProtocol' | 'connection'

/** Separates kind, name and field in map keys; peer ids and protocol ids never contain it. */
export const SEP = '\u0000'
/** The map fields of one series: bytes and packets in and out, published rates in and out. */
export const SERIES_FIELDS = ['bi', 'bo', 'pi', 'po', 'ri', 'ro'] as const

/**
 * The map counters of one series, `<kind>\0<name>\0<field>`, and its published rates (milli-bytes/s, `ri`/`ro`)
 * when the counter publishes them.
 */
export class SeriesCells {
  readonly bytesIn: CounterHandle
  readonly bytesOut: CounterHandle
  readonly packetsIn: CounterHandle
  readonly packetsOut: CounterHandle
  readonly ratesIn: CounterHandle | undefined
  readonly ratesOut: CounterHandle | undefined
  publishedIn = 0
  publishedOut = 0

  /** Throws what the map throws (`ERR_METRIC_MAP_FULL` from a full fixed-size map). */
  constructor(map: MetricMap, prefix: string, publishRates: boolean) {
    this.bytesIn = map.handle(`${prefix}${SEP}bi`)
    this.bytesOut = map.handle(`${prefix}${SEP}bo`)
    this.packetsIn = map.handle(`${prefix}${SEP}pi`)
    this.packetsOut = map.handle(`${prefix}${SEP}po`)
    this.ratesIn = publishRates ? map.handle(`${prefix}${SEP}ri`) : undefined
    this.ratesOut = publishRates ? map.handle(`${prefix}${SEP}ro`) : undefined
  }

  /** Adds a series' counts so far (cells made for a series that already counted). */
  take(s: Series): void {
    this.bytesIn.add(s.bytesIn)
    this.bytesOut.add(s.bytesOut)
    this.packetsIn.add(s.packetsIn)
    this.packetsOut.add(s.packetsOut)
  }

  /**
   * Writes the rates of two meter states as whole milli-bytes per second (the map holds integers). Only this
   * thread writes published rates, so the last value is known without reading the map back, and an unchanged
   * rate costs no write.
   */
  publish(meterIn: number, meterOut: number): void {
    const rateIn = Math.round(rateOf(meterIn) * 1000)
    if (rateIn !== this.publishedIn) this.ratesIn?.add(rateIn - this.publishedIn)
    this.publishedIn = rateIn
    const rateOut = Math.round(rateOf(meterOut) * 1000)
    if (rateOut !== this.publishedOut) this.ratesOut?.add(rateOut - this.publishedOut)
    this.publishedOut = rateOut
  }
}

/**
 * A series. The counts are the counter's own figures (exact at every moment once the channels are flushed); a
 * map, when there is one, receives the same additions. Rates are current as of sweep number `sweptAt`: a series
 * that saw no bytes is not visited by the sweep, and its meters are decayed when it is next read or swept.
 */
export class Series {
  readonly kind: Kind | 'total'
  /** Peer id, protocol id, connection id or 'total'; for a pair, the protocol (the peer is `owner`). */
  readonly name: string
  /** A pair's peer series. */
  readonly owner: Series | undefined
  bytesIn = 0
  bytesOut = 0
  packetsIn = 0
  packetsOut = 0
  /** Bytes counted since the last sweep: what the next sweep turns into instant rates. */
  pendingIn = 0
  pendingOut = 0
  /** Meter states (see `rate.ts`). */
  meterIn = UNREGISTERED
  meterOut = UNREGISTERED
  sweptAt: number
  /** Clock time of the last sweep that saw bytes, or of creation. */
  lastActive: number
  /** False once trimmed or reset: channels holding it resolve again. */
  live = true
  /** On the counter's list of series with events since the last sweep. */
  queued = false
  /** On the counter's list of series whose published rates the sweep keeps current. */
  listed = false
  /** A peer among the busiest its counter keeps (see `PeerRanking`). */
  ranked = false
  cells: SeriesCells | undefined
  /** A peer's (peer, protocol) pairs: a peer has a few protocols, so a short list beats a map per peer. */
  pairs: Series[] | undefined

  constructor(kind: Kind | 'total', name: string, owner: Series | undefined, sweep: number, now: number) {
    this.kind = kind
    this.name = name
    this.owner = owner
    this.sweptAt = sweep
    this.lastActive = now
  }

  /** `<kind>\0<name>` as in map keys (a pair: `peerProtocol\0<peer>\0<protocol>`). */
  get key(): string {
    const name = this.owner === undefined ? this.name : `${this.owner.name}${SEP}${this.name}`
    return `${this.kind}${SEP}${name}`
  }

  /** Applies the sweeps since `sweptAt` up to `sweep`, none of which saw bytes of this series. */
  catchUp(sweep: number): void {
    const missed = sweep - this.sweptAt
    if (missed <= 0) return
    this.sweptAt = sweep
    if (this.meterIn !== UNREGISTERED) this.meterIn = decayMeter(this.meterIn, missed)
    if (this.meterOut !== UNREGISTERED) this.meterOut = decayMeter(this.meterOut, missed)
  }

  get registered(): boolean {
    return this.meterIn !== UNREGISTERED || this.meterOut !== UNREGISTERED
  }

  pair(protocol: string): Series | undefined {
    const pairs = this.pairs
    if (pairs === undefined) return undefined
    for (let i = 0; i < pairs.length; i++) if ((pairs[i] as Series).name === protocol) return pairs[i]
    return undefined
  }
}
