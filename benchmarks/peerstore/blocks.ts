// The event-loop blocks of the peer store's long operations at one size, without the rest of the scaling benchmark:
// builds N peers x 4 addrs x 3 protocols once (core API, LevelDB by path), then measures reopen-and-list, all()
// (three times), GC of a full expiry and LevelDB's catch-up after it, each with its longest block split into V8's GC pauses and our code
// (measure.ts). A million peers take minutes here, against about a quarter of an hour per round of scale.ts.
// First, the same ops of the persisted JS floor (floor-persisted.ts: the same peers in one compact LevelDB record
// each, listed as the same `Peer` objects, sliced as ours), measured the same way in the same run and printed beside
// ours, so a block or a time the floor cannot avoid either is told apart from ours.
//
//   node --conditions=@peerscope/source --expose-gc --max-old-space-size=12000 blocks.ts 1000000
//
// BENCH_BLOCKS_PROFILE=1 adds, for each op's two longest gaps and two longest non-GC ones, the functions V8's sampling profiler found running
// inside them (self time), and for reopen-and-list (floor and ours) where the whole op's thread time went, by part
// (LevelDB iteration, decoding, PeerId/Multiaddr objects, V8's GC, ...), its CPU profile written for DevTools to
// BENCH_BLOCKS_PROFILE_DIR (default: the temp dir). BENCH_BLOCKS_SIDES=floor or
// =ours measures one side alone (default floor,ours). BENCH_BLOCKS_SNAPSHOT=<dir> writes heap snapshots of the reopened store there, without
// and with a list all() returned.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { Session } from 'node:inspector/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeHeapSnapshot } from 'node:v8'
import type { Peer } from '@libp2p/interface'
import { loadAverage } from '@peerscope/bench-kit'
import { AddressTTL, type LevelPeerStore, Libp2pPeerStore, openPeerStore } from '@peerscope/peerstore-level'
import { FloorPersistedStore, workloadRecords } from './floor-persisted.ts'
import { heapUsed, type Timed, watched } from './measure.ts'
import { addrsFor, CHUNK, chunk, PROTOCOLS, peerIdFor } from './workload.ts'

const n = Number(process.argv[2] ?? '100000')
if (!Number.isSafeInteger(n) || n < 1) throw new Error(`usage: blocks.ts <peers>, got ${process.argv[2]}`)
const profiling = process.env.BENCH_BLOCKS_PROFILE === '1'
const snapshotDir = process.env.BENCH_BLOCKS_SNAPSHOT
const sides = (process.env.BENCH_BLOCKS_SIDES ?? 'floor,ours').split(',').map((side) => side.trim())
if (sides.length === 0 || sides.some((side) => side !== 'floor' && side !== 'ours'))
  throw new Error(`BENCH_BLOCKS_SIDES is a list of floor and ours, got ${process.env.BENCH_BLOCKS_SIDES}`)

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

function frameName(frame: ProfileNode['callFrame']): string {
  return `${frame.functionName || '(anonymous)'} ${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber + 1}`
}

/** The part of the program a profile node's stack is in: the innermost frame that names one. */
function partOf(node: ProfileNode, parentOf: Map<number, ProfileNode>): string {
  const top = node.callFrame.functionName
  if (top === '(garbage collector)') return "V8's GC"
  if (top === '(idle)') return 'idle (waiting for LevelDB or I/O)'
  if (top === '(program)') return 'V8 and native code, unattributed'
  for (let at: ProfileNode | undefined = node; at !== undefined; at = parentOf.get(at.id)) {
    const { functionName, url } = at.callFrame
    if (/@libp2p\/(peer-id|crypto)|@multiformats\/multiaddr|\/multiformats\/|\/uint8arrays\//.test(url))
      return 'PeerId/Multiaddr objects'
    if (/Floor(PeerId|Multiaddr)|Stored(Ed25519|RSA)?(PeerId|Multiaddr)/.test(functionName))
      return 'PeerId/Multiaddr objects'
    if (/classic-level|abstract-level|\/level\//.test(url)) return 'LevelDB iteration (JS side)'
    if (functionName === 'decodeFloorRecord' || url.includes('persistence/codec')) return 'decoding'
    if (url.includes('floor-persisted')) return "floor's index and list"
    const ours = /peerstore-level\/src\/(.+)$/.exec(url)
    if (ours !== null) return `ours: ${ours[1]}`
  }
  return 'other'
}

/** Where a profile's time went, by part (`partOf`), in ms, longest first. */
function partsOf(profile: Profile): Array<[string, number]> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parentOf = new Map<number, ProfileNode>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node)
  const parts = new Map<string, number>()
  const partById = new Map<number, string>()
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!
    let part = partById.get(id)
    if (part === undefined) {
      part = partOf(byId.get(id)!, parentOf)
      partById.set(id, part)
    }
    // A sample stands for the time up to the next one.
    const us = profile.timeDeltas[i + 1] ?? 0
    parts.set(part, (parts.get(part) ?? 0) + us / 1000)
  }
  return [...parts].sort((a, b) => b[1] - a[1])
}

