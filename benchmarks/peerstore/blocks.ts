// The event-loop blocks of the peer store's long operations at one size, without the rest of the scaling benchmark:
// builds N peers x 4 addrs x 3 protocols once (core API, LevelDB by path), then measures reopen-and-list, all()
// (three times), GC of a full expiry and LevelDB's catch-up after it, each with its longest block split into V8's GC pauses and our code
// (measure.ts). A million peers take minutes here, against about a quarter of an hour per round of scale.ts.
//
//   node --conditions=@peerscope/source --expose-gc --max-old-space-size=12000 blocks.ts 1000000
//
// BENCH_BLOCKS_PROFILE=1 adds, for each op's two longest gaps and two longest non-GC ones, the functions V8's sampling profiler found running
// inside them (self time). BENCH_BLOCKS_SNAPSHOT=<dir> writes heap snapshots of the reopened store there, without
// and with a list all() returned.
import { mkdtemp, rm } from 'node:fs/promises'
import { Session } from 'node:inspector/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeHeapSnapshot } from 'node:v8'
import { AddressTTL, type LevelPeerStore, Libp2pPeerStore, openPeerStore } from '@peerscope/peerstore-level'
import { heapUsed, type Timed, watched } from './measure.ts'
import { CHUNK, chunk, PROTOCOLS } from './workload.ts'

const n = Number(process.argv[2] ?? '100000')
if (!Number.isSafeInteger(n) || n < 1) throw new Error(`usage: blocks.ts <peers>, got ${process.argv[2]}`)
const profiling = process.env.BENCH_BLOCKS_PROFILE === '1'
const snapshotDir = process.env.BENCH_BLOCKS_SNAPSHOT

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface Profile {
  nodes: ProfileNode[]
  startTime: number
  samples: number[]
  timeDeltas: number[]
}

const session = new Session()
if (profiling) {
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 200 })
}

/** `watched`, and with BENCH_BLOCKS_PROFILE=1 what ran in its longest gaps. */
async function observed<T>(fn: () => Promise<T>): Promise<Timed<T> & { inGaps: string[] }> {
  if (!profiling) return { ...(await watched(fn)), inGaps: [] }
  await session.post('Profiler.start')
  // The profile's times are the monotonic clock's in µs, as process.hrtime's; performance.now() is offset from it.
  const offsetUs = Number(process.hrtime.bigint() / 1000n) - performance.now() * 1000
  const timed = await watched(fn)
  const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: Profile }
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const inGaps: string[] = []
  for (const gap of [...timed.longestGaps.slice(0, 2), ...timed.longestNonGcGaps.slice(0, 2)]) {
    const self = new Map<string, number>()
    let t = profile.startTime
    for (let i = 0; i < profile.samples.length; i++) {
      t += profile.timeDeltas[i]!
      const when = (t - offsetUs) / 1000
      if (when < gap.start || when > gap.end) continue
      const frame = byId.get(profile.samples[i]!)!.callFrame
      const name = `${frame.functionName || '(anonymous)'} ${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber + 1}`
      self.set(name, (self.get(name) ?? 0) + 1)
    }
    const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 8)
    inGaps.push(
      `gap ${(gap.end - gap.start).toFixed(1)} ms (GC ${gap.gcMs.toFixed(1)} ms): ` +
        top.map(([name, count]) => `${name} x${count}`).join(', ')
    )
  }
  return { ...timed, inGaps }
}

function report(op: string, t: Timed<unknown> & { inGaps: string[] }): void {
  const b = t.blocks
  console.log(
    `${op}: ${t.ms.toFixed(0)} ms; longest block ${t.longestBlockMs.toFixed(1)} ms (monitorEventLoopDelay), ` +
      `gap ${b.longestGapMs.toFixed(1)} ms of which GC ${b.longestGapGcMs.toFixed(1)} ms; longest GC pause ` +
      `${b.longestGcPauseMs.toFixed(1)} ms (${b.longestGcPauseKind}; ${b.gcPauses} pauses, ` +
      `${b.gcPauseTotalMs.toFixed(0)} ms in all); longest non-GC stretch ${b.longestNonGcMs.toFixed(1)} ms ` +
      `(waiting for a core ${b.longestNonGcRunQueueMs.toFixed(1)} ms, so ours ${b.longestNonGcOwnMs.toFixed(1)} ms; ` +
      `thread CPU ${b.longestNonGcCpuMs.toFixed(1)} ms, ±4)`
  )
  for (const line of t.inGaps) console.log(`  ${line}`)
}

/** Stores the workload and closes the store (out of reach after, so the heap holds only the reopened one). */
async function build(): Promise<void> {
  const built = performance.now()
  const store: LevelPeerStore = await open()
  for (let from = 0; from < n; from += CHUNK) {
    const c = chunk(from, Math.min(from + CHUNK, n))
    for (let k = 0; k < c.ids.length; k++) {
      await store.addAddrs(c.ids[k]!, c.addrs[k]!, AddressTTL)
      await store.addProtocols(c.ids[k]!, PROTOCOLS)
    }
  }
  await store.close()
  console.log(`${n} peers built in ${((performance.now() - built) / 1000).toFixed(1)} s`)
}

const dir = await mkdtemp(join(tmpdir(), 'peerstore-blocks-'))
const path = join(dir, 'db')
let now = Date.now()
const open = () =>
  openPeerStore({ path, clock: () => now, gc: { interval: 0 }, limits: { maxAddrs: 8 * n + 1_000_000 } })
try {
  await build()
  heapUsed()
  let reopened: LevelPeerStore | undefined
  let view: Libp2pPeerStore | undefined
  const reopen = await observed(async () => {
    reopened = await open()
    view = new Libp2pPeerStore(reopened, { events: { safeDispatchEvent: () => true }, maxPeerAge: 0 })
    return (await view.all()).length
  })
  if (reopen.value !== n) throw new Error(`reopen listed ${reopen.value} of ${n}`)
  report('reopen-and-list', reopen)
  if (snapshotDir !== undefined) {
    heapUsed()
    console.log(`heap snapshot: ${writeHeapSnapshot(join(snapshotDir, `peerstore-${n}.heapsnapshot`))}`)
    // And one holding what all() returns: its objects per peer are what every scavenge during all() copies.
    const list = await view!.all()
    heapUsed()
    const listed = writeHeapSnapshot(join(snapshotDir, `peerstore-${n}-with-list.heapsnapshot`))
    console.log(`heap snapshot holding all()'s ${list.length} peers: ${listed}`)
  }
  for (let i = 0; i < 3; i++) report(`all() ${i + 1}`, await observed(async () => (await view!.all()).length))
  now += 2 * 60 * 60_000
  const gc = await observed(() => reopened!.gc())
  if (gc.value.addrsRemoved !== 4 * n)
    throw new Error(`GC removed ${gc.value.addrsRemoved} of ${4 * n} addrs`)
  report('GC of a full expiry', gc)
  // LevelDB takes GC's deletes after gc() resolved: the write path's batches, each encoded in a turn of its own.
  report("GC's LevelDB catch-up", await observed(() => reopened!.flush()))
  await reopened!.close()
} finally {
  await rm(dir, { recursive: true, force: true })
}
