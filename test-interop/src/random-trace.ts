import type { PeerstoreTrace, TraceTtl } from './trace.ts'

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

const HOSTS = [
  '/ip4/127.0.0.1/tcp/1',
  '/ip4/127.0.0.1/tcp/2',
  '/ip4/10.0.0.1/udp/3/quic-v1',
  '/ip6/::1/tcp/4'
]

/**
 * Symbolic TTLs, whole and sub-millisecond ones (100 µs as go's AddressesExpire, 1 µs, 100 ns and 1 ns), 0 and
 * negative ones. 1000 and 5000 meet the advances below exactly, and 1 ms either side.
 */
const TTLS: TraceTtl[] = [
  'connected',
  'permanent',
  'recentlyConnected',
  'temp',
  999,
  1000,
  1001,
  5000,
  60_000,
  0.5,
  0.1,
  0.001,
  0.0001,
  0.000001,
  0,
  -1
]
/** 0 reads at the same instant; 1000 / 5000 land exactly on an expiry of the TTLs above, 999 / 1001 either side. */
const ADVANCES = [0, 1, 999, 1000, 1001, 4000, 4999, 5000, 60_000, 900_000]
const PROTOCOLS = ['/a/1', '/b/1', '/c/1', '/d/1']

/** How a random trace is shaped; all of it is drawn from the seed. */
export interface RandomTraceShape {
  /** Ops per trace. */
  length: number
  /** Peers (keys) the trace uses; the last one is biased to protocols, metadata, latency and keys only. */
  peers: number
}

/**
 * One random peerstore trace, fully determined by `seed`: addrs with every TTL kind (0, negative, sub-ms,
 * ones that land exactly on an expiry and 1 ms either side), `/p2p` forms (own id, another's, bare), signed
 * records with lower, equal and higher seqs (also after their addrs expired, and signed by the wrong key),
 * address streams opened before and after adds and expiries, protocols (sometimes under a non-default limit),
 * metadata, latency, keys, the local peer (and its removePeer), GC, and batches of addrs that reach the
 * per-peer cap.
 */