type Observed<T> = Timed<T> & { inGaps: string[]; parts: Array<[string, number]> }

/**
 * `watched`, and with BENCH_BLOCKS_PROFILE=1 what ran in its longest gaps; with `split` too, where the whole op's
 * time went by part, its profile written to a file named after `split`.
 */
async function observed<T>(fn: () => Promise<T>, split?: string): Promise<Observed<T>> {
  if (!profiling) return { ...(await watched(fn)), inGaps: [], parts: [] }
  await session.post('Profiler.start')
  // The profile's times are the monotonic clock's in µs, as process.hrtime's; performance.now() is offset from it.
  const offsetUs = Number(process.hrtime.bigint() / 1000n) - performance.now() * 1000
  const timed = await watched(fn)
  const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: Profile }
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parentOf = new Map<number, ProfileNode>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node)
  const inGaps: string[] = []
  for (const gap of [...timed.longestGaps.slice(0, 2), ...timed.longestNonGcGaps.slice(0, 2)]) {
    const self = new Map<string, number>()
    // V8's collector as the profiler saw it: its samples' time. Some of its work on this thread comes with no `gc`
    // entry (at 1M: gaps without one, full of the collector's samples), which measure.ts counts as ours.
    let sampledGcUs = 0
    let t = profile.startTime
    for (let i = 0; i < profile.samples.length; i++) {
      t += profile.timeDeltas[i]!
      const when = (t - offsetUs) / 1000
      if (when < gap.start || when > gap.end) continue
      // The function and its caller: a builtin's or a small helper's name alone says little.
      const node = byId.get(profile.samples[i]!)!
      if (node.callFrame.functionName === '(garbage collector)') sampledGcUs += profile.timeDeltas[i + 1] ?? 0
      const caller = parentOf.get(node.id)
      const name =
        frameName(node.callFrame) +
        (caller === undefined || caller.callFrame.functionName === '(root)'
          ? ''
          : ` < ${frameName(caller.callFrame)}`)
      self.set(name, (self.get(name) ?? 0) + 1)
    }
    const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 8)
    inGaps.push(
      `gap ${(gap.end - gap.start).toFixed(1)} ms (GC ${gap.gcMs.toFixed(1)} ms by its entries, ` +
        `${(sampledGcUs / 1000).toFixed(1)} ms by the profiler's samples; thread CPU ${gap.cpuMs.toFixed(1)} ms ±4, ` +
        `of it in the kernel ~${gap.systemMs.toFixed(1)} ms, ` +
        `wait for a core ${gap.runQueueMs.toFixed(1)} ms): ` +
        top.map(([name, count]) => `${name} x${count}`).join(', ')
    )
  }
  if (split === undefined) return { ...timed, inGaps, parts: [] }
  const file = join(process.env.BENCH_BLOCKS_PROFILE_DIR ?? tmpdir(), `blocks-${n}-${split}.cpuprofile`)
  await writeFile(file, JSON.stringify(profile))
  console.log(`  CPU profile of ${split}: ${file}`)
  return { ...timed, inGaps, parts: partsOf(profile) }
}

/** The floor's all() building the libraries' PeerId and Multiaddr objects for every peer. */
const LIBRARY_LIST = 'all() with library PeerId/Multiaddr'

/** Each op's figures, floor's and ours, for the table at the end. */
const measured = new Map<string, { floor?: Timed<unknown>; ours?: Timed<unknown> }>()

