import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  bootstrapMedian,
  MIN_ROUNDS_TO_JUDGE,
  mean,
  median,
  pairedRatios,
  round,
  roundInterval,
  significant,
  verdict
} from '../src/stats.ts'

describe('median', () => {
  it('is the middle value of an odd count, the mean of the two middle ones of an even count', () => {
    assert.equal(median([3, 1, 2]), 2)
    assert.equal(median([4, 1, 3, 2]), 2.5)
    assert.equal(median([7]), 7)
  })

  it('leaves its input in order', () => {
    const values = [3, 1, 2]
    median(values)
    assert.deepEqual(values, [3, 1, 2])
  })

  it('refuses no values', () => {
    assert.throws(() => median([]), RangeError)
    assert.throws(() => mean([]), RangeError)
  })
})

describe('bootstrapMedian', () => {
  // Pinned: these are the intervals the transfer benchmark's former bench/median.ts gave for the same values, so
  // the runs recorded in RESULTS.md can still be recomputed from their per-round ratios.
  it('gives the intervals the recorded runs were computed with', () => {
    const a = [0.97, 1.01, 0.99, 1.03, 0.95, 1.0, 0.98, 1.02, 0.96, 1.04, 0.94, 1.05]
    assert.deepEqual(bootstrapMedian(a), { median: 0.995, low: 0.965, high: 1.025 })
    const b = Array.from({ length: 40 }, (_, i) => 0.9 + ((i * 37) % 40) / 200)
    const interval = bootstrapMedian(b)
    assert.equal(interval.median, 0.9975)
    assert.equal(round(interval.low, 4), 0.9675)
    assert.equal(round(interval.high, 4), 1.0275)
  })

  it('holds the median, and collapses on constant values', () => {
    const values = Array.from({ length: 25 }, (_, i) => Math.sin(i) + 2)
    const { median: m, low, high } = bootstrapMedian(values)
    assert.ok(low <= m && m <= high, `${low} <= ${m} <= ${high}`)
    assert.ok(low >= Math.min(...values) && high <= Math.max(...values))
    assert.deepEqual(bootstrapMedian([1.2, 1.2, 1.2]), { median: 1.2, low: 1.2, high: 1.2 })
  })

  it('is the same for the same values', () => {
    const values = [5, 3, 8, 1, 9, 2, 7]
    assert.deepEqual(bootstrapMedian(values), bootstrapMedian([...values]))
  })

  it('refuses no values', () => {
    assert.throws(() => bootstrapMedian([]), RangeError)
  })
})

describe('pairedRatios', () => {
  it('divides round by round', () => {
    assert.deepEqual(pairedRatios([2, 3, 9], [1, 2, 3]), [2, 1.5, 3])
  })

  it('refuses rounds that do not pair up', () => {
    assert.throws(() => pairedRatios([1, 2], [1]), /2 rounds against 1/)
  })
})

describe('verdict', () => {
  const enough = MIN_ROUNDS_TO_JUDGE
  it('holds when the whole interval is at or above the bound, missed when all of it is below', () => {
    assert.equal(verdict({ median: 1, low: 0.97, high: 1.02 }, 0.97, 'undecided', enough), 'holds')
    assert.equal(verdict({ median: 0.9, low: 0.88, high: 0.969 }, 0.97, 'undecided', enough), 'missed')
    assert.equal(verdict({ median: 0.97, low: 0.95, high: 0.99 }, 0.97, 'undecided', enough), 'undecided')
    assert.equal(verdict({ median: 1, low: 0.99, high: 1.01 }, 1, 'tied', enough), 'tied')
  })

  it('does not judge from too few rounds', () => {
    assert.equal(
      verdict({ median: 1, low: 0.99, high: 1.01 }, 0.5, 'undecided', enough - 1),
      'too few rounds'
    )
  })
})

describe('rounding', () => {
  it('rounds to decimal places or to significant digits', () => {
    assert.equal(round(0.98765, 3), 0.988)
    assert.equal(round(1234.5, 0), 1235)
    assert.equal(significant(0.00123456), 0.00123)
    assert.equal(significant(123456), 123000)
    assert.equal(significant(0), 0)
    assert.deepEqual(roundInterval({ median: 0.99949, low: 0.98751, high: 1.01249 }, 3), {
      median: 0.999,
      low: 0.988,
      high: 1.012
    })
  })
})
