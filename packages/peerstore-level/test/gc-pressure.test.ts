// Memory between GC runs is bounded by `gc.runAfterAddrs`, not by the arrival rate of new peers: peers arrive at
// 1,000 per simulated second, each with three addresses at a short TTL, and GC runs every 10 simulated minutes (the
// default timer). With timed runs only, the index holds every peer of the interval (most of them expired); with the
// address count starting runs, it holds the live peers plus at most `runAfterAddrs` addresses' worth.
// `script/test` runs 20,000 peers with a 4 s TTL; `pnpm soak` runs 720,000 with TempAddrTTL and the default
// `runAfterAddrs` (PEERSCOPE_GC_PRESSURE_PEERS, PEERSCOPE_GC_PRESSURE_TTL, PEERSCOPE_GC_PRESSURE_AFTER).
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { MemoryLevel } from 'memory-level'
import { type GcStats, openPeerStore, PermanentAddrTTL, TempAddrTTL } from '../src/node.ts'
import type { GcPressureOptions, GcPressureReport } from './fixtures/gc-pressure.ts'
import { runJsonDriver } from './suite/child-process.ts'
import { MockClock, makeAddrs, makePeers } from './suite/helpers.ts'

const PEERS = Number(process.env.PEERSCOPE_GC_PRESSURE_PEERS ?? 20_000)
const TTL = Number(process.env.PEERSCOPE_GC_PRESSURE_TTL ?? 4_000)
const AFTER = Number(process.env.PEERSCOPE_GC_PRESSURE_AFTER ?? 6_000)
/** Heap per peer held over the open, empty store's (the churn test measured about 3.9 KiB with more per peer). */
const HEAP_PER_PEER = 6 * 1024

const child = fileURLToPath(new URL('./fixtures/gc-pressure-child.ts', import.meta.url))
const dir = await mkdtemp(join(tmpdir(), 'peerscope-gc-pressure-'))
after(() => rm(dir, { recursive: true, force: true }))

const runChild = (options: GcPressureOptions): Promise<GcPressureReport> =>
  runJsonDriver('GC pressure', child, options)

const mib = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`
const describe = (r: GcPressureReport): string =>
  `runAfterAddrs ${r.runAfterAddrs}: peak ${r.peakIndexPeers} peers held, heap peak ${mib(r.peakHeap)} ` +
  `(empty store ${mib(r.baselineHeap)}), ${r.gcRuns} GC runs, max RSS ${mib(r.maxRss)}, ${(r.wallMs / 1000).toFixed(1)} s`

const common = { peers: PEERS, ratePerSec: 1_000, gcIntervalMs: 10 * 60_000, ttl: TTL }
// Three addresses per peer: the count starts a run once the store gained runAfterAddrs / 3 peers' worth. Slack for
// peers that arrive while a run scans, and for the driver's 100-peer turns of the event loop.
const livePeers = Math.round((common.ratePerSec * TTL) / 1_000)
const heldBound = livePeers + Math.ceil(AFTER / 3) + 2_000 + Math.ceil(livePeers / 10)

// Two tests, each with its own time budget (the soak's sizes take minutes each).
test(`${PEERS.toLocaleString('en')} new peers at 1,000/s, GC every 10 min and by gc.runAfterAddrs ${AFTER}: memory between runs is bounded`, async (t) => {
  const r = await runChild({ ...common, path: join(dir, 'bounded'), runAfterAddrs: AFTER })
  t.diagnostic(
    `${PEERS} peers at 1,000/s, ${TTL / 1000} s TTL, timed GC every 10 min; live peers ${r.livePeers}`
  )
  t.diagnostic(`with the address count: ${describe(r)}`)
  assert.equal(r.livePeers, livePeers)
  assert.ok(r.peakIndexPeers <= heldBound, `held ${r.peakIndexPeers} peers, bound ${heldBound}`)
  const heapBound = r.baselineHeap + HEAP_PER_PEER * heldBound
  assert.ok(r.peakHeap <= heapBound, `heap ${mib(r.peakHeap)}, bound ${mib(heapBound)}`)
  assert.ok(r.gcRuns >= 2, 'the address count started runs')
})

test(`the same with timed runs only: the interval's peers pile up past that bound`, async (t) => {
  // At 1,000 new peers/s with three addresses each, timed runs alone reach the default maxAddrs (1,000,000) after
  // about 333 s, and every new address is refused until the next run: raised here to see the memory instead.
  const r = await runChild({ ...common, path: join(dir, 'timed'), runAfterAddrs: 0, maxAddrs: 10_000_000 })
  t.diagnostic(`timed runs only: ${describe(r)}`)
  assert.ok(r.peakIndexPeers > heldBound, `timed runs only held ${r.peakIndexPeers} peers`)
})

test('a GC run starts once gc.runAfterAddrs expiring addresses were gained, with no timer; 0 turns it off', async () => {
  const clock = new MockClock()
  const turns = async (n = 5): Promise<void> => {
    for (let i = 0; i < n; i++) await new Promise((r) => setTimeout(r, 0))
  }
  const peers = await makePeers(22)
  const store = await openPeerStore({
    db: new MemoryLevel<string, string>(),
    clock: clock.read,
    gc: { interval: 0, runAfterAddrs: 30 }
  })
  // Read through a call: an assertion on `store.lastGc` would narrow its type for the lines after it.
  const last = (): GcStats | undefined => store.lastGc
  try {
    for (const p of peers.slice(0, 9)) await store.addAddrs(p.id, makeAddrs(3), TempAddrTTL)
    // Addresses that never expire are not what GC collects: they do not count.
    await store.addAddrs(peers[21]!.id, makeAddrs(10), PermanentAddrTTL)
    await turns()
    assert.equal(store.lastGc, undefined, '27 gained: no run yet')
    await store.addAddrs(peers[9]!.id, makeAddrs(3), TempAddrTTL)
    await turns()
    assert.equal(last()?.addrsRemoved, 0, 'the 30th started a run (nothing had expired)')
    clock.advance(TempAddrTTL)
    for (const p of peers.slice(10, 20)) await store.addAddrs(p.id, makeAddrs(3), TempAddrTTL)
    await turns()
    assert.equal(last()?.addrsRemoved, 30, 'the next 30 started another, which removed the expired 30')
    assert.equal(store.peers().length, 11)
  } finally {
    await store.close()
  }

  const off = await openPeerStore({
    db: new MemoryLevel<string, string>(),
    gc: { interval: 0, runAfterAddrs: 0 }
  })
  try {
    for (const p of peers) await off.addAddrs(p.id, makeAddrs(3), TempAddrTTL)
    await turns()
    assert.equal(off.lastGc, undefined)
  } finally {
    await off.close()
  }
  for (const bad of [-1, 1.5, Number.NaN]) {
    await assert.rejects(
      openPeerStore({ db: new MemoryLevel<string, string>(), gc: { runAfterAddrs: bad } }),
      (err: Error & { code?: string }) =>
        err.code === 'ERR_INVALID_ARGUMENT' && /gc\.runAfterAddrs/.test(err.message)
    )
  }
})

test('a run the address count asked for does not outlive close()', async () => {
  const peers = await makePeers(4)
  const store = await openPeerStore({
    db: new MemoryLevel<string, string>(),
    gc: { interval: 0, runAfterAddrs: 3 }
  })
  for (const p of peers) await store.addAddrs(p.id, makeAddrs(3), TempAddrTTL)
  // The run is due at the next turn of the event loop; close() comes first.
  await store.close()
  await new Promise((r) => setTimeout(r, 10))
  assert.equal(store.lastGc, undefined)
})
