/**
 * go-flow-metrics' rate estimate, per direction of one series: a sweep every second turns the bytes counted
 * since the previous sweep into an instant rate and folds it into an EWMA. Reproduced exactly (including its
 * registration and idle rules) so figures compare with go-libp2p's BandwidthCounter.
 */

/** EWMA weight of the newest instant rate: 1 - e^-1. */
export const RATE_ALPHA = 1 - Math.exp(-1)
/** A rate at or below this is idle: the meter stops being swept until bytes flow again (about 30 s of silence). */
export const IDLE_RATE = 1e-13
/** Sweeps closer together than this are skipped: the instant rate of a tiny interval is noise. */
export const MIN_SWEEP_INTERVAL_MS = 100

export class RateMeter {
  /** Total at the last sweep that saw this meter registered. */
  #snapshot = 0
  #registered = false
  rate = 0

  /**
   * One sweep. `total` is the exact running total; `elapsedMs` the time since the previous sweep.
   * Bytes counted before the sweep that registers a meter reach its total but never its rate (go's
   * first-burst rule): registration only takes the snapshot.
   * Returns true when bytes flowed since the previous sweep.
   */
  sweep(total: number, elapsedMs: number): boolean {
    const delta = total - this.#snapshot
    if (!this.#registered) {
      if (delta === 0) return false
      this.#registered = true
      this.#snapshot = total
      return true
    }
    const instant = (delta * 1000) / elapsedMs
    this.rate = this.rate === 0 ? instant : this.rate + RATE_ALPHA * (instant - this.rate)
    this.#snapshot = total
    if (this.rate <= IDLE_RATE) {
      this.rate = 0
      this.#registered = false
    }
    return delta > 0
  }

  reset(total: number): void {
    this.#snapshot = total
    this.#registered = false
    this.rate = 0
  }
}
