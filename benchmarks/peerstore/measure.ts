// What the scaling benchmark's processes measure with: the heap after a full collection (run with --expose-gc), and
// the longest stretch the event loop was held up while an async call ran.
import { monitorEventLoopDelay } from 'node:perf_hooks'

/** V8's used heap after two full collections; bytes. */
export function heapUsed(): number {
  if (globalThis.gc === undefined) throw new Error('run with --expose-gc: the heap figures need it')
  globalThis.gc()
  globalThis.gc()
  return process.memoryUsage().heapUsed
}

/** CPU time of this thread (not the collector's or LevelDB's threads) in ms. */
export function threadCpuMs(): number {
  const { user, system } = process.threadCpuUsage()
  return (user + system) / 1000
}

export interface Timed<T> {
  value: T
  ms: number
  /** This thread's CPU time meanwhile: on a busy machine, steadier than the wall time. */
  cpuMs: number
  /** The longest the event loop was held up meanwhile (ms; sampled every ms, so ±1 ms). */
  longestBlockMs: number
}

/** Runs `fn`, timing it and watching the event loop while it runs. */
export async function watched<T>(fn: () => Promise<T>): Promise<Timed<T>> {
  const h = monitorEventLoopDelay({ resolution: 1 })
  h.enable()
  const started = performance.now()
  const cpu = threadCpuMs()
  const value = await fn()
  const ms = performance.now() - started
  const cpuMs = threadCpuMs() - cpu
  h.disable()
  // A delay of the 1 ms sampling timer past its interval is the time the loop was held.
  const longestBlockMs = h.count === 0 ? ms : Math.max(0, h.max / 1e6 - 1)
  return { value, ms, cpuMs, longestBlockMs }
}
