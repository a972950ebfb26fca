import { KeyTable } from './key-table.ts'
import {
  type PeerEntry,
  type RateEntry,
  type Sample,
  SCALAR_FIELDS,
  type ScalarField,
  type Scalars,
  Tier,
  type TierShape
} from './tier.ts'

export interface HistoryTierOptions {
  /** ms between samples */
  intervalMs?: number
  /** samples kept */
  samples?: number
}

export interface HistoryOptions {
  /** Default one sample a second for an hour. */
  fine?: HistoryTierOptions
  /** Default one sample a minute for a day (means of the fine samples); its interval is a multiple of fine's. */
  coarse?: HistoryTierOptions
  /** Busiest peers kept per sample (default 10). */
  topPeers?: number
  /** Busiest protocols kept per sample (default 12). */
  topProtocols?: number
  /** Busiest protocols of each kept peer (default 3). */
  peerProtocols?: number
  /** Distinct peer and protocol ids held at once (default 4096); entries beyond are left out of samples. */
  maxKeys?: number
  /** Longest id kept, in characters (default 256; peer ids are about 52). */
  maxKeyLength?: number
}

export const DEFAULT_HISTORY = Object.freeze({
  fine: Object.freeze({ intervalMs: 1000, samples: 3600 }),
  coarse: Object.freeze({ intervalMs: 60_000, samples: 1440 }),
  topPeers: 10,
  topProtocols: 12,
  peerProtocols: 3,
  maxKeys: 4096,
  maxKeyLength: 256
})

/** GC runs remembered for the peer store chart. */
export const MAX_GC_EVENTS = 256

export class HistoryOptionsError extends Error {
  readonly code = 'ERR_INVALID_HISTORY_OPTIONS'

  constructor(message: string) {
    super(message)
    this.name = 'HistoryOptionsError'
  }
}

export type Resolution = 'fine' | 'coarse'

export interface HistoryQuery {
  resolution: Resolution
  /** Only samples strictly newer than this (epoch ms); 0 for all. */
  since: number
  /** Busiest peer series returned (ranked over the samples returned). */
  peers: number
  protocols: number
}

export type Column = Array<number | null>

export interface RateSeries {
  id: string
  rateIn: Column
  rateOut: Column
}

export interface PeerSeries extends RateSeries {
  latencyMs: Column
}

export interface GcEvent {
  at: number
  durationMs: number
  peersRemoved: number
  addressesRemoved: number
}

/** Columns over time: `t[i]` is the time of the i-th value of every column; `null` where nothing was known. */
export interface HistoryPage {
  resolution: Resolution
  intervalMs: number
  capacity: number
  t: number[]
  totals: Record<ScalarField, Column>
  protocols: RateSeries[]
  peers: PeerSeries[]
  gcs: GcEvent[]
}

export interface PeerHistoryPage {
  peerId: string
  resolution: Resolution
  intervalMs: number
  t: number[]
  /** `null` where the peer was not among the busiest of that sample. */
  rateIn: Column
  rateOut: Column
  latencyMs: Column
  protocols: RateSeries[]
}

function whole(name: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new HistoryOptionsError(`history.${name} must be an integer from ${min} to ${max}, got ${value}`)
  }
  return value
}

interface Resolved {
  fine: { intervalMs: number; samples: number }
  coarse: { intervalMs: number; samples: number }
  shape: Omit<TierShape, 'samples'>
  maxKeys: number
  maxKeyLength: number
}

