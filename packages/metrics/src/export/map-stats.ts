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

function zero(): Stats {
  return { totalIn: 0, totalOut: 0, packetsIn: 0, packetsOut: 0, rateIn: 0, rateOut: 0 }
}

/**
 * The bandwidth figures read back from the counter map alone (keys `<kind>\0<name>\0<field>`), one pass over
 * it: what a worker thread sees of a `BandwidthCounter` whose map is shared. Rates are the ones the counter
 * published at its last sweep.
 */
export function statsFromMap(map: MetricMap): StatsSource {
  const byKind = new Map<string, Map<string, Stats>>()
  for (const [key, value] of map.entries()) {
    // Half the keys are (peer, protocol) pairs, which the exposition never reads: skipped before any slicing.
    if (key.startsWith(PAIR_PREFIX)) continue
    const first = key.indexOf(SEP)
    const last = key.lastIndexOf(SEP)
    if (first < 0 || last <= first) continue
    const field = FIELD[key.slice(last + 1)]
    if (field === undefined) continue
    const kind = key.slice(0, first)
    const name = key.slice(first + 1, last)
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
