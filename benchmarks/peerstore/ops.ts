// Our side of go-libp2p's BenchmarkInMemoryPeerstore (test/benchmarks_suite.go in go-libp2p v0.52.0): the same five
// cases, each on a fresh store (LevelDB by path, its journal included), at 1, 10 or 100 addresses per peer over
// 10,000 peers whose addresses are /ip4/127.0.0.1/tcp/<k>/ipfs/<id>. Each case runs the number of ops Go's
// testing.Benchmark settled on for it (scale.ts passes them), cut short after a time limit. One process per
// address count; it prints one JSON line per case. Go's "GetAddrs" case calls SetAddrs; kept as written, so the
// two sides run the same calls.
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromMultihash } from '@libp2p/peer-id'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import type * as PeerstoreLevelModule from '@peerscope/peerstore-level'
import * as Digest from 'multiformats/hashes/digest'
import { threadCpuMs } from './measure.ts'

export const OPS_CASES = ['AddAddrs', 'GetAddrs', 'GetAndClearAddrs', 'PeersWithAddrs', 'SetAddrs'] as const
export type OpsCase = (typeof OPS_CASES)[number]

const PEERS = 10_000

type PeerstoreLevel = Pick<typeof PeerstoreLevelModule, 'openPeerStore' | 'RecentlyConnectedAddrTTL'>

export interface OpsResult {
  op: OpsCase
  addrsPerPeer: number
  ops: number
  nsPerOp: number
  cpuNsPerOp: number
  /** True when the case stopped at the time limit before its op count. */
  cut: boolean
}

function opsPeers(count: number): Array<{ id: PeerId; addrs: Multiaddr[] }> {
  return Array.from({ length: PEERS }, () => {
    // A random sha2-256 multihash, as go's RandPeerID.
    const id = peerIdFromMultihash(Digest.create(0x12, randomBytes(32)))
    const text = id.toString()
    const addrs = Array.from({ length: count }, (_, k) => multiaddr(`/ip4/127.0.0.1/tcp/${k}/ipfs/${text}`))
    for (const ma of addrs) ma.toString()
    return { id, addrs }
  })
}

export async function runOps(
  mod: PeerstoreLevel,
  peers: ReadonlyArray<{ id: PeerId; addrs: Multiaddr[] }>,
  op: OpsCase,
  ops: number,
  maxMs: number
): Promise<OpsResult> {
  const count = peers[0]?.addrs.length ?? 0
  const dir = await mkdtemp(join(tmpdir(), 'peerstore-ops-'))
  const store = await mod.openPeerStore({ path: join(dir, 'db'), gc: { interval: 0 } })
  const ttl = mod.RecentlyConnectedAddrTTL
  try {
    if (op === 'PeersWithAddrs') for (const p of peers) await store.addAddrs(p.id, p.addrs, ttl)
    const started = performance.now()
    const cpu = threadCpuMs()
    let done = 0
    for (; done < ops; done++) {
      if ((done & 15) === 0 && performance.now() - started > maxMs) break
      const pp = peers[done % PEERS]!
      if (op === 'AddAddrs') await store.addAddrs(pp.id, pp.addrs, ttl)
      else if (op === 'GetAddrs' || op === 'SetAddrs') await store.setAddrs(pp.id, pp.addrs, ttl)
      else if (op === 'PeersWithAddrs') store.peersWithAddrs()
      else {
        for (let j = 0; j < 10; j++) {
          const q = peers[(done + j) % PEERS]!
          await store.addAddrs(q.id, q.addrs, ttl)
        }
        for (let j = 0; j < 10; j++) store.addrs(peers[(done + j) % PEERS]!.id)
        for (let j = 0; j < 10; j++) await store.clearAddrs(peers[(done + j) % PEERS]!.id)
      }
    }
    const ms = performance.now() - started
    const cpuMs = threadCpuMs() - cpu
    return {
      op,
      addrsPerPeer: count,
      ops: done,
      nsPerOp: (ms * 1e6) / Math.max(1, done),
      cpuNsPerOp: (cpuMs * 1e6) / Math.max(1, done),
      cut: done < ops
    }
  } finally {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  }
}

if (import.meta.main) {
  // <addresses per peer> <JSON: op count by case> <time limit ms> [module]
  const [count = '', counts = '{}', maxMs = '', module = '@peerscope/peerstore-level'] = process.argv.slice(2)
  const mod = (await import(module)) as PeerstoreLevel
  const peers = opsPeers(Number(count))
  const opsByCase = JSON.parse(counts) as Partial<Record<OpsCase, number>>
  for (const op of OPS_CASES) {
    const ops = opsByCase[op]
    if (ops === undefined) continue
    // Untimed first, on its own store, so that the JIT has compiled what the timed run calls (go needs no warm-up).
    await runOps(mod, peers, op, Math.min(ops, 500), Number(maxMs))
    console.log(JSON.stringify(await runOps(mod, peers, op, ops, Number(maxMs))))
  }
}