function resolve(options: HistoryOptions): Resolved {
  const d = DEFAULT_HISTORY
  const fine = {
    intervalMs: whole('fine.intervalMs', options.fine?.intervalMs ?? d.fine.intervalMs, 100, 3_600_000),
    samples: whole('fine.samples', options.fine?.samples ?? d.fine.samples, 1, 1_000_000)
  }
  const coarse = {
    intervalMs: whole(
      'coarse.intervalMs',
      options.coarse?.intervalMs ?? d.coarse.intervalMs,
      100,
      86_400_000
    ),
    samples: whole('coarse.samples', options.coarse?.samples ?? d.coarse.samples, 1, 1_000_000)
  }
  if (coarse.intervalMs % fine.intervalMs !== 0 || coarse.intervalMs <= fine.intervalMs) {
    throw new HistoryOptionsError(
      `history.coarse.intervalMs (${coarse.intervalMs}) must be a multiple of history.fine.intervalMs ` +
        `(${fine.intervalMs}) and larger`
    )
  }
  return {
    fine,
    coarse,
    shape: {
      topPeers: whole('topPeers', options.topPeers ?? d.topPeers, 0, 256),
      topProtocols: whole('topProtocols', options.topProtocols ?? d.topProtocols, 0, 256),
      peerProtocols: whole('peerProtocols', options.peerProtocols ?? d.peerProtocols, 0, 64)
    },
    maxKeys: whole('maxKeys', options.maxKeys ?? d.maxKeys, 1, 1_000_000),
    maxKeyLength: whole('maxKeyLength', options.maxKeyLength ?? d.maxKeyLength, 1, 1024)
  }
}

/** Throws `HistoryOptionsError` for options `new History()` would refuse. */
export function validateHistoryOptions(options: HistoryOptions): void {
  resolve(options)
}

const round = (v: number): number => (Math.abs(v) >= 1000 ? Math.round(v) : Math.round(v * 1000) / 1000)
const roundOrNull = (v: number | null): number | null => (v === null ? null : round(v))

/**
 * The node's recent past, in two rings: `fine` (default 1 s for 1 h) and `coarse` (default 1 min for 24 h,
 * each sample the mean of the fine samples of its minute). Memory is bounded by `History.memoryBound(options)`:
 * the rings are typed arrays allocated up front, and the ids they refer to are held by a bounded `KeyTable`.
 */
export class History {
  readonly fine: Tier
  readonly coarse: Tier
  readonly keys: KeyTable
  readonly #resolved: Resolved
  readonly #gcs: GcEvent[] = []
  #bucket: number | undefined
  #pending: Sample[] = []

  constructor(options: HistoryOptions = {}) {
    const r = resolve(options)
    this.#resolved = r
    this.keys = new KeyTable(r.maxKeys, r.maxKeyLength)
    this.fine = new Tier({ ...r.shape, samples: r.fine.samples }, r.fine.intervalMs, this.keys)
    this.coarse = new Tier({ ...r.shape, samples: r.coarse.samples }, r.coarse.intervalMs, this.keys)
  }

  /** Most bytes a history with these options holds: both rings, the key table and the minute being built. */
  static memoryBound(options: HistoryOptions = {}): number {
    const r = resolve(options)
    const rings =
      Tier.bytes({ ...r.shape, samples: r.fine.samples }) +
      Tier.bytes({ ...r.shape, samples: r.coarse.samples })
    // The minute being built holds at most one coarse interval of fine samples (their ids are shared strings).
    const perPending = 400 + 64 * (r.shape.topProtocols + r.shape.topPeers * (2 + r.shape.peerProtocols))
    const pending = (r.coarse.intervalMs / r.fine.intervalMs) * perPending
    return rings + KeyTable.bound(r.maxKeys, r.maxKeyLength) + pending + MAX_GC_EVENTS * 96
  }

  get options(): Readonly<Resolved> {
    return this.#resolved
  }

  /**
   * Records one fine sample, and the coarse one for the previous interval once a sample of a new one arrives.
   * Returns false (and keeps nothing) for a sample not newer than the last one: the columns stay in time order
   * even if the wall clock steps back.
   */
  record(sample: Sample): boolean {
    if (!(sample.t > this.fine.lastTime)) return false
    const trimmed = this.#trim(sample)
    this.fine.push(trimmed)
    const bucket = Math.floor(sample.t / this.coarse.intervalMs)
    if (this.#bucket !== undefined && bucket !== this.#bucket) this.#closeBucket()
    this.#bucket = bucket
    this.#pending.push(trimmed)
    return true
  }

