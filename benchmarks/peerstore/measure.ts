// What the scaling benchmark's processes measure with: the heap after a full collection (run with --expose-gc), and
// the longest stretch the event loop was held up while an async call ran, split into V8's garbage-collection pauses
// and the rest (our code running without a turn of the loop, or the thread not scheduled on a busy machine).
import { constants, monitorEventLoopDelay, type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks'
import { readSchedStat } from '@peerscope/bench-kit'

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

/** CPU time of this process's other threads (V8's compiler and collector helpers, LevelDB's, libuv's) in ms. */
function otherThreadsCpuMs(): number {
  const all = process.cpuUsage()
  const own = process.threadCpuUsage()
  return (all.user + all.system - own.user - own.system) / 1000
}

/** Steps in which the other threads must stay (nearly) idle, and the most a settle waits. */
const SETTLE_STEP_MS = 25
const SETTLE_MAX_MS = 2000

/**
 * Waits until this process's other threads have gone quiet (less than a tenth of a core over 25 ms), at most 2 s:
 * V8 finishing the step before (optimizing compiles of what it ran, sweeping its garbage), LevelDB compacting
 * after an open. A short op timed right after another was charged for that work on two cores: a GC of 10k peers
 * (~15 ms) waited for a core 0-12.5 ms (median 4.1 in 15 runs), its wall time 1.0-1.9x its CPU time; after a
 * settle, 7 of 15 runs did not wait at all and the rest 0.2-5.5 ms (V8 optimizing the GC's own code while it ran).
 * The Go program's timed calls have no such leftovers (no JIT). False when the threads were still busy at the limit
 * (the op is timed anyway).
 */
export async function settle(): Promise<boolean> {
  const until = performance.now() + SETTLE_MAX_MS
  let before = otherThreadsCpuMs()
  while (performance.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_STEP_MS))
    const after = otherThreadsCpuMs()
    if (after - before < SETTLE_STEP_MS / 10) return true
    before = after
  }
  return false
}

/** Where the longest stretches of a watched call went (ms). */
export interface BlockAttribution {
  /** The longest pause V8's collector held the thread for, and its kind. */
  longestGcPauseMs: number
  longestGcPauseKind: GcKind | 'none'
  /** All GC pauses on this thread meanwhile, summed, and how many. */
  gcPauseTotalMs: number
  gcPauses: number
  /** The longest gap between two turns of the sampler, GC pauses inside it included. */
  longestGapMs: number
  /** The GC pause time inside that gap. */
  longestGapGcMs: number
  /** The longest gap less the GC pauses inside it: the thread ran our code (or was not scheduled). */
  longestNonGcMs: number
  /**
   * This thread's CPU time in that non-GC stretch's gap, less the GC pauses: our code running. The kernel counts a
   * running thread's time at scheduler ticks (4 ms here), so over a few ms this is ±1 tick.
   */
  longestNonGcCpuMs: number
  /**
   * That stretch less the time the thread waited for a core in its gap: our code running or in a system call
   * (exact to the sampler's ms; where the wait is unknown, the CPU time). What a slice of ours is judged by.
   */
  longestNonGcOwnMs: number
  /**
   * How long this thread waited for a core in that gap (Linux: /proc/thread-self/schedstat; -1 elsewhere): the
   * machine's other work. The rest of the stretch (neither CPU nor waiting for a core) was a blocking system call.
   */
  longestNonGcRunQueueMs: number
}

export type GcKind = 'major' | 'minor' | 'minor-mark-sweep' | 'incremental' | 'weak-callbacks' | 'other'

