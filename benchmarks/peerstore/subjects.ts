// One subject of the scaling benchmark at one size, measured in its own process (scale.ts starts it): ours through
// the core API, ours through the js-libp2p PeerStore view, or @libp2p/peer-store on datastore-level. It prints
// one JSON line (`{"subject": ...}`) and exits.
import { closeSync, openSync, writeSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerId, PeerStore } from '@libp2p/interface'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { persistentPeerStore } from '@libp2p/peer-store'
import type { Multiaddr } from '@multiformats/multiaddr'
import type * as PeerstoreLevelModule from '@peerscope/peerstore-level'
import type { LevelPeerStore } from '@peerscope/peerstore-level'
import { LevelDatastore } from 'datastore-level'
import { FloorPeerStore } from './floor.ts'
import { type BlockAttribution, heapUsed, threadCpuMs, watched } from './measure.ts'
import { CHUNK, chunk, PROTOCOLS } from './workload.ts'

/** The parts of @peerscope/peerstore-level this uses (a baseline build, BENCH_SCALE_BASELINE, has them too). */
type PeerstoreLevel = Pick<typeof PeerstoreLevelModule, 'openPeerStore' | 'Libp2pPeerStore' | 'AddressTTL'>
type OursStore = LevelPeerStore

interface SubjectFigures {
  subject: string
  peers: number
  insertNsPerPeer: number
  insertCpuNsPerPeer: number
  /** The floor's inserts again with a write(2) per call (floor.ts, `FloorJournal`): a durable store's least. */
  insertDurableNsPerPeer?: number
  insertDurableCpuNsPerPeer?: number
  getNsPerPeer: number
  getCpuNsPerPeer: number
  /** Heap per peer of the store that took the writes, once its writes reached LevelDB. */
  heapLivePerPeer: number
  /** Heap held by the write-behind backlog right after the last insert resolved, per peer. */
  backlogHeapPerPeer?: number
  /** How long LevelDB took to catch up after the last insert resolved. */
  catchUpMs?: number
  heapReopenedPerPeer?: number
  reopenAndListMs?: number
  reopenAndListBlockMs?: number
  allMs?: number
  allBlockMs?: number
  gcMs?: number
  gcCpuMs?: number
  gcBlockMs?: number
  /** How long LevelDB took to take GC's deletes after `gc()` resolved. */
  gcCatchUpMs?: number
  /** This thread's CPU time meanwhile: the deletes' batches encoded on the event loop, which the run caused. */
  gcCatchUpCpuMs?: number
  /** `gcCpuMs` + `gcCatchUpCpuMs`: all the event loop's work a full expiry costs, disk writes included. */
  gcWithCatchUpCpuMs?: number
}

type BlockedOp = 'gc' | 'all' | 'reopenAndList'

type BlockFigure =
  | 'GcPauseMs'
  | 'GcPauseKind'
  | 'GcPauseTotalMs'
  | 'GapMs'
  | 'GapGcMs'
  | 'NonGcMs'
  | 'NonGcCpuMs'
  | 'NonGcRunQueueMs'
  | 'NonGcOwnMs'

/** Per op (gc, all, reopenAndList): where its longest blocks went (`blockFigures`). */
export type SubjectResult = SubjectFigures & Partial<Record<`${BlockedOp}${BlockFigure}`, number | string>>

/** The op's block attribution as figures named after it (`gcGcPauseMs`, `allNonGcMs`, ...). */
function blockFigures(op: BlockedOp, b: BlockAttribution): Partial<SubjectResult> {
  return {
    [`${op}GcPauseMs`]: b.longestGcPauseMs,
    [`${op}GcPauseKind`]: b.longestGcPauseKind,
    [`${op}GcPauseTotalMs`]: b.gcPauseTotalMs,
    [`${op}GapMs`]: b.longestGapMs,
    [`${op}GapGcMs`]: b.longestGapGcMs,
    [`${op}NonGcMs`]: b.longestNonGcMs,
    [`${op}NonGcCpuMs`]: b.longestNonGcCpuMs,
    [`${op}NonGcRunQueueMs`]: b.longestNonGcRunQueueMs,
    [`${op}NonGcOwnMs`]: b.longestNonGcOwnMs
  }
}

