import { peerIdFromString } from '@libp2p/peer-id'
import type { LastGc, LevelPeerStore } from '@peerscope/peerstore-level'
import { SCALAR_FIELDS, type ScalarField } from '../history/tier.ts'
import type {
  BandwidthStats,
  HistoryPage,
  HistoryQuery,
  PeerHistoryPage,
  PeerscopeView
} from '../http/view.ts'
import { OFFLINE, peerDetail, peerPage, peerStoreStats } from './peer-store-view.ts'

const ZERO: BandwidthStats = { totalIn: 0, totalOut: 0, packetsIn: 0, packetsOut: 0, rateIn: 0, rateOut: 0 }

/**
 * The view of a stored database with no node running (`peerscope serve`): the peer store is all there is, so
 * bandwidth reads as zero, there are no connections, and `/metrics` carries the peer store gauges only.
 */
export function offlineView(
  store: LevelPeerStore,
  lastGc: () => LastGc | undefined = () => undefined
): PeerscopeView {
  return {
    node: () => null,
    bandwidthTotals: () => ({ ...ZERO }),
    bandwidthByPeer: () => ({}),
    bandwidthForPeer: () => undefined,
    bandwidthByProtocol: () => ({}),
    bandwidthForProtocol: () => undefined,
    connections: () => [],
    peers: async (query) => peerPage(store, query, OFFLINE),
    peer: async (id) => {
      const detail = peerDetail(store, peerIdFromString(id), OFFLINE)
      return detail === undefined
        ? undefined
        : { ...detail, bandwidth: null, protocolBandwidth: {}, connections: [] }
    },
    peerStoreStats: async () => peerStoreStats(store, lastGc()),
    prometheus: async () => peerStoreGauges(peerStoreStats(store, lastGc())),
    history: emptyHistory,
    peerHistory: emptyPeerHistory
  }
}

/** A history with no samples: what a database without a running node (or a node with history off) has. */
export function emptyHistory(query: HistoryQuery): HistoryPage {
  return {
    resolution: query.resolution,
    intervalMs: 0,
    capacity: 0,
    t: [],
    totals: Object.fromEntries(SCALAR_FIELDS.map((f) => [f, []])) as unknown as Record<ScalarField, []>,
    protocols: [],
    peers: [],
    gcs: []
  }
}

export function emptyPeerHistory(peerId: string, query: Omit<HistoryQuery, 'peers'>): PeerHistoryPage {
  return {
    peerId,
    resolution: query.resolution,
    intervalMs: 0,
    t: [],
    rateIn: [],
    rateOut: [],
    latencyMs: [],
    protocols: []
  }
}

/** Prometheus text for the peer store figures; shared by the offline view and the live node's exposition. */
export function peerStoreGauges(stats: ReturnType<typeof peerStoreStats>): string {
  const lines = [
    '# HELP libp2p_peerstore_peers Peers in the peerscope peer store (the local peer excluded).',
    '# TYPE libp2p_peerstore_peers gauge',
    `libp2p_peerstore_peers ${stats.peers}`,
    '# HELP libp2p_peerstore_addresses Unexpired addresses in the peerscope peer store.',
    '# TYPE libp2p_peerstore_addresses gauge',
    `libp2p_peerstore_addresses ${stats.addresses}`,
    '# HELP libp2p_peerstore_pinned_peers Peers pinned against GC.',
    '# TYPE libp2p_peerstore_pinned_peers gauge',
    `libp2p_peerstore_pinned_peers ${stats.pinnedPeers}`
  ]
  // The last address GC, once one has run (a gauge of 0 before it would read as a GC that removed nothing).
  const gc = stats.lastGc
  if (gc !== null) {
    const gauge = (name: string, help: string, value: number) =>
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${value}`)
    gauge(
      'libp2p_peerstore_gc_last_run_timestamp_seconds',
      'When the last address GC of the peer store started (unix seconds).',
      gc.at / 1000
    )
    gauge(
      'libp2p_peerstore_gc_last_duration_seconds',
      'How long the last address GC took, its slices and the pauses between them included.',
      gc.durationMs / 1000
    )
    gauge(
      'libp2p_peerstore_gc_last_removed_addresses',
      'Expired addresses the last address GC removed.',
      gc.addressesRemoved
    )
    gauge(
      'libp2p_peerstore_gc_last_removed_peers',
      'Peers the last address GC removed (unpinned, with no address and no tag left).',
      gc.peersRemoved
    )
  }
  return `${lines.join('\n')}\n`
}
