import type { Stats } from '@peerscope/metrics'
import type { HistoryPage, HistoryQuery, PeerHistoryPage } from '../history/history.ts'

export type {
  Column,
  GcEvent,
  HistoryPage,
  HistoryQuery,
  PeerHistoryPage,
  PeerSeries,
  RateSeries,
  Resolution
} from '../history/history.ts'

/** go-libp2p's `Stats` plus packets: the shape `@peerscope/metrics` reports (bytes, bytes per second). */
export type BandwidthStats = Stats

export interface ConnectionView {
  id: string
  peerId: string
  remoteAddr: string
  direction: 'inbound' | 'outbound'
  status: string
  openedAt: number
  /** Streams open now. */
  streams: number
  /** Streams opened over the connection's life, short-lived ones included; `null` when the node has no metrics. */
  streamsOpened: number | null
  /** Named from the remote address: `tcp`, `ws`, `wss`, `quic-v1`, `webtransport`, `webrtc`, `circuit-relay`… */
  transport: string
  /** Connection encrypter protocol (e.g. `/noise`), `null` when not upgraded (QUIC, WebRTC encrypt on their own). */
  encryption: string | null
  /** Stream muxer protocol (e.g. `/yamux/1.0.0`), `null` when the transport multiplexes on its own. */
  muxer: string | null
  /** Round-trip time libp2p measured on the connection, ms. */
  rttMs: number | null
  /** A relayed connection with data or time limits. */
  limited: boolean
  bytesIn: number
  bytesOut: number
}

export interface AddressView {
  multiaddr: string
  /** ms; `null` for the never-expiring TTLs, which are named in `ttlName`. */
  ttl: number | null
  ttlName?: 'connected' | 'permanent'
  /** Epoch ms; `null` when the address never expires. */
  expiresAt: number | null
  certified: boolean
}

export interface PeerSummary {
  peerId: string
  addresses: number
  protocols: number
  pinned: boolean
  pins: string[]
  connected: boolean
  latencyMs: number | null
  /** `AgentVersion` from identify, when known. */
  agent: string | null
  /** `null` when no traffic was counted for the peer (or over an offline database). */
  bandwidth: BandwidthStats | null
}

export interface PeerDetail {
  peerId: string
  addresses: AddressView[]
  protocols: string[]
  /** Base64 (protobuf-encoded public key), `null` when unknown. Private keys are never exposed. */
  publicKey: string | null
  /** Values as UTF-8 text when they decode cleanly, else base64 with a `base64:` prefix. */
  metadata: Record<string, string>
  pins: string[]
  latencyMs: number | null
  agent: string | null
  connected: boolean
  bandwidth: BandwidthStats | null
  /** Its traffic per protocol (empty offline). */
  protocolBandwidth: Record<string, BandwidthStats>
  /** Its open connections (empty offline). */
  connections: ConnectionView[]
}

/** What the peer list can be sorted by (`rate`: bytes/s now, `traffic`: bytes so far, in and out together). */
export type PeerSort =
  | 'id'
  | 'connected'
  | 'rate'
  | 'traffic'
  | 'latency'
  | 'addresses'
  | 'protocols'
  | 'agent'
  | 'pins'
export type PeerOrder = 'asc' | 'desc'

export interface PeerQuery {
  limit: number
  offset: number
  /** Case-insensitive text to find in the peer id, agent, an address or a protocol; empty for all. */
  search?: string
  /** Default `id`. */
  sort?: PeerSort
  /** Default `asc` for `id` and `agent`, `desc` (most first) for the others. */
  order?: PeerOrder
  /** Only connected (`true`) or only stored, not connected (`false`) peers. */
  connected?: boolean
}

export interface PeerStoreStatsView {
  peers: number
  addresses: number
  pinnedPeers: number
  lastGc: { at: number; durationMs: number; addressesRemoved: number; peersRemoved: number } | null
}

export interface Page<T> {
  total: number
  limit: number
  offset: number
  items: T[]
}

/**
 * What the HTTP API and the dashboard read. The service builds one from the node, the metrics and the peer
 * store; the HTTP layer only turns it into routes, so it can be tested on its own and served over an offline
 * database (`peerscope serve`). Everything returned is plain JSON: numbers, strings, arrays, objects.
 */
export interface PeerscopeView {
  /** The local node, when serving a live node; `null` for an offline database. */
  node(): { peerId: string; addresses: string[]; agent: string } | null
  bandwidthTotals(): BandwidthStats
  bandwidthByPeer(): Record<string, BandwidthStats>
  bandwidthForPeer(peerId: string): BandwidthStats | undefined
  bandwidthByProtocol(): Record<string, BandwidthStats>
  bandwidthForProtocol(protocol: string): BandwidthStats | undefined
  connections(): ConnectionView[]
  /** Searched, filtered, sorted, one page; see `PeerQuery`. */
  peers(query: PeerQuery): Promise<Page<PeerSummary>>
  /** `undefined` when the store does not know the peer. */
  peer(peerId: string): Promise<PeerDetail | undefined>
  peerStoreStats(): Promise<PeerStoreStatsView>
  /** Prometheus text exposition format 0.0.4. */
  prometheus(): Promise<string>
  /** Samples the node kept (empty columns over an offline database or with history off). */
  history(query: HistoryQuery): HistoryPage
  peerHistory(peerId: string, query: Omit<HistoryQuery, 'peers'>): PeerHistoryPage
}
