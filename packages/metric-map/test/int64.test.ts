import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SharedMetricMap } from '@peerscope/metric-map'
import fc from 'fast-check'
import { int64ToNumber } from '../src/int64.ts'

const edges = [
  0n,
  1n,
  -1n,
  2n ** 31n - 1n,
  -(2n ** 31n),
  2n ** 32n - 1n,
  2n ** 32n,
  -(2n ** 32n),
  -(2n ** 32n) - 1n,
  2n ** 53n - 1n,
  -(2n ** 53n) + 1n,
  2n ** 53n + 1n, // a tie: rounds to even
  2n ** 54n + 2n,
  2n ** 54n + 6n,
  2n ** 63n - 1n,
  -(2n ** 63n)
]

test('int64ToNumber equals Number() on every int64, rounding included', () => {
  for (const v of edges) assert.equal(int64ToNumber(v), Number(v), `${v}`)
  fc.assert(
    fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (v) => {
      assert.equal(int64ToNumber(v), Number(v))
    }),
    { numRuns: 20_000, seed: 0x1e64 }
  )
})

test('shared counters past MAX_SAFE_INTEGER read as Number() of the exact 64-bit value', () => {
  const map = SharedMetricMap.create({ capacity: 8 })
  const h = map.handle('big')
  const max = Number.MAX_SAFE_INTEGER
  h.add(max)
  assert.equal(h.add(max), Number(2n * BigInt(max)))
  assert.equal(map.add('big', 3), Number(2n * BigInt(max) + 3n))
  assert.equal(h.get(), Number(2n ** 54n + 1n))
  assert.equal(map.get('big'), Number(2n ** 54n + 1n))
  map.add('neg', -max)
  assert.equal(map.add('neg', -max), Number(-2n * BigInt(max)))
  assert.equal(map.snapshot().get('neg'), Number(-2n * BigInt(max)))
})