/** The worst of several runs' attributions: each longest figure the longest of them. */
function worst(all: BlockAttribution[]): BlockAttribution {
  const byPause = all.reduce((a, b) => (b.longestGcPauseMs > a.longestGcPauseMs ? b : a))
  const byGap = all.reduce((a, b) => (b.longestGapMs > a.longestGapMs ? b : a))
  const byNonGc = all.reduce((a, b) => (b.longestNonGcMs > a.longestNonGcMs ? b : a))
  return {
    longestGcPauseMs: byPause.longestGcPauseMs,
    longestGcPauseKind: byPause.longestGcPauseKind,
    gcPauseTotalMs: Math.max(...all.map((b) => b.gcPauseTotalMs)),
    gcPauses: Math.max(...all.map((b) => b.gcPauses)),
    longestGapMs: byGap.longestGapMs,
    longestGapGcMs: byGap.longestGapGcMs,
    longestNonGcMs: byNonGc.longestNonGcMs,
    longestNonGcCpuMs: byNonGc.longestNonGcCpuMs,
    longestNonGcRunQueueMs: byNonGc.longestNonGcRunQueueMs,
    longestNonGcOwnMs: byNonGc.longestNonGcOwnMs
  }
}

interface Spent {
  ms: number
  cpuMs: number
}

const TWO_HOURS = 2 * 60 * 60_000
const events = { safeDispatchEvent: () => true }

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'peerstore-scale-'))
}

/** Inserts `n` peers, chunk by chunk: only the calls are timed (the caller's objects are made untimed). */
async function insertAll(
  n: number,
  insert: (id: PeerId, addrs: Multiaddr[]) => Promise<unknown>
): Promise<Spent> {
  const spent = { ms: 0, cpuMs: 0 }
  for (let from = 0; from < n; from += CHUNK) {
    const c = chunk(from, Math.min(from + CHUNK, n))
    // The chunk's making leaves garbage: collected now, not inside the timing (the Go program does the same).
    globalThis.gc?.()
    const t = performance.now()
    const cpu = threadCpuMs()
    for (let k = 0; k < c.ids.length; k++) await insert(c.ids[k]!, c.addrs[k]!)
    spent.ms += performance.now() - t
    spent.cpuMs += threadCpuMs() - cpu
  }
  return spent
}

async function getAll(n: number, get: (id: PeerId) => Promise<number> | number): Promise<Spent> {
  const spent = { ms: 0, cpuMs: 0 }
  let read = 0
  for (let from = 0; from < n; from += CHUNK) {
    const c = chunk(from, Math.min(from + CHUNK, n), false)
    globalThis.gc?.()
    const t = performance.now()
    const cpu = threadCpuMs()
    // The core API's reads are synchronous, as go's: awaited only when they return a promise (the libp2p view).
    for (const id of c.ids) {
      const got = get(id)
      read += typeof got === 'number' ? got : await got
    }
    spent.ms += performance.now() - t
    spent.cpuMs += threadCpuMs() - cpu
  }
  if (read !== n * 7) throw new Error(`get read ${read} addresses and protocols, expected ${n * 7}`)
  return spent
}

const perPeer = (ms: number, n: number): number => (ms * 1e6) / n

/** The figures every subject has: insert and get per peer (wall and thread CPU), heap per peer live. */
function common(subject: string, n: number, insert: Spent, get: Spent, heapLive: number): SubjectResult {
  return {
    subject,
    peers: n,
    insertNsPerPeer: perPeer(insert.ms, n),
    insertCpuNsPerPeer: perPeer(insert.cpuMs, n),
    getNsPerPeer: perPeer(get.ms, n),
    getCpuNsPerPeer: perPeer(get.cpuMs, n),
    heapLivePerPeer: heapLive / n
  }
}

