// The settings of the two transfer harnesses (transfer.ts, warm-up-curve.ts), all read and checked here before a
// process starts. Environment variables, so `pnpm bench` and a direct run take the same ones.
import { spawnSync } from 'node:child_process'
import { BenchConfigError, envChoice, envInteger, envList } from '@peerscope/bench-kit'
import type { IdleProbe, Pinning } from './types.ts'
import { MAIN_VARIANTS, VARIANT_NAMES, type Variant, variantsNamed } from './variants.ts'

type Env = Readonly<Record<string, string | undefined>>

const MiB = 1024 * 1024
/** The bulk workload's message size; sizes in MiB are whole numbers, so every count below is whole. */
export const BULK_MESSAGE_BYTES = 64 * 1024
const MESSAGES_PER_MIB = MiB / BULK_MESSAGE_BYTES

export interface TransferConfig {
  /** BENCH_ROUNDS: every variant once per round, the order rotated each round. */
  rounds: number
  /** BENCH_BULK_MIB: timed MiB of 64 KiB messages per pair. */
  bulkMiB: number
  /** BENCH_SMALL_MESSAGES: timed 100 B messages per pair. */
  smallMessages: number
  /**
   * BENCH_WARMUP: untimed MiB of 64 KiB messages per fresh pair before the timed ones (plus 20,000 × 100 B); 0 times
   * from a cold start. A fresh pair keeps speeding up for its first 100 to 300 MiB (warm-up-curve.ts), and a timed
   * run inside that ramp compares how fast each variant warms up as much as what it costs once warm.
   */
  warmupMiB: number
  /** BENCH_VARIANTS: every main variant by default; when set, `none` (the baseline) plus the ones named. */
  variants: Variant[]
  /**
   * BENCH_PIN: `1` (or `split`) pins the sender to CPU 0 and the receiver to CPU 1, so the scheduler does not move
   * them around each other between rounds; `same` puts both on CPU 0, so the transfer is bound by CPU alone and every
   * cycle the metrics spend shows in the rate (and the rate no longer depends on how two cores' wake-ups line up,
   * most of the noise of free-running runs).
   */
  pin: Pinning
  /** Scrapes per second of the Prometheus text for the `+scrapes` variants (fixed). */
  scrapesPerSecond: number
  /** The idle sender's probe after its transfers (fixed). */
  idleProbe: IdleProbe
}

const PINS: Readonly<Record<string, Pinning>> = { '1': 'split', split: 'split', same: 'same' }

function checkTaskset(pin: Pinning): void {
  if (pin === undefined) return
  const probe = spawnSync('taskset', ['--version'], { stdio: 'ignore' })
  if (probe.error !== undefined || probe.status !== 0) {
    throw new BenchConfigError(
      'BENCH_PIN',
      'BENCH_PIN needs Linux `taskset` (util-linux) on PATH; unset it to run unpinned'
    )
  }
}

export function transferConfig(env: Env = process.env): TransferConfig {
  const named = envList('BENCH_VARIANTS', VARIANT_NAMES, env)
  const pin = envChoice('BENCH_PIN', PINS, undefined, env)
  checkTaskset(pin)
  return {
    rounds: envInteger('BENCH_ROUNDS', 5, { min: 1 }, env),
    bulkMiB: envInteger('BENCH_BULK_MIB', 256, { min: 1, max: 1 << 20 }, env),
    smallMessages: envInteger('BENCH_SMALL_MESSAGES', 100_000, { min: 1 }, env),
    warmupMiB: envInteger('BENCH_WARMUP', 512, { min: 0, max: 1 << 20 }, env),
    variants:
      named === undefined
        ? [...MAIN_VARIANTS]
        : variantsNamed(['none', ...named.filter((name) => name !== 'none')]),
    pin,
    scrapesPerSecond: 10,
    idleProbe: { windowMs: 1000, scrapes: 20 }
  }
}

export interface WarmUpCurveConfig {
  /** BENCH_ROUNDS: a fresh pair per variant and round. */
  rounds: number
  /** BENCH_SEGMENT_MIB: MiB of 64 KiB messages per timed segment. */
  segmentMiB: number
  /** BENCH_SEGMENTS: consecutive timed segments per pair. */
  segments: number
  /** BENCH_VARIANTS: default none and ours. */
  variants: Variant[]
  scrapesPerSecond: number
}

export function warmUpCurveConfig(env: Env = process.env): WarmUpCurveConfig {
  return {
    rounds: envInteger('BENCH_ROUNDS', 4, { min: 1 }, env),
    segmentMiB: envInteger('BENCH_SEGMENT_MIB', 32, { min: 1, max: 1 << 20 }, env),
    segments: envInteger('BENCH_SEGMENTS', 24, { min: 1 }, env),
    variants: variantsNamed(envList('BENCH_VARIANTS', VARIANT_NAMES, env) ?? ['none', 'ours']),
    scrapesPerSecond: 10
  }
}

/** How many 64 KiB messages make `mib` MiB. */
export function bulkMessages(mib: number): number {
  return mib * MESSAGES_PER_MIB
}

/** A config as the start line prints it: variant names, not objects. */
export function printable(config: TransferConfig | WarmUpCurveConfig): Record<string, unknown> {
  return { ...config, variants: config.variants.map((v) => v.name) }
}
