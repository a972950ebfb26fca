import type { Multiaddr } from '@multiformats/multiaddr'

// The outermost transport wins: a relayed WebSocket connection is a relayed connection first.
const ORDER = ['p2p-circuit', 'webrtc-direct', 'webrtc', 'webtransport', 'quic-v1', 'quic', 'wss', 'ws']
const NAMES: Record<string, string> = { 'p2p-circuit': 'circuit-relay' }

/** A short transport name for a connection's remote address (`tcp`, `ws`, `quic-v1`, `circuit-relay`…). */
export function transportName(addr: Multiaddr): string {
  const names = addr.getComponents().map((c) => c.name)
  for (const name of ORDER) {
    if (!names.includes(name)) continue
    if (name === 'ws' && names.includes('tls')) return 'wss'
    return NAMES[name] ?? name
  }
  for (const name of ['tcp', 'udp', 'unix', 'memory']) if (names.includes(name)) return name
  return names.filter((n) => n !== 'p2p').at(-1) ?? 'unknown'
}
