// The few statistics the benchmarks print.

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** `x` with `digits` significant digits, without exponent notation. */
export function round(x: number, digits = 3): number {
  return x === 0 ? 0 : Number(x.toPrecision(digits))
}