function report(side: 'floor' | 'ours', op: string, t: Observed<unknown>): void {
  const row = measured.get(op) ?? {}
  row[side] = t
  measured.set(op, row)
  const b = t.blocks
  console.log(
    `${side} ${op}: ${t.ms.toFixed(0)} ms; longest block ${t.longestBlockMs.toFixed(1)} ms (monitorEventLoopDelay), ` +
      `gap ${b.longestGapMs.toFixed(1)} ms of which GC ${b.longestGapGcMs.toFixed(1)} ms; longest GC pause ` +
      `${b.longestGcPauseMs.toFixed(1)} ms (${b.longestGcPauseKind}; ${b.gcPauses} pauses, ` +
      `${b.gcPauseTotalMs.toFixed(0)} ms in all); longest non-GC stretch ${b.longestNonGcMs.toFixed(1)} ms ` +
      `(waiting for a core ${b.longestNonGcRunQueueMs.toFixed(1)} ms, so ours ${b.longestNonGcOwnMs.toFixed(1)} ms; ` +
      `thread CPU ${b.longestNonGcCpuMs.toFixed(1)} ms, ±4)`
  )
  for (const line of t.inGaps) console.log(`  ${line}`)
  if (t.parts.length > 0) {
    const total = t.parts.reduce((sum, [, ms]) => sum + ms, 0)
    console.log(
      `  where its ${total.toFixed(0)} ms went: ` +
        t.parts
          .slice(0, 12)
          .map(([part, ms]) => `${part} ${ms.toFixed(0)} ms (${((100 * ms) / total).toFixed(0)}%)`)
          .join(', ')
    )
  }
}

/** A longest block as the table shows it: the block, the GC pause inside it, the longest non-GC stretch's parts. */
function blockCell(t: Timed<unknown> | undefined): string {
  if (t === undefined) return '–'
  const b = t.blocks
  return (
    `${b.longestGapMs.toFixed(1)} (GC ${b.longestGapGcMs.toFixed(1)}); longest GC pause ${b.longestGcPauseMs.toFixed(1)} ` +
    `${b.longestGcPauseKind}; non-GC ${b.longestNonGcMs.toFixed(1)} (wait ${b.longestNonGcRunQueueMs.toFixed(1)} / ` +
    `own ${b.longestNonGcOwnMs.toFixed(1)})`
  )
}