/** Ours: the core API (go's calls) on LevelDB opened by path (journal included), then reopen, list, GC. */
async function ours(mod: PeerstoreLevel, n: number, name: string, viaView: boolean): Promise<SubjectResult> {
  const dir = await tempDir()
  const path = join(dir, 'db')
  let now = Date.now()
  const clock = () => now
  // The default store-wide limit is go's (a million unconnected addresses); the workload holds four per peer, and the
  // Go program raises go's limit the same way.
  const open = () =>
    mod.openPeerStore({ path, clock, gc: { interval: 0 }, limits: { maxAddrs: 8 * n + 1_000_000 } })
  const base = heapUsed()
  let store: OursStore | undefined = await open()
  let view: PeerStore | undefined = viaView ? new mod.Libp2pPeerStore(store, { events }) : undefined
  const s = store
  const insert =
    view === undefined
      ? await insertAll(n, async (id, addrs) => {
          await s.addAddrs(id, addrs, mod.AddressTTL)
          await s.addProtocols(id, PROTOCOLS)
        })
      : await insertAll(n, (id, addrs) => view!.merge(id, { multiaddrs: addrs, protocols: PROTOCOLS }))
  const backlogHeap = heapUsed()
  const t = performance.now()
  await store.flush()
  const catchUpMs = performance.now() - t
  const live = heapUsed()
  const v = view
  const get =
    v === undefined
      ? await getAll(n, (id) => s.addrs(id).length + s.getProtocols(id).length)
      : await getAll(n, async (id) => {
          const peer = await v.get(id)
          return peer.addresses.length + peer.protocols.length
        })
  const result: SubjectResult = {
    ...common(name, n, insert, get, live - base),
    backlogHeapPerPeer: (backlogHeap - live) / n,
    catchUpMs
  }
  await store.close()
  store = undefined
  view = undefined
  if (!viaView) {
    const between = heapUsed()
    let listed = 0
    const reopen = await watched(async () => {
      store = await open()
      // maxPeerAge 0: the view leaves the store's GC rule as it is (no peer kept 6 h by its last write).
      view = new mod.Libp2pPeerStore(store, { events, maxPeerAge: 0 })
      listed = (await view.all()).length
    })
    if (listed !== n) throw new Error(`reopen listed ${listed} of ${n} peers`)
    result.reopenAndListMs = reopen.ms
    result.reopenAndListBlockMs = reopen.longestBlockMs
    Object.assign(result, blockFigures('reopenAndList', reopen.blocks))
    result.heapReopenedPerPeer = (heapUsed() - between) / n
    const lists = []
    for (let i = 0; i < 3; i++) lists.push(await watched(async () => (await view!.all()).length))
    lists.sort((a, b) => a.ms - b.ms)
    result.allMs = lists[1]!.ms
    result.allBlockMs = Math.max(...lists.map((l) => l.longestBlockMs))
    Object.assign(result, blockFigures('all', worst(lists.map((l) => l.blocks))))
    now += TWO_HOURS
    const gc = await watched(() => store!.gc())
    if (gc.value.addrsRemoved !== 4 * n)
      throw new Error(`GC removed ${gc.value.addrsRemoved} of ${4 * n} addrs`)
    result.gcMs = gc.ms
    result.gcCpuMs = gc.cpuMs
    result.gcBlockMs = gc.longestBlockMs
    Object.assign(result, blockFigures('gc', gc.blocks))
    const t = performance.now()
    const cpu = threadCpuMs()
    await store!.flush()
    result.gcCatchUpMs = performance.now() - t
    result.gcCatchUpCpuMs = threadCpuMs() - cpu
    result.gcWithCatchUpCpuMs = gc.cpuMs + result.gcCatchUpCpuMs
    await store!.close()
  }
  await rm(dir, { recursive: true, force: true })
  return result
}

