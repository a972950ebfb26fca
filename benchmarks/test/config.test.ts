import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { BenchConfigError } from '@peerscope/bench-kit'
import { bulkMessages, printable, transferConfig, warmUpCurveConfig } from '../transfer/config.ts'
import { refused } from './refused.ts'

const names = (config: { variants: Array<{ name: string }> }) => config.variants.map((v) => v.name)

describe('transferConfig', () => {
  it('defaults to every main variant, 5 rounds of 256 MiB and 100,000 x 100 B after 512 MiB of warm-up', () => {
    const config = transferConfig({})
    assert.deepEqual(names(config), [
      'none',
      'ours',
      'ours+scrapes',
      'prometheus-metrics',
      'prometheus-metrics+scrapes'
    ])
    assert.equal(config.rounds, 5)
    assert.equal(config.bulkMiB, 256)
    assert.equal(config.smallMessages, 100_000)
    assert.equal(config.warmupMiB, 512)
    assert.equal(config.pin, undefined)
    assert.deepEqual(config.idleProbe, { windowMs: 1000, scrapes: 20 })
  })

  it('keeps none first as the baseline when variants are named, controls included', () => {
    assert.deepEqual(names(transferConfig({ BENCH_VARIANTS: 'ours' })), ['none', 'ours'])
    assert.deepEqual(names(transferConfig({ BENCH_VARIANTS: 'quiet,none,hooks' })), [
      'none',
      'quiet',
      'hooks'
    ])
    assert.deepEqual(transferConfig({ BENCH_VARIANTS: 'ours+scrapes' }).variants[1], {
      name: 'ours+scrapes',
      kind: 'ours',
      scrapes: true
    })
  })

  it('reads sizes, rounds and a cold start', () => {
    const config = transferConfig({
      BENCH_ROUNDS: '2',
      BENCH_BULK_MIB: '4',
      BENCH_SMALL_MESSAGES: '1000',
      BENCH_WARMUP: '0'
    })
    assert.deepEqual([config.rounds, config.bulkMiB, config.smallMessages, config.warmupMiB], [2, 4, 1000, 0])
    assert.equal(bulkMessages(config.bulkMiB), 64)
  })

  it('refuses a bad value before anything runs, naming the variable', () => {
    refused(() => transferConfig({ BENCH_ROUNDS: '0' }), 'BENCH_ROUNDS')
    refused(() => transferConfig({ BENCH_ROUNDS: 'ten' }), 'BENCH_ROUNDS')
    refused(() => transferConfig({ BENCH_BULK_MIB: '0.5' }), 'BENCH_BULK_MIB')
    refused(() => transferConfig({ BENCH_SMALL_MESSAGES: '-3' }), 'BENCH_SMALL_MESSAGES')
    refused(() => transferConfig({ BENCH_WARMUP: '64MiB' }), 'BENCH_WARMUP')
    refused(() => transferConfig({ BENCH_VARIANTS: 'ours,prometheus' }), 'BENCH_VARIANTS')
    refused(() => transferConfig({ BENCH_PIN: 'yes' }), 'BENCH_PIN')
  })

  it('pins with taskset, or says it is missing', () => {
    try {
      assert.equal(transferConfig({ BENCH_PIN: '1' }).pin, 'split')
      assert.equal(transferConfig({ BENCH_PIN: 'same' }).pin, 'same')
    } catch (err) {
      // Without taskset on PATH the setting is refused up front, not when the first child is pinned.
      assert.ok(err instanceof BenchConfigError && /taskset/.test(err.message), String(err))
    }
  })

  it('prints variant names', () => {
    assert.deepEqual(printable(transferConfig({ BENCH_VARIANTS: 'ours' })).variants, ['none', 'ours'])
  })
})

describe('warmUpCurveConfig', () => {
  it('defaults to none and ours, 4 rounds of 24 segments of 32 MiB', () => {
    const config = warmUpCurveConfig({})
    assert.deepEqual(names(config), ['none', 'ours'])
    assert.deepEqual([config.rounds, config.segments, config.segmentMiB], [4, 24, 32])
  })

  it('takes the same variant names as the transfer, and refuses others', () => {
    assert.deepEqual(names(warmUpCurveConfig({ BENCH_VARIANTS: 'ours,quiet' })), ['ours', 'quiet'])
    refused(() => warmUpCurveConfig({ BENCH_VARIANTS: 'fast' }), 'BENCH_VARIANTS')
    refused(() => warmUpCurveConfig({ BENCH_SEGMENTS: '0' }), 'BENCH_SEGMENTS')
    refused(() => warmUpCurveConfig({ BENCH_SEGMENT_MIB: 'x' }), 'BENCH_SEGMENT_MIB')
  })
})
