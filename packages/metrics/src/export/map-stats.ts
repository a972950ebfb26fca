import type { MetricMap } from '@peerscope/metric-map'
import { OVERFLOW_PEER, type Stats } from '../bandwidth-counter.ts'
import { SEP } from '../series.ts'
import type { StatsSource } from './bandwidth-families.ts'

const FIELD: Record<string, keyof Stats> = {
  bi: 'totalIn',
  bo: 'totalOut',
  pi: 'packetsIn',
  po: 'packetsOut',
  ri: 'rateIn',
  ro: 'rateOut'
}

const PAIR_PREFIX = `peerProtocol${SEP}`

/** A map key taken apart; `kind` undefined for a key the exposition does not read. */
interface ParsedKey {
  kind: string | undefined
  name: string
  field: keyof Stats
  /** The last read that met the key. */
  seen: number
}

/** Keys taken apart by earlier reads of the same map, which hands back the same key strings while they last. */
interface ParseCache {
  keys: Map<string, ParsedKey>
  reads: number
}

const caches = new WeakMap<MetricMap, ParseCache>()

function zero(): Stats {
  return { totalIn: 0, totalOut: 0, packetsIn: 0, packetsOut: 0, rateIn: 0, rateOut: 0 }
}

function parse(key: string, seen: number): ParsedKey {
  const first = key.indexOf(SEP)
  const last = key.lastIndexOf(SEP)
  const field = first < 0 || last <= first ? undefined : FIELD[key.slice(last + 1)]
  if (field === undefined) return { kind: undefined, name: '', field: 'totalIn', seen }
  return { kind: key.slice(0, first), name: key.slice(first + 1, last), field, seen }
}

/**
 * The bandwidth figures read back from the counter map alone (keys `<kind>\0<name>\0<field>`), one pass over
 * it: what a worker thread sees of a `BandwidthCounter` whose map is shared. Rates are the ones the counter
 * published at its last sweep. A map read again (a worker, at every scrape) has its keys taken apart once.
 */
export function statsFromMap(map: MetricMap): StatsSource {
  let cache = caches.get(map)
  if (cache === undefined) {
    cache = { keys: new Map(), reads: 0 }
    caches.set(map, cache)
  }
  const read = ++cache.reads
  const byKind = new Map<string, Map<string, Stats>>()
  let present = 0
  for (const [key, value] of map.entries()) {
    // Half the keys are (peer, protocol) pairs, which the exposition never reads: not even kept.
    if (key.startsWith(PAIR_PREFIX)) continue
    present++
    let parsed = cache.keys.get(key)
    if (parsed === undefined) {
      parsed = parse(key, read)
      cache.keys.set(key, parsed)
    } else parsed.seen = read
    const { kind, name, field } = parsed
    if (kind === undefined) continue
    let series = byKind.get(kind)
    if (series === undefined) {
      series = new Map()
      byKind.set(kind, series)
    }
    let stats = series.get(name)
    if (stats === undefined) {
      stats = zero()
      series.set(name, stats)
    }
    stats[field] = field === 'rateIn' || field === 'rateOut' ? value / 1000 : value
  }
  // Keys gone from the map leave the cache once they outnumber the present ones.
  if (cache.keys.size > 2 * present + 1024) {
    for (const [key, parsed] of cache.keys) if (parsed.seen !== read) cache.keys.delete(key)
  }
  const of = (kind: string): Map<string, Stats> => byKind.get(kind) ?? new Map()
  const peers = of('peer')
  return {
    totals: () => of('total').get('total') ?? zero(),
    byPeer: () => peers,
    byProtocol: () => of('protocol'),
    byConnection: () => of('connection'),
    trackedPeers: peers.size - (peers.has(OVERFLOW_PEER) ? 1 : 0)
  }
}
