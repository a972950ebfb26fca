import type { Connection, PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PeerscopeMetrics, Stats } from '@peerscope/metrics'
import type { LastGc, LevelPeerStore } from '@peerscope/peerstore-level'
import type { History } from '../history/history.ts'
import type { BandwidthStats, ConnectionView, PeerscopeView } from '../http/view.ts'
import type { StreamTally } from '../swarm/stream-tally.ts'
import { emptyHistory, emptyPeerHistory, peerStoreGauges } from './offline-view.ts'
import { type LiveFacts, peerDetail, peerPage, peerStoreStats } from './peer-store-view.ts'
import { transportName } from './transport.ts'

export interface LiveSources {
  peerId: PeerId
  addresses(): string[]
  agent: string
  connections(): Connection[]
  store(): Promise<LevelPeerStore>
  /** Our metrics when the node uses them; without them bandwidth reads as zero. */
  metrics: PeerscopeMetrics | undefined
  lastGc(): LastGc | undefined
  /** The node's kept samples; without it the history routes answer empty columns. */
  history?: History | undefined
  /** Streams opened per connection; without it `streamsOpened` is `null`. */
  streams?: StreamTally | undefined
}

const ZERO: BandwidthStats = { totalIn: 0, totalOut: 0, packetsIn: 0, packetsOut: 0, rateIn: 0, rateOut: 0 }

function record(map: Map<string, Stats>): Record<string, BandwidthStats> {
  return Object.fromEntries(map)
}

/** The JSON shape of an open connection. */
export function connectionView(
  c: Connection,
  wire: Stats | undefined,
  streams: StreamTally | undefined
): ConnectionView {
  return {
    id: c.id,
    peerId: c.remotePeer.toString(),
    remoteAddr: c.remoteAddr.toString(),
    direction: c.direction,
    status: c.status,
    openedAt: c.timeline.open,
    streams: c.streams.length,
    // The tally starts with the service: never report fewer than are open now.
    streamsOpened: streams === undefined ? null : Math.max(streams.opened(c.id), c.streams.length),
    transport: transportName(c.remoteAddr),
    encryption: c.encryption ?? null,
    muxer: c.multiplexer ?? null,
    rttMs: typeof c.rtt === 'number' && Number.isFinite(c.rtt) ? c.rtt : null,
    limited: c.limits != null,
    bytesIn: wire?.totalIn ?? 0,
    bytesOut: wire?.totalOut ?? 0
  }
}

/** The view of a running node: its metrics, its connections, its peer store and its kept history. */
export function liveView(sources: LiveSources): PeerscopeView {
  const bandwidth = sources.metrics?.bandwidth
  const live: LiveFacts = {
    connected: () => new Set(sources.connections().map((c) => c.remotePeer.toString())),
    bandwidth: (peer) => bandwidth?.forPeer(peer)
  }
  // One lookup per protocol, not a walk over every (peer, protocol) pair of the node.
  const protocolsOf = (peer: string): Record<string, BandwidthStats> => {
    const out: Record<string, BandwidthStats> = {}
    if (bandwidth === undefined) return out
    for (const protocol of bandwidth.byProtocol().keys()) {
      const stats = bandwidth.forPeerProtocol(peer, protocol)
      if (stats !== undefined) out[protocol] = stats
    }
    return out
  }
  const connections = (filter?: string): ConnectionView[] =>
    sources
      .connections()
      .filter((c) => filter === undefined || c.remotePeer.toString() === filter)
      .map((c) => connectionView(c, bandwidth?.forConnection(c.id), sources.streams))
  return {
    node: () => ({ peerId: sources.peerId.toString(), addresses: sources.addresses(), agent: sources.agent }),
    bandwidthTotals: () => bandwidth?.totals() ?? { ...ZERO },
    bandwidthByPeer: () => (bandwidth === undefined ? {} : record(bandwidth.byPeer())),
    bandwidthForPeer: (peer) => bandwidth?.forPeer(peer),
    bandwidthByProtocol: () => (bandwidth === undefined ? {} : record(bandwidth.byProtocol())),
    bandwidthForProtocol: (protocol) => bandwidth?.forProtocol(protocol),
    connections: () => connections(),
    peers: async (query) => peerPage(await sources.store(), query, live),
    peer: async (id) => {
      const detail = peerDetail(await sources.store(), peerIdFromString(id), live)
      if (detail === undefined) return undefined
      return {
        ...detail,
        bandwidth: bandwidth?.forPeer(id) ?? null,
        protocolBandwidth: protocolsOf(id),
        connections: connections(id)
      }
    },
    peerStoreStats: async () => peerStoreStats(await sources.store(), sources.lastGc()),
    prometheus: async () => {
      const store = peerStoreGauges(peerStoreStats(await sources.store(), sources.lastGc()))
      return `${(await sources.metrics?.prometheus()) ?? ''}${store}`
    },
    history: (query) => sources.history?.query(query) ?? emptyHistory(query),
    peerHistory: (peerId, query) => sources.history?.peer(peerId, query) ?? emptyPeerHistory(peerId, query)
  }
}
