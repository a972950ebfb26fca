import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SharedMetricMap } from '@peerscope/metric-map'
import { prng } from './prng.ts'
import { runWorker } from './run-worker.ts'

const WORKERS = 4
const INCREMENTS = 1_000_000
const KEYS = 10_000
const MAX_DELTA = 1500

for (const lanes of [1, 3]) {
  // Three lanes for four writers: two of them share a lane, the others have one each.
  test(`${WORKERS} workers × ${INCREMENTS} increments over ${KEYS} keys, ${lanes} lane(s): every per-key sum is exact`, async () => {
    const map = SharedMetricMap.create({ capacity: KEYS, maxThreads: WORKERS + 1, lanes })
    const seeds = Array.from({ length: WORKERS }, (_, w) => 0x9e3779b9 ^ (w * 7919))
    const done = seeds.map((seed, w) =>
      runWorker<string>('./workers/stress-worker.ts', {
        // Two writers attach through the memory (WebAssembly updates), two through the buffer (Atomics updates).
        target: w < 2 ? map.memory : map.buffer,
        seed,
        increments: INCREMENTS,
        keyCount: KEYS,
        maxDelta: MAX_DELTA,
        // Half the writers go through map.add(key), half through handles (add, or increment on a laned map): every
        // path races on the same slots.
        mode: w % 2 === 0 ? 'key' : lanes > 1 ? 'increment' : 'handle'
      })
    )

    // The expected totals, replayed independently from the same seeds while the workers run.
    const expected = new Float64Array(KEYS)
    let grand = 0
    for (const seed of seeds) {
      const random = prng(seed)
      for (let i = 0; i < INCREMENTS; i++) {
        const k = Math.floor(random() * KEYS)
        const delta = 1 + Math.floor(random() * MAX_DELTA)
        expected[k] = (expected[k] as number) + delta
        grand += delta
      }
    }
    assert.deepEqual(await Promise.all(done), Array(WORKERS).fill('done'))

    assert.equal(map.size, KEYS)
    let mismatches = 0
    let sum = 0
    for (let k = 0; k < KEYS; k++) {
      const got = map.get(`/peer/${k}`)
      sum += got ?? 0
      if (got !== expected[k]) mismatches++
    }
    assert.equal(mismatches, 0, `${mismatches} keys differ from their expected sums`)
    assert.equal(sum, grand)
    const snap = map.snapshot()
    assert.equal(snap.size, KEYS)
    for (let k = 0; k < KEYS; k += 97) assert.equal(snap.get(`/peer/${k}`), expected[k])
  })
}
