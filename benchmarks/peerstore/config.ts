// The scaling benchmark's settings, read and checked before any process starts (see benchmarks/README.md).
import { existsSync } from 'node:fs'
import { BenchConfigError, envChoice, envInteger } from '@peerscope/bench-kit'

type Env = Readonly<Record<string, string | undefined>>

export interface ScaleConfig {
  /** BENCH_SCALE_SIZES (default 10000,100000), and 1000000 with BENCH_SCALE_1M=1. */
  sizes: number[]
  /** BENCH_SCALE_MIN_ROUNDS / BENCH_SCALE_MAX_ROUNDS: rounds per size until the ratios are stable (1M: 2 to 3). */
  minRounds: number
  maxRounds: number
  /** BENCH_SCALE_UPSTREAM_MAX: @libp2p/peer-store runs at sizes up to this (10000; it takes minutes at 100000). */
  upstreamMax: number
  /** BENCH_SCALE_OPS: addresses per peer for go's BenchmarkInMemoryPeerstore cases (1,10,100; `none` skips them). */
  opsSizes: number[]
  /** BENCH_SCALE_BASELINE: another build's `src/node.ts`, measured in the same run as `ours@baseline`. */
  baseline: string | undefined
  /** A ratio is stable when its last `minRounds` rounds lie within this factor of each other. */
  stableWithin: number
}

const SIZES_MAX = 10_000_000

function sizeList(name: string, raw: string | undefined, fallback: number[]): number[] {
  const text = raw?.trim()
  if (text === undefined || text === '') return fallback
  const sizes = text.split(',').map((item) => item.trim())
  const numbers = sizes.map((item) => (/^\d+$/.test(item) ? Number(item) : Number.NaN))
  if (numbers.some((n) => !Number.isSafeInteger(n) || n < 1 || n > SIZES_MAX)) {
    throw new BenchConfigError(
      name,
      `${name} must be a comma-separated list of whole numbers from 1 to ${SIZES_MAX}, got ${JSON.stringify(raw)}`
    )
  }
  return [...new Set(numbers)]
}

export function scaleConfig(env: Env = process.env): ScaleConfig {
  const million = envChoice('BENCH_SCALE_1M', { '1': true, '0': false }, false, env)
  const sizes = sizeList('BENCH_SCALE_SIZES', env.BENCH_SCALE_SIZES, [10_000, 100_000])
  if (million && !sizes.includes(1_000_000)) sizes.push(1_000_000)
  const minRounds = envInteger('BENCH_SCALE_MIN_ROUNDS', 3, { min: 1, max: 50 }, env)
  const maxRounds = envInteger('BENCH_SCALE_MAX_ROUNDS', 5, { min: 1, max: 50 }, env)
  if (maxRounds < minRounds) {
    throw new BenchConfigError(
      'BENCH_SCALE_MAX_ROUNDS',
      `BENCH_SCALE_MAX_ROUNDS (${maxRounds}) must be at least BENCH_SCALE_MIN_ROUNDS (${minRounds})`
    )
  }
  const opsRaw = env.BENCH_SCALE_OPS?.trim()
  const opsSizes = opsRaw === 'none' ? [] : sizeList('BENCH_SCALE_OPS', opsRaw, [1, 10, 100])
  const baseline = env.BENCH_SCALE_BASELINE?.trim() || undefined
  if (baseline !== undefined && !existsSync(baseline)) {
    throw new BenchConfigError(
      'BENCH_SCALE_BASELINE',
      `BENCH_SCALE_BASELINE names ${JSON.stringify(baseline)}, which does not exist; give the path of another ` +
        'checkout\u2019s packages/peerstore-level/src/node.ts'
    )
  }
  return {
    sizes: sizes.sort((a, b) => a - b),
    minRounds,
    maxRounds,
    upstreamMax: envInteger('BENCH_SCALE_UPSTREAM_MAX', 10_000, { min: 0, max: 100_000 }, env),
    opsSizes,
    baseline,
    stableWithin: 1.15
  }
}

/** Rounds at a size: a million peers take minutes per round, so fewer there. */
export function roundsAt(config: ScaleConfig, peers: number): { min: number; max: number } {
  if (peers < 1_000_000) return { min: config.minRounds, max: config.maxRounds }
  return { min: Math.min(config.minRounds, 2), max: Math.min(config.maxRounds, 3) }
}
