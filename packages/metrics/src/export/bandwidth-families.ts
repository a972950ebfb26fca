import { type BusiestPeers, OVERFLOW_PEER, type Stats } from '../bandwidth-counter.ts'
import { busiest } from './busiest.ts'
import type { Family, Sample } from './exposition.ts'

export interface PrometheusOptions {
  /** Export per-peer series (`peer` label). Off by default: peer ids are unbounded label values. */
  perPeer?: boolean
  /** With `perPeer`, the peers with most bytes that get their own series; the rest are summed as `other`. */
  maxPeerLabels?: number
}

export const DEFAULT_MAX_PEER_LABELS = 100

/** What the exposition reads: a `BandwidthCounter`, or the same figures read back from a shared map. */
export interface StatsSource {
  totals(): Stats
  byPeer(): Map<string, Stats>
  byProtocol(): Map<string, Stats>
  byConnection(): Map<string, Stats>
  readonly trackedPeers: number
  /** The busiest peers and every peer's bytes summed, without a `Stats` per peer; else read from `byPeer()`. */
  busiestPeers?(limit: number): BusiestPeers
  /** Every connection summed, without a `Stats` per connection; else summed from `byConnection()`. */
  connectionTotals?(): Stats
}

/** `busiestPeers` from `byPeer()`, for a source without its own. */
export function rankPeers(peers: Map<string, Stats>, limit: number): BusiestPeers {
  let bytesIn = 0
  let bytesOut = 0
  for (const s of peers.values()) {
    bytesIn += s.totalIn
    bytesOut += s.totalOut
  }
  const top = busiest(
    peers,
    limit,
    ([, s]) => s.totalIn + s.totalOut,
    ([peer]) => peer
  )
  return { busiest: top, peers: peers.size, bytesIn, bytesOut }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function directional(
  stats: Stats,
  pick: 'bytes' | 'packets' | 'rate',
  labels: Record<string, string>
): Sample[] {
  const [inValue, outValue] =
    pick === 'bytes'
      ? [stats.totalIn, stats.totalOut]
      : pick === 'packets'
        ? [stats.packetsIn, stats.packetsOut]
        : [stats.rateIn, stats.rateOut]
  return [
    { labels: { ...labels, direction: 'in' }, value: inValue },
    { labels: { ...labels, direction: 'out' }, value: outValue }
  ]
}

function sum(list: Stats[]): Stats {
  const total: Stats = { totalIn: 0, totalOut: 0, packetsIn: 0, packetsOut: 0, rateIn: 0, rateOut: 0 }
  for (const s of list) {
    total.totalIn += s.totalIn
    total.totalOut += s.totalOut
    total.packetsIn += s.packetsIn
    total.packetsOut += s.packetsOut
    total.rateIn += s.rateIn
    total.rateOut += s.rateOut
  }
  return total
}

/** The bandwidth counter as Prometheus families: counters for totals, gauges for rates and current sizes. */
export function bandwidthFamilies(counter: StatsSource, options: PrometheusOptions = {}): Family[] {
  const totals = counter.totals()
  // Sorted, so the text is the same whoever renders it (the node's thread or a worker reading the map).
  const protocols = [...counter.byProtocol()].sort(([a], [b]) => compare(a, b))
  const families: Family[] = [
    {
      name: 'libp2p_transfer_bytes_total',
      help: 'Stream payload bytes, all peers and protocols',
      type: 'counter',
      samples: directional(totals, 'bytes', {})
    },
    {
      name: 'libp2p_transfer_packets_total',
      help: 'Stream payload messages (sends and received chunks)',
      type: 'counter',
      samples: directional(totals, 'packets', {})
    },
    {
      name: 'libp2p_transfer_rate_bytes_per_second',
      help: 'Stream payload rate, EWMA over 1 s sweeps as go-flow-metrics',
      type: 'gauge',
      samples: directional(totals, 'rate', {})
    },
    {
      name: 'libp2p_protocol_transfer_bytes_total',
      help: 'Stream payload bytes by protocol',
      type: 'counter',
      samples: protocols.flatMap(([protocol, stats]) => directional(stats, 'bytes', { protocol }))
    },
    {
      name: 'libp2p_protocol_transfer_packets_total',
      help: 'Stream payload messages by protocol',
      type: 'counter',
      samples: protocols.flatMap(([protocol, stats]) => directional(stats, 'packets', { protocol }))
    },
    {
      name: 'libp2p_connection_wire_bytes_total',
      help: 'Bytes on the wire of all connections, handshakes and muxer framing included',
      type: 'counter',
      samples: directional(
        counter.connectionTotals?.() ?? sum([...counter.byConnection().values()]),
        'bytes',
        {}
      )
    },
    {
      name: 'libp2p_bandwidth_tracked_peers',
      help: 'Peers whose bandwidth is tracked one by one (the rest share an overflow bucket)',
      type: 'gauge',
      samples: [{ value: counter.trackedPeers }]
    }
  ]
  if (options.perPeer === true) {
    const limit = options.maxPeerLabels ?? DEFAULT_MAX_PEER_LABELS
    // The first `limit` peers by bytes get a label, except the overflow bucket; every other peer (the overflow
    // bucket included) is summed as `other`.
    const ranking = counter.busiestPeers?.(limit) ?? rankPeers(counter.byPeer(), limit)
    const top = ranking.busiest.filter(([peer]) => peer !== OVERFLOW_PEER)
    const samples = top.flatMap(([peer, stats]) => directional(stats, 'bytes', { peer }))
    if (ranking.peers > top.length) {
      const labelled = sum(top.map(([, s]) => s))
      samples.push(
        { labels: { peer: 'other', direction: 'in' }, value: ranking.bytesIn - labelled.totalIn },
        { labels: { peer: 'other', direction: 'out' }, value: ranking.bytesOut - labelled.totalOut }
      )
    }
    families.push({
      name: 'libp2p_peer_transfer_bytes_total',
      help: `Stream payload bytes by peer (the ${limit} busiest; the rest as peer="other")`,
      type: 'counter',
      samples
    })
  }
  return families
}
