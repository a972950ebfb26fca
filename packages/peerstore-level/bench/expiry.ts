// The cost of exact expiry on the hot paths it touches: reading a peer's live addrs (one expiry check per
// addr) and an addAddrs that changes nothing (one expiry comparison per addr, no write). In-memory database,
// fixed clock. Usage: node --conditions=@peerscope/source bench/expiry.ts [rounds=5] [calls=20000]
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { MemoryLevel } from 'memory-level'
import { openPeerStore } from '../src/node.ts'

const rounds = Number(process.argv[2] ?? 5)
const calls = Number(process.argv[3] ?? 20_000)
const ADDRS = 64

const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
const store = await openPeerStore({
  db: new MemoryLevel(),
  clock: () => 1_700_000_000_000,
  gc: { interval: 0 }
})
const addrs = Array.from({ length: ADDRS }, (_, i) => multiaddr(`/ip4/10.0.${i}.1/tcp/4001`))
// Whole-ms and sub-ms TTLs, half each.
await store.addAddrs(peer, addrs.slice(0, ADDRS / 2), 3_600_000)
await store.addAddrs(peer, addrs.slice(ADDRS / 2), 3_600_000.25)

function measure(what: string, fn: () => unknown): void {
  const perCall: number[] = []
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < calls; i++) fn()
    perCall.push(Number(process.hrtime.bigint() - start) / calls)
  }
  perCall.sort((a, b) => a - b)
  console.log(
    `${what}: median ${(perCall[Math.floor(rounds / 2)]! / 1000).toFixed(2)} µs per call (${ADDRS} addrs, ${rounds} rounds of ${calls})`
  )
}

measure('addrs(peer)', () => store.addrs(peer))
const pending: Array<Promise<void>> = []
measure('addAddrs(peer, same addrs, same TTL): no change', () =>
  pending.push(store.addAddrs(peer, addrs.slice(0, ADDRS / 2), 3_600_000))
)
await Promise.all(pending)
await store.close()
