import type { Stats } from '@peerscope/metrics'

/** go-libp2p's `Stats` plus packets: the shape `@peerscope/metrics` reports (bytes, bytes per second). */
export type BandwidthStats = Stats

export interface ConnectionView {
  id: string
  peerId: string
  remoteAddr: string
  direction: 'inbound' | 'outbound'
  status: string
  openedAt: number
  streams: number
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
  connected: boolean
  latencyMs: number | null
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
  connected: boolean
  bandwidth: BandwidthStats | null
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
  peers(page: { limit: number; offset: number }): Promise<Page<PeerSummary>>
  /** `undefined` when the store does not know the peer. */
  peer(peerId: string): Promise<PeerDetail | undefined>
  peerStoreStats(): Promise<PeerStoreStatsView>
  /** Prometheus text exposition format 0.0.4. */
  prometheus(): Promise<string>
}