export interface Timed<T> {
  value: T
  ms: number
  /** This thread's CPU time meanwhile: on a busy machine, steadier than the wall time. */
  cpuMs: number
  /** The longest the event loop was held up meanwhile (ms; sampled every ms, so ±1 ms). */
  longestBlockMs: number
  blocks: BlockAttribution
  /**
   * The longest gaps (up to 5; performance.now() times), with the GC pause time inside each, and the thread's CPU
   * time and wait for a core in it (as in `BlockAttribution`).
   */
  longestGaps: WatchedGap[]
  /** The gaps (up to 5) longest once their GC pauses are taken out. */
  longestNonGcGaps: WatchedGap[]
  /** Whether the process's other threads went quiet before the call started (`settle`). */
  settled: boolean
}

export interface WatchedGap {
  start: number
  end: number
  gcMs: number
  cpuMs: number
  runQueueMs: number
  systemMs: number
}

function gcKind(kind: number | undefined): GcKind {
  switch (kind) {
    case constants.NODE_PERFORMANCE_GC_MAJOR:
      return 'major'
    case constants.NODE_PERFORMANCE_GC_MINOR:
      return 'minor'
    case constants.NODE_PERFORMANCE_GC_MINOR_MARK_SWEEP:
      return 'minor-mark-sweep'
    case constants.NODE_PERFORMANCE_GC_INCREMENTAL:
      return 'incremental'
    case constants.NODE_PERFORMANCE_GC_WEAKCB:
      return 'weak-callbacks'
    default:
      return 'other'
  }
}

interface Pause {
  start: number
  end: number
  kind: GcKind
}

interface Gap {
  start: number
  end: number
  cpuMs: number
  runQueueMs: number
  /** The part of this thread's CPU time spent in the kernel (page faults, system calls); split at ticks, roughly. */
  systemMs: number
}

/** This thread's CPU time in the kernel, ms. */
function threadSystemMs(): number {
  return process.threadCpuUsage().system / 1000
}

/**
 * This thread's CPU time and time waiting on a run queue (ms): Linux's /proc/thread-self/schedstat (bench-kit's
 * `readSchedStat`: the wait is exact, the run time moves at scheduler ticks); elsewhere the CPU time of
 * `threadCpuUsage` and a wait of -1 (unknown).
 */
function schedStat(): { cpuMs: number; waitMs: number } {
  const stat = readSchedStat()
  return stat === undefined
    ? { cpuMs: threadCpuMs(), waitMs: -1 }
    : { cpuMs: stat.ranMs, waitMs: stat.waitedMs }
}

/** A turn of the loop every ms (a timer, as monitorEventLoopDelay's): the gaps between turns, over 2 ms only. */
class LoopSampler {
  readonly gaps: Gap[] = []
  #last = performance.now()
  #lastStat = schedStat()
  #lastSystemMs = threadSystemMs()
  #timer: ReturnType<typeof setTimeout> | undefined

  start(): void {
    this.#last = performance.now()
    this.#lastStat = schedStat()
    this.#lastSystemMs = threadSystemMs()
    this.#timer = setTimeout(this.#tick, 1)
  }

  readonly #tick = (): void => {
    this.#record()
    this.#timer = setTimeout(this.#tick, 1)
  }

  #record(): void {
    const now = performance.now()
    const stat = schedStat()
    const systemMs = threadSystemMs()
    // A 1 ms timer due: a gap past 2 ms held the loop.
    if (now - this.#last > 2) {
      const last = this.#lastStat
      this.gaps.push({
        start: this.#last,
        end: now,
        cpuMs: stat.cpuMs - last.cpuMs,
        runQueueMs: stat.waitMs < 0 ? -1 : stat.waitMs - last.waitMs,
        systemMs: systemMs - this.#lastSystemMs
      })
    }
    this.#last = now
    this.#lastStat = stat
    this.#lastSystemMs = systemMs
  }

  stop(): void {
    clearTimeout(this.#timer)
    this.#record()
  }
}

function toPause(e: PerformanceEntry): Pause {
  // A gc entry's detail says its kind (Node's typings leave it off the entry).
  const { detail } = e as PerformanceEntry & { detail?: { kind?: number } }
  return { start: e.startTime, end: e.startTime + e.duration, kind: gcKind(detail?.kind) }
}

