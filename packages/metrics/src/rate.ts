/**
 * go-flow-metrics' rate estimate for one direction of one series: a sweep every second turns the bytes counted
 * since the previous sweep into an instant rate and folds it into an EWMA. Reproduced exactly (including its
 * registration and idle rules) so figures compare with go-libp2p's BandwidthCounter.
 *
 * A meter's whole state is one number: its rate while registered (swept), `UNREGISTERED` while not. Keeping it in
 * a plain field of the series (no object per meter) is part of what keeps a tracked peer small.
 */

/** EWMA weight of the newest instant rate: 1 - e^-1. */
export const RATE_ALPHA = 1 - Math.exp(-1)
/** A rate at or below this is idle: the meter stops being swept until bytes flow again (about 30 s of silence). */
export const IDLE_RATE = 1e-13
/** Sweeps closer together than this are skipped: the instant rate of a tiny interval is noise. */
export const MIN_SWEEP_INTERVAL_MS = 100
/** The state of a meter that is not registered: its rate reads 0 and a sweep without bytes leaves it alone. */
export const UNREGISTERED = -1

/**
 * One sweep of a meter: `delta` bytes were counted since the previous sweep, `elapsedMs` ago. Bytes counted
 * before the sweep that registers a meter reach its total but never its rate (go's first-burst rule):
 * registration only starts the meter, at rate 0. Returns the new state.
 */
export function sweepMeter(state: number, delta: number, elapsedMs: number): number {
  if (state === UNREGISTERED) return delta === 0 ? UNREGISTERED : 0
  const instant = (delta * 1000) / elapsedMs
  const rate = state === 0 ? instant : state + RATE_ALPHA * (instant - state)
  return rate <= IDLE_RATE ? UNREGISTERED : rate
}

/**
 * `sweeps` sweeps that saw no bytes, as `sweepMeter(state, 0, elapsed)` repeated (the elapsed time does not
 * matter without bytes). The same floating-point steps as the eager sweep, so a rate decayed late reads the same;
 * an unregistered meter stops the loop, so a long silence costs at most the ~60 steps a rate needs to go idle.
 */
export function decayMeter(state: number, sweeps: number): number {
  let s = state
  for (let i = 0; i < sweeps && s !== UNREGISTERED; i++) {
    const rate = s === 0 ? 0 : s + RATE_ALPHA * (0 - s)
    s = rate <= IDLE_RATE ? UNREGISTERED : rate
  }
  return s
}

/** The rate a meter's state reads as (bytes per second). */
export function rateOf(state: number): number {
  return Math.max(state, 0)
}