export function randomTrace(
  seed: number,
  keys: readonly string[],
  peerIds: readonly string[],
  shape: RandomTraceShape
): PeerstoreTrace {
  const rnd = prng(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T
  const some = <T>(xs: readonly T[]): T[] => xs.filter(() => rnd() < 0.5)
  const { peers, length } = shape
  const trace: PeerstoreTrace = { keys: keys.slice(0, peers), ops: [] }
  if (rnd() < 0.3) trace.local = Math.floor(rnd() * peers)
  if (rnd() < 0.2) trace.maxProtocols = 1 + Math.floor(rnd() * 3)
  /** Addrs for `peer`: plain, with its own /p2p suffix, another peer's suffix, the bare /p2p, and nil. */
  const addrsFor = (peer: number): string[] => {
    const own = peerIds[peer] as string
    const other = peerIds[(peer + 1) % peers] as string
    const out = some(HOSTS)
    if (rnd() < 0.15) out.push(`${pick(HOSTS)}/p2p/${own}`)
    if (rnd() < 0.05) out.push(`${pick(HOSTS)}/p2p/${other}`)
    if (rnd() < 0.05) out.push(`/p2p/${own}`)
    if (rnd() < 0.03) out.push('')
    return out
  }
  /** 20-40 of 100 further addrs: a few of these reach the per-peer cap of 64. */
  const batch = (): string[] => {
    const n = 20 + Math.floor(rnd() * 21)
    const start = Math.floor(rnd() * 100)
    return Array.from({ length: n }, (_, i) => `/ip4/10.9.${(start + i) % 100}.1/tcp/9`)
  }
  const ops = trace.ops
  /** TTLs written so far per peer: updateAddrs mostly names one of them, as go's callers name their constants. */
  const written = new Map<number, TraceTtl[]>()
  const ttlFor = (peer: number): TraceTtl => {
    const ttl = pick(TTLS)
    written.set(peer, [...(written.get(peer) ?? []), ttl])
    return ttl
  }
  let streams = 0
  const open: number[] = []
  for (let i = 0; i < length; i++) {
    const peer = Math.floor(rnd() * peers)
    let kind = Math.floor(rnd() * 22)
    // The last peer mostly holds no addrs: only protocols, metadata, latency or keys.
    if (peer === peers - 1 && kind <= 5 && rnd() < 0.8) kind = 8 + Math.floor(rnd() * 5)
    switch (kind) {
      case 0:
      case 1:
        ops.push({ op: 'addAddrs', peer, addrs: addrsFor(peer), ttl: ttlFor(peer) })
        break
      case 2:
        ops.push({ op: 'setAddrs', peer, addrs: addrsFor(peer), ttl: ttlFor(peer) })
        break
      case 3: {
        const used = written.get(peer) ?? []
        const oldTtl = used.length > 0 && rnd() < 0.7 ? pick(used) : pick(TTLS)
        ops.push({ op: 'updateAddrs', peer, oldTtl, newTtl: ttlFor(peer) })
        break
      }
      case 4:
        ops.push(
          rnd() < 0.3
            ? { op: 'clearAddrs', peer }
            : { op: 'addAddrs', peer, addrs: batch(), ttl: ttlFor(peer) }
        )
        break
      case 5:
      case 6:
        ops.push({ op: 'advance', ms: pick(ADVANCES) })
        break
      case 7:
        ops.push(
          rnd() < 0.5 ? { op: 'peersWithAddrs', peer } : { op: rnd() < 0.5 ? 'peers' : 'peersWithKeys' }
        )
        break
      case 8:
        ops.push({
          op: pick(['addProtocols', 'setProtocols', 'removeProtocols'] as const),
          peer,
          protocols: some(PROTOCOLS)
        })
        break
      case 9:
        ops.push(
          rnd() < 0.5
            ? { op: pick(['supports', 'firstSupported'] as const), peer, protocols: some(PROTOCOLS) }
            : { op: 'getProtocols', peer }
        )
        break
      case 10:
        ops.push(
          rnd() < 0.5
            ? {
                op: 'put',
                peer,
                key: pick(['k1', 'k2']),
                value: rnd() < 0.5 ? `v${i}` : { n: i, list: [1, 'x'] }
              }
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
        ops.push(
          pick([
            { op: 'addPubKey', peer },
            { op: 'pubKey', peer },
            { op: 'privKey', peer }
          ] as const)
        )
        break
      case 13:
      case 14:
        // Seqs 1-4, so lower, equal and higher all occur, also after a record's addrs expired. The signer is
        // sometimes another peer: go and peerscope must both refuse it.
        ops.push(
          rnd() < 0.7
            ? {
                op: 'consumePeerRecord',
                peer,
                seq: 1 + Math.floor(rnd() * 4),
                addrs: addrsFor(peer).filter((a) => a !== ''),
                ttl: ttlFor(peer),
                ...(rnd() < 0.1 ? { signer: (peer + 1) % peers } : {})
              }
            : { op: 'peerRecord', peer }
        )
        break
      case 15:
        ops.push({ op: 'removePeer', peer: rnd() < 0.5 && trace.local !== undefined ? trace.local : peer })
        break
      case 16:
        ops.push({ op: 'gc' })
        break
      case 17:
      case 18: {
        // Address streams: opened before or after adds and expiries, read, closed; at most two at a time.
        if (open.length === 0 || (open.length < 2 && rnd() < 0.3)) {
          const stream = ++streams
          open.push(stream)
          ops.push({ op: 'addrStreamOpen', peer, stream })
        } else if (rnd() < 0.85) {
          ops.push({ op: 'addrStreamTake', stream: pick(open) })
        } else {
          const stream = open.splice(Math.floor(rnd() * open.length), 1)[0] as number
          ops.push({ op: 'addrStreamClose', stream })
        }
        break
      }
      default:
        ops.push({ op: 'addrs', peer })
    }
  }
  // Every open stream is read once more at the end.
  for (const stream of open) ops.push({ op: 'addrStreamTake', stream })
  return trace
}
