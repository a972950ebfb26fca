import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { roundsAt, scaleConfig } from '../peerstore/config.ts'
import { refused } from './refused.ts'

describe('scaleConfig', () => {
  it('defaults to 10k and 100k peers, 3 to 5 rounds, upstream at 10k, go\u2019s cases at 1, 10, 100', () => {
    const config = scaleConfig({})
    assert.deepEqual(config.sizes, [10_000, 100_000])
    assert.deepEqual([config.minRounds, config.maxRounds], [3, 5])
    assert.equal(config.upstreamMax, 10_000)
    assert.deepEqual(config.opsSizes, [1, 10, 100])
    assert.equal(config.baseline, undefined)
  })

  it('adds a million peers with BENCH_SCALE_1M=1, with fewer rounds there', () => {
    const config = scaleConfig({ BENCH_SCALE_1M: '1' })
    assert.deepEqual(config.sizes, [10_000, 100_000, 1_000_000])
    assert.deepEqual(roundsAt(config, 1_000_000), { min: 2, max: 3 })
    assert.deepEqual(roundsAt(config, 100_000), { min: 3, max: 5 })
  })

  it('takes sizes and go\u2019s cases as lists, sorted and without repeats; `none` skips the cases', () => {
    const config = scaleConfig({ BENCH_SCALE_SIZES: '5000, 2000,5000', BENCH_SCALE_OPS: 'none' })
    assert.deepEqual(config.sizes, [2000, 5000])
    assert.deepEqual(config.opsSizes, [])
  })

  it('refuses what it cannot run, naming the setting', () => {
    refused(() => scaleConfig({ BENCH_SCALE_SIZES: '10k' }), 'BENCH_SCALE_SIZES')
    refused(() => scaleConfig({ BENCH_SCALE_SIZES: '0' }), 'BENCH_SCALE_SIZES')
    refused(() => scaleConfig({ BENCH_SCALE_1M: 'yes' }), 'BENCH_SCALE_1M')
    refused(
      () => scaleConfig({ BENCH_SCALE_MIN_ROUNDS: '4', BENCH_SCALE_MAX_ROUNDS: '3' }),
      'BENCH_SCALE_MAX_ROUNDS'
    )
    refused(() => scaleConfig({ BENCH_SCALE_UPSTREAM_MAX: '1000000' }), 'BENCH_SCALE_UPSTREAM_MAX')
    refused(() => scaleConfig({ BENCH_SCALE_OPS: '1,ten' }), 'BENCH_SCALE_OPS')
    refused(() => scaleConfig({ BENCH_SCALE_BASELINE: '/nowhere/src/node.ts' }), 'BENCH_SCALE_BASELINE')
  })
})