function table(): void {
  console.log(
    `\n${n} peers, the JS floor beside ours (ms; blocks: the longest gap, the GC pause in it; the longest`
  )
  console.log(
    'GC pause and its kind; the longest stretch without a GC pause, split into the wait for a core and ours)'
  )
  console.log('| op | floor | ours | ours / floor | floor longest block | ours longest block |')
  console.log('| --- | --- | --- | --- | --- | --- |')
  for (const [op, { floor, ours }] of measured) {
    const ratio = floor !== undefined && ours !== undefined ? (ours.ms / floor.ms).toFixed(2) : '–'
    console.log(
      `| ${op} | ${floor?.ms.toFixed(0) ?? '–'} | ${ours?.ms.toFixed(0) ?? '–'} | ${ratio} | ${blockCell(floor)} | ${blockCell(ours)} |`
    )
  }
  const reopen = measured.get('reopen-and-list')
  const verdict = (t: Timed<unknown> | undefined, ok: (t: Timed<unknown>) => boolean): string =>
    t === undefined ? '–' : ok(t) ? 'met' : 'MISSED'
  console.log(
    `reopen-and-list < 3 s: floor ${verdict(reopen?.floor, (t) => t.ms < 3000)}, ours ${verdict(reopen?.ours, (t) => t.ms < 3000)}`
  )
  for (const side of ['floor', 'ours'] as const) {
    if (![...measured.values()].some((row) => row[side] !== undefined)) continue
    // Over the ops both sides run (the floor's list of library objects is a comparison of its own).
    const worst = [...measured].reduce(
      (acc, [op, row]) => {
        if (op === LIBRARY_LIST) return acc
        const t = row[side]
        return t !== undefined && t.blocks.longestGapMs > acc.ms ? { op, ms: t.blocks.longestGapMs } : acc
      },
      { op: '–', ms: 0 }
    )
    console.log(
      `longest block < 10 ms, ${side}: ${worst.ms < 10 ? 'met' : 'MISSED'} (longest ${worst.ms.toFixed(1)} ms, ${worst.op})`
    )
  }
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

/** Sample ids whose listed addresses and protocols are checked against the workload (the counts cover all). */
function checkListed(side: string, peers: Peer[]): void {
  if (peers.length !== n) throw new Error(`${side} listed ${peers.length} of ${n} peers`)
  let addrs = 0
  let protocols = 0
  for (const peer of peers) {
    addrs += peer.addresses.length
    protocols += peer.protocols.length
  }
  if (addrs !== 4 * n || protocols !== 3 * n)
    throw new Error(
      `${side} listed ${addrs} addresses and ${protocols} protocols, expected ${4 * n} and ${3 * n}`
    )
}

/** The floor's reopen-and-list, all() and GC, measured as ours are; its LevelDB is written first, untimed. */
async function floor(): Promise<void> {
  const floorPath = join(dir, 'floor')
  let floorNow = now
  const written = performance.now()
  await FloorPersistedStore.write(floorPath, workloadRecords(n, floorNow + AddressTTL))
  console.log(`floor: ${n} records written in ${((performance.now() - written) / 1000).toFixed(1)} s`)
  heapUsed()
  let store: FloorPersistedStore | undefined
  const reopen = await observed(async () => {
    store = await FloorPersistedStore.open(floorPath, () => floorNow)
    return store.all()
  }, 'floor-reopen-and-list')
  checkListed('floor reopen', reopen.value)
  // What it listed is what was written: a sample of ids, each with the workload's addresses and protocols.
  for (let i = 0; i < n; i += Math.max(1, Math.floor(n / 1000))) {
    const text = peerIdFor(i).toString()
    const entry = store!.get(text)
    const expected = addrsFor(i).map(String)
    if (
      entry === undefined ||
      entry.addrs.join() !== expected.join() ||
      entry.protocols.join() !== PROTOCOLS.join()
    )
      throw new Error(`floor reopen read peer ${i} (${text}) back wrong`)
  }
  report('floor', 'reopen-and-list', { ...reopen, value: reopen.value.length })
  for (let i = 0; i < 3; i++)
    report('floor', `all() ${i + 1}`, await observed(async () => (await store!.all()).length))
  const library = await observed(async () => {
    const peers = await store!.allLibrary()
    checkListed('floor allLibrary', peers)
    return peers.length
  })
  report('floor', LIBRARY_LIST, library)
  floorNow += 2 * 60 * 60_000
  const gc = await observed(() => store!.gc())
  if (gc.value !== 4 * n) throw new Error(`floor GC removed ${gc.value} of ${4 * n} addrs`)
  report('floor', 'GC of a full expiry', gc)
  await store!.close()
}

const dir = await mkdtemp(join(tmpdir(), 'peerstore-blocks-'))
const path = join(dir, 'db')
let now = Date.now()
const open = () =>
  openPeerStore({ path, clock: () => now, gc: { interval: 0 }, limits: { maxAddrs: 8 * n + 1_000_000 } })
console.log(`blocks.ts ${n}: load average ${loadAverage().join(' / ')} at the start`)
try {
  if (sides.includes('floor')) await floor()
  if (sides.includes('ours')) await ours()
  table()
} finally {
  await rm(dir, { recursive: true, force: true })
}
console.log(`load average ${loadAverage().join(' / ')} at the end`)

/** Ours: built (untimed), then reopen-and-list, all(), GC and LevelDB's catch-up after it. */
async function ours(): Promise<void> {
  await build()
  // What the build and the floor left is out of reach now: collected before ours is measured.
  heapUsed()
  let reopened: LevelPeerStore | undefined
  let view: Libp2pPeerStore | undefined
  const reopen = await observed(async () => {
    reopened = await open()
    view = new Libp2pPeerStore(reopened, { events: { safeDispatchEvent: () => true }, maxPeerAge: 0 })
    return view.all()
  }, 'ours-reopen-and-list')
  checkListed('ours reopen', reopen.value)
  report('ours', 'reopen-and-list', { ...reopen, value: reopen.value.length })
  if (snapshotDir !== undefined) {
    heapUsed()
    console.log(`heap snapshot: ${writeHeapSnapshot(join(snapshotDir, `peerstore-${n}.heapsnapshot`))}`)
    // And one holding what all() returns: its objects per peer are what every scavenge during all() copies.
    const list = await view!.all()
    heapUsed()
    const listed = writeHeapSnapshot(join(snapshotDir, `peerstore-${n}-with-list.heapsnapshot`))
    console.log(`heap snapshot holding all()'s ${list.length} peers: ${listed}`)
  }
  for (let i = 0; i < 3; i++)
    report('ours', `all() ${i + 1}`, await observed(async () => (await view!.all()).length))
  now += 2 * 60 * 60_000
  const gc = await observed(() => reopened!.gc())
  if (gc.value.addrsRemoved !== 4 * n)
    throw new Error(`GC removed ${gc.value.addrsRemoved} of ${4 * n} addrs`)
  report('ours', 'GC of a full expiry', gc)
  // LevelDB takes GC's deletes after gc() resolved: the write path's batches, each encoded in a turn of its own.
  report('ours', "GC's LevelDB catch-up", await observed(() => reopened!.flush()))
  await reopened!.close()
}
