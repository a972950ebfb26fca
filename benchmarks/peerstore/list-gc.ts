// What V8 does while a bare program lists N peers: no LevelDB, no store, no libraries. N peers held as texts (an id,
// four addresses, the three protocols) in 64 Maps, then listed twice as libp2p's `Peer` shape (an id object, four
// address objects, a protocol list, two empty Maps), in slices of at most 4 ms with a turn of the event loop between
// them, as the floor's and ours' `all()`. Each listing prints its blocks (measure.ts), and the longest slice the loop
// itself timed from its resume to its yield: a gap much longer than that slice was spent outside the loop's code
// (V8's collector, or waiting for a core). Run with --trace-gc-nvp to see each collection's phases and how much of
// the young generation survived.
//
//   node --conditions=@peerscope/source --expose-gc --trace-gc-nvp list-gc.ts 1000000
import { watched } from './measure.ts'

const n = Number(process.argv[2] ?? '1000000')
if (!Number.isSafeInteger(n) || n < 1) throw new Error(`usage: list-gc.ts <peers>, got ${process.argv[2]}`)

class Text {
  readonly #text: string
  constructor(text: string) {
    this.#text = text
  }
  toString(): string {
    return this.#text
  }
}

interface Held {
  id: Text
  addrs: string[]
  protocols: string[]
}

const SLICE_MS = 4
const PROTOCOLS = ['/ipfs/id/1.0.0', '/ipfs/ping/1.0.0', '/ipfs/kad/1.0.0']
const shards = Array.from({ length: 64 }, () => new Map<string, Held>())
const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

for (let i = 0; i < n; i++) {
  const id = `12D3KooW${i.toString(36).padStart(44, 'x')}`
  const a = (i >> 8) & 255
  const b = i & 255
  shards[i & 63]!.set(id, {
    id: new Text(id),
    addrs: [
      `/ip4/10.${a}.${b}.1/tcp/4001`,
      `/ip4/10.${a}.${b}.1/udp/4001/quic-v1`,
      `/ip6/fd00::${i.toString(16)}/tcp/4001`,
      `/dns4/p${i}.example.com/tcp/443/wss`
    ],
    protocols: PROTOCOLS
  })
}
globalThis.gc?.()

async function list(): Promise<{ listed: number; longestSliceMs: number }> {
  const peers = new Array<unknown>(n)
  let listed = 0
  let count = 0
  let longestSliceMs = 0
  let sliceStart = performance.now()
  for (const shard of shards) {
    for (const held of shard.values()) {
      if ((++count & 63) === 0) {
        const ran = performance.now() - sliceStart
        if (ran >= SLICE_MS) {
          longestSliceMs = Math.max(longestSliceMs, ran)
          await yieldToLoop()
          sliceStart = performance.now()
        }
      }
      const addresses = []
      for (const addr of held.addrs) addresses.push({ multiaddr: new Text(addr), isCertified: false })
      peers[listed++] = {
        id: held.id,
        addresses,
        protocols: held.protocols.slice(),
        metadata: new Map(),
        tags: new Map()
      }
    }
  }
  longestSliceMs = Math.max(longestSliceMs, performance.now() - sliceStart)
  return { listed, longestSliceMs }
}

for (let round = 1; round <= 2; round++) {
  const t = await watched(list)
  if (t.value.listed !== n) throw new Error(`listed ${t.value.listed} of ${n}`)
  const b = t.blocks
  console.log(
    `list ${round}: ${t.ms.toFixed(0)} ms; longest slice the loop timed ${t.value.longestSliceMs.toFixed(1)} ms; ` +
      `longest gap ${b.longestGapMs.toFixed(1)} ms (GC ${b.longestGapGcMs.toFixed(1)}); longest GC pause ` +
      `${b.longestGcPauseMs.toFixed(1)} ms (${b.longestGcPauseKind}; ${b.gcPauses} pauses, ${b.gcPauseTotalMs.toFixed(0)} ms); ` +
      `longest non-GC stretch ${b.longestNonGcMs.toFixed(1)} ms (wait for a core ${b.longestNonGcRunQueueMs.toFixed(1)}, ` +
      `thread CPU ${b.longestNonGcCpuMs.toFixed(1)} ±4)`
  )
  for (const gap of t.longestNonGcGaps.slice(0, 3)) {
    console.log(
      `  non-GC gap ${(gap.end - gap.start).toFixed(1)} ms at ${gap.start.toFixed(0)} ms: GC ${gap.gcMs.toFixed(1)}, ` +
        `thread CPU ${gap.cpuMs.toFixed(1)} (kernel ~${gap.systemMs.toFixed(1)}), wait for a core ${gap.runQueueMs.toFixed(1)}`
    )
  }
}
