import type { BandwidthCounter, Stats } from '../bandwidth-counter.ts'

export interface ConnectionStats extends Stats {
  peer: string | null
  direction: 'inbound' | 'outbound' | null
  remoteAddr: string | null
}

/** Plain JSON: go-libp2p's vocabulary (`totalIn`, `rateOut`, …), peers and protocols as object keys. */
export interface MetricsSnapshot {
  at: number
  totals: Stats
  peers: Record<string, Stats>
  protocols: Record<string, Stats>
  /** Per peer, its protocols. */
  peerProtocols: Record<string, Record<string, Stats>>
  /** Wire bytes per connection (handshake and framing included). */
  connections: Record<string, ConnectionStats>
}

export function snapshotOf(
  counter: BandwidthCounter,
  connectionInfo: (
    id: string
  ) => { peer: string; direction: 'inbound' | 'outbound'; remoteAddr: string } | undefined
): MetricsSnapshot {
  const peerProtocols: MetricsSnapshot['peerProtocols'] = {}
  for (const [peer, protocols] of counter.byPeerProtocol())
    peerProtocols[peer] = Object.fromEntries(protocols)
  const connections: MetricsSnapshot['connections'] = {}
  for (const [id, stats] of counter.byConnection()) {
    const info = connectionInfo(id)
    connections[id] = {
      ...stats,
      peer: info?.peer ?? null,
      direction: info?.direction ?? null,
      remoteAddr: info?.remoteAddr ?? null
    }
  }
  return {
    at: Date.now(),
    totals: counter.totals(),
    peers: Object.fromEntries(counter.byPeer()),
    protocols: Object.fromEntries(counter.byProtocol()),
    peerProtocols,
    connections
  }
}
