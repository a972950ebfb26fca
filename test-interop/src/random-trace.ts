import type { PeerstoreOp, TraceTtl } from './trace.ts'

/** mulberry32: small, seedable, the same on every platform. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const ADDRS = [
  '/ip4/127.0.0.1/tcp/1',
  '/ip4/127.0.0.1/tcp/2',
  '/ip4/10.0.0.1/udp/3/quic-v1',
  '/ip6/::1/tcp/4'
]
const TTLS: TraceTtl[] = ['connected', 'permanent', 'recentlyConnected', 'temp', 1000, 5000, 60_000]
const PROTOCOLS = ['/a/1', '/b/1', '/c/1', '/d/1']

/** One random trace of `length` ops over `peers` peers, fully determined by `seed`. */
export function randomOps(seed: number, peers: number, length: number): PeerstoreOp[] {
  const rnd = prng(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T
  const some = <T>(xs: readonly T[]): T[] => xs.filter(() => rnd() < 0.5)
  const ops: PeerstoreOp[] = []
  for (let i = 0; i < length; i++) {
    const peer = Math.floor(rnd() * peers)
    const kind = Math.floor(rnd() * 15)
    switch (kind) {
      case 0:
      case 1:
        ops.push({ op: 'addAddrs', peer, addrs: some(ADDRS), ttl: pick(TTLS) })
        break
      case 2:
        ops.push({ op: 'setAddrs', peer, addrs: some(ADDRS), ttl: rnd() < 0.2 ? -1 : pick(TTLS) })
        break
      case 3:
        ops.push({ op: 'updateAddrs', peer, oldTtl: pick(TTLS), newTtl: rnd() < 0.2 ? 0 : pick(TTLS) })
        break
      case 4:
        ops.push({ op: 'clearAddrs', peer })
        break
      case 5:
        ops.push({ op: 'advance', ms: pick([1, 999, 1000, 4000, 60_000, 900_000]) })
        break
      case 6:
        ops.push({ op: 'peersWithAddrs', peer })
        break
      case 7:
        ops.push({
          op: pick(['addProtocols', 'setProtocols', 'removeProtocols'] as const),
          peer,
          protocols: some(PROTOCOLS)
        })
        break
      case 8:
        ops.push({ op: pick(['supports', 'firstSupported'] as const), peer, protocols: some(PROTOCOLS) })
        break
      case 9:
        ops.push({ op: 'getProtocols', peer })
        break
      case 10:
        ops.push(
          rnd() < 0.5
            ? { op: 'put', peer, key: pick(['k1', 'k2']), value: `v${i}` }
            : { op: 'get', peer, key: pick(['k1', 'k2']) }
        )
        break
      case 11:
        ops.push(
          rnd() < 0.5
            ? { op: 'recordLatency', peer, ms: 1 + Math.floor(rnd() * 500) }
            : { op: 'latency', peer }
        )
        break
      case 12:
        ops.push(rnd() < 0.5 ? { op: 'addPubKey', peer } : { op: 'pubKey', peer })
        break
      case 13:
        // A signed record (sealed later by sealRecords); seqs 1-3 so lower, equal and higher all occur.
        // The signer is sometimes another peer: go and peerscope must both refuse it.
        ops.push(
          rnd() < 0.6
            ? {
                op: 'consumePeerRecord',
                peer,
                seq: 1 + Math.floor(rnd() * 3),
                addrs: some(ADDRS),
                ttl: pick(TTLS),
                ...(rnd() < 0.1 ? { signer: (peer + 1) % peers } : {})
              }
            : { op: 'peerRecord', peer }
        )
        break
      default:
        ops.push({ op: 'addrs', peer })
    }
  }
  return ops
}