/** The GC pause time inside [start, end]. */
function pausedWithin(pauses: readonly Pause[], start: number, end: number): number {
  let ms = 0
  for (const p of pauses) ms += Math.max(0, Math.min(end, p.end) - Math.max(start, p.start))
  return ms
}

function attribute(gaps: readonly Gap[], pauses: readonly Pause[]): BlockAttribution {
  const out: BlockAttribution = {
    longestGcPauseMs: 0,
    longestGcPauseKind: 'none',
    gcPauseTotalMs: 0,
    gcPauses: pauses.length,
    longestGapMs: 0,
    longestGapGcMs: 0,
    longestNonGcMs: 0,
    longestNonGcCpuMs: 0,
    longestNonGcRunQueueMs: 0,
    longestNonGcOwnMs: 0
  }
  for (const p of pauses) {
    const ms = p.end - p.start
    out.gcPauseTotalMs += ms
    if (ms > out.longestGcPauseMs) {
      out.longestGcPauseMs = ms
      out.longestGcPauseKind = p.kind
    }
  }
  for (const g of gaps) {
    // Less the 1 ms the timer waits anyway.
    const held = Math.max(0, g.end - g.start - 1)
    const gc = pausedWithin(pauses, g.start, g.end)
    if (held > out.longestGapMs) {
      out.longestGapMs = held
      out.longestGapGcMs = gc
    }
    const nonGc = Math.max(0, held - gc)
    if (nonGc > out.longestNonGcMs) {
      out.longestNonGcMs = nonGc
      // The collector's pause runs on this thread too: its time is not our code's.
      out.longestNonGcCpuMs = Math.max(0, g.cpuMs - gc)
      out.longestNonGcRunQueueMs = g.runQueueMs
      out.longestNonGcOwnMs = g.runQueueMs < 0 ? out.longestNonGcCpuMs : Math.max(0, nonGc - g.runQueueMs)
    }
  }
  return out
}

/** Runs `fn` once the process has settled (`settle`), timing it and watching the event loop while it runs. */
export async function watched<T>(fn: () => Promise<T>): Promise<Timed<T>> {
  const settled = await settle()
  if (!settled)
    console.error(
      '  (the process had not gone quiet after 2 s: this op is timed anyway, its wall time may include that work)'
    )
  const pauses: Pause[] = []
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) pauses.push(toPause(e))
  })
  observer.observe({ entryTypes: ['gc'] })
  const sampler = new LoopSampler()
  const h = monitorEventLoopDelay({ resolution: 1 })
  h.enable()
  sampler.start()
  const started = performance.now()
  const cpu = threadCpuMs()
  const value = await fn()
  const ms = performance.now() - started
  const cpuMs = threadCpuMs() - cpu
  sampler.stop()
  h.disable()
  // GC entries are delivered in a later turn: the ones still queued are taken now.
  await new Promise((resolve) => setImmediate(resolve))
  const queued = observer.takeRecords()
  observer.disconnect()
  for (const e of queued) pauses.push(toPause(e))
  const within = pauses.filter((p) => p.end > started && p.start < started + ms)
  // A delay of the 1 ms sampling timer past its interval is the time the loop was held.
  const longestBlockMs = h.count === 0 ? ms : Math.max(0, h.max / 1e6 - 1)
  const gaps: WatchedGap[] = sampler.gaps.map((g) => ({ ...g, gcMs: pausedWithin(within, g.start, g.end) }))
  const longestGaps = [...gaps].sort((a, b) => b.end - b.start - (a.end - a.start)).slice(0, 5)
  const longestNonGcGaps = [...gaps]
    .sort((a, b) => b.end - b.start - b.gcMs - (a.end - a.start - a.gcMs))
    .slice(0, 5)
  const blocks = attribute(sampler.gaps, within)
  return { value, ms, cpuMs, longestBlockMs, blocks, longestGaps, longestNonGcGaps, settled }
}
