import type { Connection, PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PeerscopeMetrics, Stats } from '@peerscope/metrics'
import type { LastGc, LevelPeerStore } from '@peerscope/peerstore-level'
import type { BandwidthStats, ConnectionView, PeerscopeView } from '../http/view.ts'
import { peerStoreGauges } from './offline-view.ts'
import { type LiveFacts, peerDetail, peerPage, peerStoreStats } from './peer-store-view.ts'

export interface LiveSources {
  peerId: PeerId
  addresses(): string[]
  agent: string
  connections(): Connection[]
  store(): Promise<LevelPeerStore>
  /** Our metrics when the node uses them; without them bandwidth reads as zero. */
  metrics: PeerscopeMetrics | undefined
  lastGc(): LastGc | undefined
}

const ZERO: BandwidthStats = { totalIn: 0, totalOut: 0, packetsIn: 0, packetsOut: 0, rateIn: 0, rateOut: 0 }

function record(map: Map<string, Stats>): Record<string, BandwidthStats> {
  return Object.fromEntries(map)
}

/** The view of a running node: its metrics, its connections and its peer store. */
export function liveView(sources: LiveSources): PeerscopeView {
  const bandwidth = sources.metrics?.bandwidth
  const live: LiveFacts = {
    isConnected: (peer) => sources.connections().some((c) => c.remotePeer.equals(peer))
  }
  return {
    node: () => ({ peerId: sources.peerId.toString(), addresses: sources.addresses(), agent: sources.agent }),
    bandwidthTotals: () => bandwidth?.totals() ?? { ...ZERO },
    bandwidthByPeer: () => (bandwidth === undefined ? {} : record(bandwidth.byPeer())),
    bandwidthForPeer: (peer) => bandwidth?.forPeer(peer),
    bandwidthByProtocol: () => (bandwidth === undefined ? {} : record(bandwidth.byProtocol())),
    bandwidthForProtocol: (protocol) => bandwidth?.forProtocol(protocol),
    connections: () =>
      sources.connections().map((c): ConnectionView => {
        const wire = bandwidth?.forConnection(c.id)
        return {
          id: c.id,
          peerId: c.remotePeer.toString(),
          remoteAddr: c.remoteAddr.toString(),
          direction: c.direction,
          status: c.status,
          openedAt: c.timeline.open,
          streams: c.streams.length,
          bytesIn: wire?.totalIn ?? 0,
          bytesOut: wire?.totalOut ?? 0
        }
      }),
    peers: async (page) => peerPage(await sources.store(), page, live),
    peer: async (id) => {
      const detail = peerDetail(await sources.store(), peerIdFromString(id), live)
      return detail === undefined ? undefined : { ...detail, bandwidth: bandwidth?.forPeer(id) ?? null }
    },
    peerStoreStats: async () => peerStoreStats(await sources.store(), sources.lastGc()),
    prometheus: async () => {
      const store = peerStoreGauges(peerStoreStats(await sources.store(), sources.lastGc()))
      return `${(await sources.metrics?.prometheus()) ?? ''}${store}`
    }
  }
}