/** @libp2p/peer-store on datastore-level: its own calls (merge, get, all), then reopen and list. */
async function upstream(n: number): Promise<SubjectResult> {
  const dir = await tempDir()
  const path = join(dir, 'db')
  const self = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const logger = defaultLogger()
  const make = (datastore: LevelDatastore): PeerStore =>
    persistentPeerStore({ peerId: self, datastore, events: events as never, logger })
  const base = heapUsed()
  let ds = new LevelDatastore(path)
  await ds.open()
  let store: PeerStore = make(ds)
  const insert = await insertAll(n, (id, addrs) =>
    store.merge(id, { multiaddrs: addrs, protocols: PROTOCOLS })
  )
  const live = heapUsed()
  const get = await getAll(n, async (id) => {
    const peer = await store.get(id)
    return peer.addresses.length + peer.protocols.length
  })
  const all = await watched(async () => (await store.all()).length)
  await ds.close()
  store = undefined as unknown as PeerStore
  const between = heapUsed()
  let listed = 0
  const reopen = await watched(async () => {
    ds = new LevelDatastore(path)
    await ds.open()
    store = make(ds)
    listed = (await store.all()).length
  })
  if (listed !== n) throw new Error(`upstream reopen listed ${listed} of ${n} peers`)
  const result: SubjectResult = {
    ...common('upstream', n, insert, get, live - base),
    heapReopenedPerPeer: (heapUsed() - between) / n,
    reopenAndListMs: reopen.ms,
    reopenAndListBlockMs: reopen.longestBlockMs,
    allMs: all.ms,
    allBlockMs: all.longestBlockMs
  }
  await ds.close()
  await rm(dir, { recursive: true, force: true })
  return result
}

/** go's AddressTTL, the TTL the floor's inserts use. */
const FLOOR_ADDRESS_TTL = 60 * 60_000

/** The workload's inserts into a floor store, timed as ours are (two calls per peer). */
function floorInserts(store: FloorPeerStore, n: number): Promise<Spent> {
  return insertAll(n, (id, addrs) => {
    store.addAddrs(id, addrs, FLOOR_ADDRESS_TTL)
    store.addProtocols(id, PROTOCOLS)
    return Promise.resolve()
  })
}

/** The floor (floor.ts): go's calls on a bare Map store; insert, get and GC, timed as ours are. */
async function floor(n: number): Promise<SubjectResult> {
  let now = Date.now()
  const base = heapUsed()
  const store = new FloorPeerStore(() => now)
  const insert = await floorInserts(store, n)
  const live = heapUsed()
  const get = await getAll(n, (id) => store.addrs(id).length + store.getProtocols(id).length)
  now += TWO_HOURS
  const gc = await watched(() => Promise.resolve(store.gc()))
  if (gc.value !== 4 * n) throw new Error(`floor GC removed ${gc.value} of ${4 * n} addrs`)
  const durable = await durableInsert(n)
  return {
    ...common('floor', n, insert, get, live - base),
    gcMs: gc.ms,
    gcCpuMs: gc.cpuMs,
    insertDurableNsPerPeer: perPeer(durable.ms, n),
    insertDurableCpuNsPerPeer: perPeer(durable.cpuMs, n)
  }
}

/** The floor's inserts into a fresh store whose every call appends its record to a file in the temp dir. */
async function durableInsert(n: number): Promise<Spent> {
  const dir = await tempDir()
  const fd = openSync(join(dir, 'journal'), 'a')
  try {
    return await floorInserts(new FloorPeerStore(Date.now, { append: (line) => writeSync(fd, line) }), n)
  } finally {
    closeSync(fd)
    await rm(dir, { recursive: true, force: true })
  }
}

/** Peers of the untimed run each subject makes first, so that the JIT has compiled what the timed run calls. */
const WARM_UP_PEERS = 3000

/** Runs `subject` at `n` peers; `module` is the @peerscope/peerstore-level entry to measure. */
export async function runSubject(subject: string, n: number, module: string): Promise<SubjectResult> {
  if (subject === 'upstream') {
    await upstream(Math.min(n, WARM_UP_PEERS / 3))
    return upstream(n)
  }
  if (subject === 'floor') {
    await floor(Math.min(n, WARM_UP_PEERS))
    return floor(n)
  }
  const mod = (await import(module)) as PeerstoreLevel
  const [kind, build] = subject.split('@') as [string, string | undefined]
  const name = build === undefined ? kind : `${kind}@${build}`
  if (kind !== 'ours' && kind !== 'ours-view') throw new Error(`unknown subject ${subject}`)
  await ours(mod, Math.min(n, WARM_UP_PEERS), name, kind === 'ours-view')
  return ours(mod, n, name, kind === 'ours-view')
}

if (import.meta.main) {
  const [subject = '', peers = '', module = '@peerscope/peerstore-level'] = process.argv.slice(2)
  const result = await runSubject(subject, Number(peers), module)
  console.log(JSON.stringify(result))
}