  recordGc(event: GcEvent): void {
    if (this.#gcs.at(-1)?.at === event.at) return
    this.#gcs.push(event)
    if (this.#gcs.length > MAX_GC_EVENTS) this.#gcs.shift()
  }

  #trim(sample: Sample): Sample {
    const { topPeers, topProtocols, peerProtocols } = this.#resolved.shape
    return {
      t: sample.t,
      scalars: sample.scalars,
      protocols: busiest(sample.protocols, topProtocols),
      peers: busiest(sample.peers, topPeers).map((p) => ({
        ...p,
        protocols: busiest(p.protocols, peerProtocols)
      }))
    }
  }

  #closeBucket(): void {
    const samples = this.#pending
    this.#pending = []
    if (samples.length === 0 || this.#bucket === undefined) return
    this.coarse.push(this.#trim(meanSample(samples, this.#bucket * this.coarse.intervalMs)))
  }

  query(query: HistoryQuery): HistoryPage {
    const tier = query.resolution === 'fine' ? this.fine : this.coarse
    const slots = tier.slotsSince(query.since)
    const totals = Object.fromEntries(
      SCALAR_FIELDS.map((field, i) => [field, slots.map((slot) => roundOrNull(tier.scalar(slot, i)))])
    ) as Record<ScalarField, Column>

    const protocolSums = new Map<string, number>()
    const peerSums = new Map<string, number>()
    for (const slot of slots) {
      tier.eachProtocol(slot, (key, i, o) => protocolSums.set(key, (protocolSums.get(key) ?? 0) + i + o))
      tier.eachPeer(slot, (key, i, o) => peerSums.set(key, (peerSums.get(key) ?? 0) + i + o))
    }
    const protocolIds = ranked(protocolSums, query.protocols)
    const peerIds = ranked(peerSums, query.peers)

    const protocols = new Map(protocolIds.map((id) => [id, rateSeries(id, slots.length)]))
    const peers = new Map(
      peerIds.map((id) => [id, { ...rateSeries(id, slots.length), latencyMs: nulls(slots.length) }])
    )
    slots.forEach((slot, n) => {
      tier.eachProtocol(slot, (key, i, o) => {
        const series = protocols.get(key)
        if (series === undefined) return
        series.rateIn[n] = round(i)
        series.rateOut[n] = round(o)
      })
      tier.eachPeer(slot, (key, i, o, latency) => {
        const series = peers.get(key)
        if (series === undefined) return
        series.rateIn[n] = round(i)
        series.rateOut[n] = round(o)
        series.latencyMs[n] = roundOrNull(latency)
      })
    })
    return {
      resolution: query.resolution,
      intervalMs: tier.intervalMs,
      capacity: tier.capacity,
      t: slots.map((slot) => tier.time(slot)),
      totals,
      protocols: [...protocols.values()],
      peers: [...peers.values()],
      gcs: this.#gcs.filter((gc) => gc.at > query.since)
    }
  }

  /** The history of one peer: `null` where it was not among the busiest peers of the sample. */
  peer(peerId: string, query: Omit<HistoryQuery, 'peers'>): PeerHistoryPage {
    const tier = query.resolution === 'fine' ? this.fine : this.coarse
    const slots = tier.slotsSince(query.since)
    const keyId = this.keys.id(peerId)
    const page: PeerHistoryPage = {
      peerId,
      resolution: query.resolution,
      intervalMs: tier.intervalMs,
      t: slots.map((slot) => tier.time(slot)),
      rateIn: nulls(slots.length),
      rateOut: nulls(slots.length),
      latencyMs: nulls(slots.length),
      protocols: []
    }
    const indexes = slots.map((slot) => tier.findPeer(slot, keyId))
    const sums = new Map<string, number>()
    for (const index of indexes) {
      if (index !== -1)
        tier.eachPeerProtocol(index, (key, i, o) => sums.set(key, (sums.get(key) ?? 0) + i + o))
    }
    const protocols = new Map(ranked(sums, query.protocols).map((id) => [id, rateSeries(id, slots.length)]))
    indexes.forEach((index, n) => {
      if (index === -1) return
      const values = tier.peerValues(index)
      page.rateIn[n] = round(values.rateIn)
      page.rateOut[n] = round(values.rateOut)
      page.latencyMs[n] = roundOrNull(values.latencyMs)
      tier.eachPeerProtocol(index, (key, i, o) => {
        const series = protocols.get(key)
        if (series === undefined) return
        series.rateIn[n] = round(i)
        series.rateOut[n] = round(o)
      })
    })
    page.protocols = [...protocols.values()]
    return page
  }
}

const nulls = (n: number): Column => new Array<number | null>(n).fill(null)
const rateSeries = (id: string, n: number): RateSeries => ({ id, rateIn: nulls(n), rateOut: nulls(n) })

function ranked(sums: Map<string, number>, limit: number): string[] {
  return [...sums]
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, limit)
    .map(([id]) => id)
}

function busiest<T extends RateEntry>(entries: readonly T[], limit: number): T[] {
  if (entries.length <= limit && entries.every((e) => e.rateIn + e.rateOut > 0)) return [...entries]
  return entries
    .filter((e) => e.rateIn + e.rateOut > 0)
    .sort((a, b) => b.rateIn + b.rateOut - (a.rateIn + a.rateOut) || (a.key < b.key ? -1 : 1))
    .slice(0, limit)
}

const MEAN_FIELDS = new Set<ScalarField>([
  'rateIn',
  'rateOut',
  'connections',
  'inbound',
  'outbound',
  'streams',
  'latencyMs'
])

/** One coarse sample from the fine samples of its interval: means of rates and gauges, sums of counts. */
function meanSample(samples: Sample[], t: number): Sample {
  const n = samples.length
  const scalars = {} as Scalars
  for (const field of SCALAR_FIELDS) {
    const known = samples.map((s) => s.scalars[field]).filter((v): v is number => v !== null)
    if (known.length === 0) scalars[field] = null
    else if (field === 'streamsOpened') scalars[field] = known.reduce((a, b) => a + b, 0)
    else if (MEAN_FIELDS.has(field)) scalars[field] = known.reduce((a, b) => a + b, 0) / known.length
    else scalars[field] = known.at(-1) ?? null
  }
  const protocols = meanRates(
    samples.map((s) => s.protocols),
    n
  )
  const peers = new Map<string, { entries: PeerEntry[] }>()
  for (const s of samples) {
    for (const p of s.peers) {
      const acc = peers.get(p.key) ?? { entries: [] }
      acc.entries.push(p)
      peers.set(p.key, acc)
    }
  }
  return {
    t,
    scalars,
    protocols,
    peers: [...peers].map(([key, { entries }]) => {
      const rates = meanRates([entries.map((e) => ({ key, rateIn: e.rateIn, rateOut: e.rateOut }))], n)[0]
      const latencies = entries.map((e) => e.latencyMs).filter((v): v is number => v !== null)
      return {
        key,
        rateIn: rates?.rateIn ?? 0,
        rateOut: rates?.rateOut ?? 0,
        latencyMs: latencies.length === 0 ? null : latencies.reduce((a, b) => a + b, 0) / latencies.length,
        protocols: meanRates(
          entries.map((e) => e.protocols),
          n
        )
      }
    })
  }
}

/** Per key, the mean rate over `n` samples, a sample without the key counting as 0. */
function meanRates(lists: RateEntry[][], n: number): RateEntry[] {
  const sums = new Map<string, [number, number]>()
  for (const list of lists) {
    for (const e of list) {
      const sum = sums.get(e.key) ?? [0, 0]
      sum[0] += e.rateIn
      sum[1] += e.rateOut
      sums.set(e.key, sum)
    }
  }
  return [...sums].map(([key, [i, o]]) => ({ key, rateIn: i / n, rateOut: o / n }))
}
