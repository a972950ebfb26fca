/** The middle value (the mean of the two middle ones for an even count), as every benchmark here reports. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/**
 * The median with a bootstrap 95% interval: 4,000 resamples (fixed seed, so a run's figures can be recomputed from
 * its values), the interval running from the 2.5th to the 97.5th percentile of the resampled medians.
 */
export function bootstrapMedian(values: number[]): { median: number; low: number; high: number } {
  let seed = 0x2545f491
  const random = () => {
    seed ^= seed << 13
    seed ^= seed >>> 17
    seed ^= seed << 5
    return (seed >>> 0) / 2 ** 32
  }
  const medians: number[] = []
  for (let b = 0; b < 4000; b++) {
    medians.push(median(values.map(() => values[Math.floor(random() * values.length)] as number)))
  }
  medians.sort((a, b) => a - b)
  return {
    median: median(values),
    low: medians[Math.floor(0.025 * medians.length)] as number,
    high: medians[Math.ceil(0.975 * medians.length) - 1] as number
  }
}
