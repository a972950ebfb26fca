import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { ChurnOptions, ChurnReport } from './fixtures/churn.ts'
import { runJsonDriver } from './suite/child-process.ts'

/** Distinct peers per run: 100,000 here (about 10 s alone); `pnpm soak` sets PEERSCOPE_CHURN_PEERS=1000000. */
const PEERS = Number(process.env.PEERSCOPE_CHURN_PEERS ?? 100_000)
/** Heap budget per peer held, over the heap of the open, empty store (measured: about 3.9 KiB). */
const HEAP_PER_PEER = 6 * 1024
/** Heap growth allowed between the first steady-state checkpoint and any later one. */
const HEAP_DRIFT = 2 * 2 ** 20
/** Heap after the drain over the empty store's (measured: +1.3 MiB after 20,000 peers, -3.4 MiB after 1,000,000). */
const DRAINED_HEAP_DRIFT = 4 * 2 ** 20
/** LevelDB's own compaction must keep the directory bounded (measured: at most 25 MiB). */
const DISK_BOUND = 64 * 2 ** 20
/** After the drain and a compaction only the bootstrap peers are left (measured: about 7 KiB). */
const DRAINED_DISK_BOUND = 256 * 1024

const child = fileURLToPath(new URL('./fixtures/churn-child.ts', import.meta.url))
const dir = await mkdtemp(join(tmpdir(), 'peerscope-churn-'))
after(() => rm(dir, { recursive: true, force: true }))

/** Runs the driver in a child process with --expose-gc, so heap is measured after a full GC. */
const runChild = (options: ChurnOptions): Promise<ChurnReport> => runJsonDriver('churn', child, options)

const mib = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`

test(`${PEERS.toLocaleString('en')} distinct peers through the LevelDB store with GC: memory and disk plateau, expired peers are gone from index and disk`, async (t) => {
  const r = await runChild({ path: join(dir, 'db'), peers: PEERS, checkpoints: PEERS >= 500_000 ? 20 : 10 })
  const last = r.checkpoints.at(-1)!
  t.diagnostic(
    `${r.peers} peers, ${r.writes} writes in ${(r.wallMs / 1000).toFixed(1)} s; held ${last.indexPeers} ` +
      `(bound ${r.heldBound}); heap after GC: baseline ${mib(r.baseline.heapUsed)}, peak ` +
      `${mib(Math.max(...r.checkpoints.map((c) => c.heapUsed)))}, end ${mib(r.end.heapUsed)}, drained ` +
      `${mib(r.drained.heapUsed)}; max RSS ${mib(r.maxRss)}; disk peak ` +
      `${mib(Math.max(...r.checkpoints.map((c) => c.diskBytes)))}, end ${mib(r.end.diskBytes)}, drained and ` +
      `compacted ${(r.drained.diskBytesAfterCompaction / 1024).toFixed(1)} KiB`
  )

  t.diagnostic(
    `checkpoints (peers: held, heap MiB, disk MiB): ` +
      r.checkpoints
        .map(
          (c) =>
            `${c.peersDone}: ${c.indexPeers}, ${(c.heapUsed / 2 ** 20).toFixed(1)}, ${(c.diskBytes / 2 ** 20).toFixed(1)}`
        )
        .join('; ')
  )

  // Every checkpoint: GC removed exactly the expired peers, and what is held stays inside the TTL window.
  const heapBound = r.baseline.heapUsed + HEAP_PER_PEER * r.heldBound
  for (const c of r.checkpoints) {
    const at = `after ${c.peersDone} peers`
    assert.equal(c.indexPeers, c.expectedPeers, `${at}: the index holds exactly the unexpired peers`)
    assert.ok(c.indexPeers <= r.heldBound, `${at}: ${c.indexPeers} peers held, bound ${r.heldBound}`)
    assert.ok(c.heapUsed <= heapBound, `${at}: heap ${mib(c.heapUsed)} over the bound ${mib(heapBound)}`)
    assert.ok(c.diskBytes <= DISK_BOUND, `${at}: LevelDB directory ${mib(c.diskBytes)}`)
  }
  // No growth trend once the window is full: later checkpoints stay within a small drift of the first one.
  const steady = r.checkpoints.filter((c) => c.peersDone >= 2 * r.window)
  assert.ok(steady.length >= 3, 'enough checkpoints in the steady state to see a trend')
  for (const c of steady.slice(1)) {
    assert.ok(
      c.heapUsed <= steady[0]!.heapUsed + HEAP_DRIFT,
      `heap grew from ${mib(steady[0]!.heapUsed)} (${steady[0]!.peersDone} peers) to ${mib(c.heapUsed)} ` +
        `(${c.peersDone} peers)`
    )
  }

  // End of the churn: live peers all present as written, expired ones gone from the index and every sublevel.
  const { end } = r
  assert.ok(end.expectedLive > r.window / 2, `the window holds live peers (${end.expectedLive})`)
  assert.equal(end.liveMissing, 0, 'every live peer is held with its addresses, protocols, metadata and key')
  assert.equal(end.indexExtra, 0, 'no expired peer is left in the index')
  assert.deepEqual(end.diskExtra, { addrs: 0, keys: 0, protos: 0, meta: 0, tags: 0, pins: 0 }, 'nor on disk')
  assert.equal(end.diskMissing, 0, 'every live peer is on disk')
  assert.equal(end.quarantined, 0)
  assert.equal(end.indexPeers, end.expectedLive + r.bootstrap)
  // A reopen loads exactly that state.
  assert.equal(r.reopen.quarantined, 0)
  assert.equal(r.reopen.peers, r.reopen.expected)

  // Drained: past every TTL only the pinned bootstrap peers remain; heap falls back, disk compacts to almost nothing.
  const { drained } = r
  assert.equal(drained.indexPeers, r.bootstrap, 'only the bootstrap peers are held')
  assert.equal(drained.liveMissing, 0, 'the pinned bootstrap peers kept their addresses and pins')
  assert.equal(drained.indexExtra, 0)
  assert.deepEqual(drained.diskExtra, { addrs: 0, keys: 0, protos: 0, meta: 0, tags: 0, pins: 0 })
  assert.ok(
    drained.heapUsed <= r.baseline.heapUsed + DRAINED_HEAP_DRIFT,
    `heap after the drain ${mib(drained.heapUsed)}, baseline ${mib(r.baseline.heapUsed)}`
  )
  assert.ok(
    drained.diskBytesAfterCompaction <= DRAINED_DISK_BOUND,
    `compacted directory holds ${drained.diskBytesAfterCompaction} bytes`
  )
})
