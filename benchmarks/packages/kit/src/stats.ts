// The statistics every benchmark reports. Benchmarks on a shared 2-core machine move 10-20% between rounds, so they
// report medians, and judge a bound only by a bootstrap interval of the median of per-round ratios.

/** The middle value; the mean of the two middle ones for an even count. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median: no values')
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('mean: no values')
  let sum = 0
  for (const v of values) sum += v
  return sum / values.length
}

/** A median with its 95% interval. */
export interface Interval {
  median: number
  low: number
  high: number
}

const RESAMPLES = 4000
// Fixed, so a run's printed intervals can be recomputed from the per-round values it prints.
const SEED = 0x2545f491

/**
 * The median with a bootstrap 95% interval: the values resampled with replacement 4,000 times, the interval running
 * from the 2.5th to the 97.5th percentile of the resampled medians.
 */
export function bootstrapMedian(values: readonly number[]): Interval {
  if (values.length === 0) throw new RangeError('bootstrapMedian: no values')
  let seed = SEED
  const random = () => {
    seed ^= seed << 13
    seed ^= seed >>> 17
    seed ^= seed << 5
    return (seed >>> 0) / 2 ** 32
  }
  const medians: number[] = []
  for (let b = 0; b < RESAMPLES; b++) {
    medians.push(median(values.map(() => values[Math.floor(random() * values.length)]!)))
  }
  medians.sort((a, b) => a - b)
  return {
    median: median(values),
    low: medians[Math.floor(0.025 * medians.length)]!,
    high: medians[Math.ceil(0.975 * medians.length) - 1]!
  }
}

/**
 * Round by round, `subject[i] / reference[i]`. When every round runs both back to back, a round's ratio cancels the
 * slow drift of a shared machine that moves whole rounds, which the ratio of two medians does not.
 */
export function pairedRatios(subject: readonly number[], reference: readonly number[]): number[] {
  if (subject.length !== reference.length) {
    throw new RangeError(`pairedRatios: ${subject.length} rounds against ${reference.length}`)
  }
  return subject.map((value, i) => value / reference[i]!)
}

/** Below this many rounds a bootstrap interval is too coarse to judge a bound of a few percent by. */
export const MIN_ROUNDS_TO_JUDGE = 10

/**
 * A bound judged by an interval: `holds` when the whole interval is at or above it, `missed` when all of it is
 * below, else `between` (e.g. 'undecided', or 'tied' for a head-to-head ratio against 1).
 */
export function verdict<B extends string>(
  interval: Interval,
  bound: number,
  between: B,
  rounds: number
): 'holds' | 'missed' | 'too few rounds' | B {
  if (rounds < MIN_ROUNDS_TO_JUDGE) return 'too few rounds'
  return interval.low >= bound ? 'holds' : interval.high < bound ? 'missed' : between
}

/** `n` rounded to `decimals` places, for JSON figures. */
export function round(n: number, decimals: number): number {
  const scale = 10 ** decimals
  return Math.round(n * scale) / scale
}

/** `n` with `digits` significant digits, without exponent notation. */
export function significant(n: number, digits = 3): number {
  return n === 0 ? 0 : Number(n.toPrecision(digits))
}

/** Each bound of an interval rounded to `decimals` places. */
export function roundInterval(interval: Interval, decimals: number): Interval {
  return {
    median: round(interval.median, decimals),
    low: round(interval.low, decimals),
    high: round(interval.high, decimals)
  }
}
