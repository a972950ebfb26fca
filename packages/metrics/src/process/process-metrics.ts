import { readdirSync, readFileSync } from 'node:fs'
import { monitorEventLoopDelay, PerformanceObserver, constants as perf, performance } from 'node:perf_hooks'
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8'
import { MetricsError } from '../errors.ts'
import type { Family, Sample } from '../export/exposition.ts'

export interface ProcessMetricsOptions {
  /**
   * How often the event-loop delay is sampled (ms, default 100). prom-client's default of 10 ms wakes the thread
   * 100 times a second, about 3.5 ms of its time per second on the project's machine; 100 ms costs about 0.4 ms.
   * A block longer than this is always seen; shorter ones are seen in proportion to their length.
   */
  eventLoopResolution?: number
  /** Bucket bounds of `nodejs_gc_duration_seconds` (seconds; prom-client's by default). */
  gcDurationBuckets?: number[]
}

export const DEFAULT_EVENT_LOOP_RESOLUTION = 100
/** prom-client's `nodejs_gc_duration_seconds` buckets. */
export const DEFAULT_GC_BUCKETS = [0.001, 0.01, 0.1, 1, 2, 5]

const GC_KINDS: Record<number, string> = {
  [perf.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [perf.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [perf.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [perf.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb'
}

interface GcSeries {
  counts: number[]
  sum: number
  count: number
}

const gauge = (name: string, help: string, samples: Sample[]): Family => ({
  name,
  help,
  type: 'gauge',
  samples
})
const counter = (name: string, help: string, samples: Sample[]): Family => ({
  name,
  help,
  type: 'counter',
  samples
})

function validate(options: ProcessMetricsOptions): void {
  const resolution = options.eventLoopResolution
  if (resolution !== undefined && (!Number.isInteger(resolution) || resolution < 1)) {
    throw new MetricsError(
      'ERR_INVALID_OPTIONS',
      `processMetrics.eventLoopResolution must be a whole number of ms >= 1, got ${String(resolution)}`
    )
  }
  const buckets = options.gcDurationBuckets
  if (
    buckets !== undefined &&
    (!Array.isArray(buckets) || buckets.some((b) => typeof b !== 'number' || !(b > 0) || !Number.isFinite(b)))
  ) {
    throw new MetricsError(
      'ERR_INVALID_OPTIONS',
      'processMetrics.gcDurationBuckets must be an array of finite numbers > 0 (seconds)'
    )
  }
}

// /proc is read synchronously, as prom-client does: the kernel makes the files on the spot (no disk to wait for),
// and a synchronous read costs the node's thread several times less than fs/promises' open-stat-read-close hops.

/** The numbers of `/proc/self/status` prom-client reads (kB there), in bytes; undefined off Linux. */
function procStatus(): { virtual: number; data: number } | undefined {
  if (process.platform !== 'linux') return undefined
  try {
    const text = readFileSync('/proc/self/status', 'utf8')
    const kb = (field: string) =>
      Number(new RegExp(`^${field}:\\s*(\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN)
    return { virtual: kb('VmSize') * 1024, data: kb('VmData') * 1024 }
  } catch {
    return undefined
  }
}

/** Open descriptors: one directory read, so its cost grows with their number. */
function openFds(): number | undefined {
  if (process.platform !== 'linux') return undefined
  try {
    // The directory's own descriptor is open while it is read.
    return readdirSync('/proc/self/fd').length - 1
  } catch {
    return undefined
  }
}

function maxFds(): number | undefined {
  if (process.platform !== 'linux') return undefined
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8')
    const soft = /^Max open files\s+(\d+)/m.exec(limits)?.[1]
    return soft === undefined ? undefined : Number(soft)
  } catch {
    return undefined
  }
}

function lagAtScrape(): Promise<number> {
  const start = process.hrtime.bigint()
  return new Promise((resolve) => setImmediate(() => resolve(Number(process.hrtime.bigint() - start) / 1e9)))
}

/** The event loop's delay statistics, in seconds. */
export interface DelayStats {
  min: number
  max: number
  mean: number
  stddev: number
  p50: number
  p90: number
  p99: number
}

/** A histogram of the node thread's loop delay: Node's own, or a clone another thread holds of it. */
export interface DelayHistogram {
  readonly count: number
  readonly min: number
  readonly max: number
  readonly mean: number
  readonly stddev: number
  percentile(p: number): number
  reset(): void
}

/**
 * The delay statistics since the last reading, which starts the histogram over (as prom-client does at each
 * scrape); `undefined` before the sampler's first tick. Its mean and standard deviation walk the whole histogram
 * (about 0.65 ms together on the project's machine), which is why a worker reads them when there is one: a clone
 * of Node's histogram (posted to it) shares the same counts.
 */
export function readDelay(h: DelayHistogram, resolutionMs: number): DelayStats | undefined {
  if (h.count === 0) return undefined
  // Node records the whole time between two ticks of its sampling timer, so an idle loop would read as one
  // resolution of delay (prom-client reports that, ~10 ms); the resolution is taken off, leaving the delay.
  const interval = resolutionMs * 1e6
  const seconds = (ns: number) => Math.max(0, ns - interval) / 1e9
  const delay = {
    min: seconds(h.min),
    max: seconds(h.max),
    mean: seconds(h.mean),
    stddev: h.stddev / 1e9,
    p50: seconds(h.percentile(50)),
    p90: seconds(h.percentile(90)),
    p99: seconds(h.percentile(99))
  }
  h.reset()
  return delay
}

/** What only the node's thread can read: its event loop, its V8 heap, its GC, its handles. Plain data. */
export interface ThreadReadings {
  startTime: number
  lag: number
  /**
   * Delay statistics since the last scrape, in seconds; absent before the sampler's first tick, and when the
   * worker reads them itself (see `readDelay`).
   */
  delay?: DelayStats
  loopActive: number
  loopIdle: number
  resources: Array<[string, number]>
  resourcesTotal: number
  heapTotal: number
  heapUsed: number
  external: number
  heapSpaces: Array<{ space: string; total: number; used: number; available: number }>
  gcBuckets: number[]
  gc: Array<{ kind: string; counts: number[]; sum: number; count: number }>
}

/** What any thread of the process reads alike (the CPU time, memory and descriptors of the whole process). */
export interface ProcessReadings {
  cpuUser: number
  cpuSystem: number
  rss: number
  status: { virtual: number; data: number } | undefined
  openFds: number | undefined
  maxFds: number | undefined
}

/** Reads the process-wide figures; `limits` keeps the descriptor limit, read once (a process rarely changes it). */
export function readProcess(limits: { maxFds?: number | undefined | null }): ProcessReadings {
  if (limits.maxFds === undefined || limits.maxFds === null) limits.maxFds = maxFds() ?? null
  const cpu = process.cpuUsage()
  return {
    cpuUser: cpu.user / 1e6,
    cpuSystem: cpu.system / 1e6,
    rss: process.memoryUsage.rss(),
    status: procStatus(),
    openFds: openFds(),
    maxFds: limits.maxFds ?? undefined
  }
}

export function processFamilies(thread: ThreadReadings, proc: ProcessReadings): Family[] {
  const families: Family[] = [
    counter('process_cpu_user_seconds_total', 'Total user CPU time spent in seconds.', [
      { value: proc.cpuUser }
    ]),
    counter('process_cpu_system_seconds_total', 'Total system CPU time spent in seconds.', [
      { value: proc.cpuSystem }
    ]),
    counter('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.', [
      { value: proc.cpuUser + proc.cpuSystem }
    ]),
    gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', [
      { value: thread.startTime }
    ]),
    gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', [{ value: proc.rss }])
  ]
  if (proc.status !== undefined) {
    families.push(
      gauge('process_virtual_memory_bytes', 'Virtual memory size in bytes.', [
        { value: proc.status.virtual }
      ]),
      gauge('process_heap_bytes', 'Process heap size in bytes.', [{ value: proc.status.data }])
    )
  }
  if (proc.openFds !== undefined)
    families.push(gauge('process_open_fds', 'Number of open file descriptors.', [{ value: proc.openFds }]))
  if (proc.maxFds !== undefined)
    families.push(
      gauge('process_max_fds', 'Maximum number of open file descriptors.', [{ value: proc.maxFds }])
    )
  families.push(
    gauge('nodejs_eventloop_lag_seconds', 'Lag of event loop in seconds.', [{ value: thread.lag }])
  )
  const d = thread.delay
  if (d !== undefined) {
    const stat = (suffix: string, help: string, value: number) =>
      gauge(`nodejs_eventloop_lag_${suffix}_seconds`, help, [{ value }])
    families.push(
      stat('min', 'The minimum recorded event loop delay.', d.min),
      stat('max', 'The maximum recorded event loop delay.', d.max),
      stat('mean', 'The mean of the recorded event loop delays.', d.mean),
      stat('stddev', 'The standard deviation of the recorded event loop delays.', d.stddev),
      stat('p50', 'The 50th percentile of the recorded event loop delays.', d.p50),
      stat('p90', 'The 90th percentile of the recorded event loop delays.', d.p90),
      stat('p99', 'The 99th percentile of the recorded event loop delays.', d.p99)
    )
  }
  const total: Sample[] = []
  const used: Sample[] = []
  const available: Sample[] = []
  for (const space of thread.heapSpaces) {
    const labels = { space: space.space }
    total.push({ labels, value: space.total })
    used.push({ labels, value: space.used })
    available.push({ labels, value: space.available })
  }
  families.push(
    counter(
      'nodejs_eventloop_time_seconds_total',
      'Time the event loop spent running code (active) and waiting for I/O (idle), in seconds.',
      [
        { labels: { state: 'active' }, value: thread.loopActive },
        { labels: { state: 'idle' }, value: thread.loopIdle }
      ]
    ),
    gauge(
      'nodejs_active_resources',
      'Number of active resources that are currently keeping the event loop alive, grouped by async resource type.',
      thread.resources.map(([type, value]) => ({ labels: { type }, value }))
    ),
    gauge('nodejs_active_resources_total', 'Total number of active resources.', [
      { value: thread.resourcesTotal }
    ]),
    gauge('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', [
      { value: thread.heapTotal }
    ]),
    gauge('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.', [
      { value: thread.heapUsed }
    ]),
    gauge('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.', [
      { value: thread.external }
    ]),
    gauge(
      'nodejs_heap_space_size_total_bytes',
      'Process heap space size total from Node.js in bytes.',
      total
    ),
    gauge('nodejs_heap_space_size_used_bytes', 'Process heap space size used from Node.js in bytes.', used),
    gauge(
      'nodejs_heap_space_size_available_bytes',
      'Process heap space size available from Node.js in bytes.',
      available
    ),
    gauge('nodejs_version_info', 'Node.js version info.', [{ labels: versionLabels(), value: 1 }]),
    gcFamily(thread)
  )
  return families
}

function gcFamily(thread: ThreadReadings): Family {
  const samples: Sample[] = []
  for (const { kind, counts, sum, count } of thread.gc) {
    for (let i = 0; i < thread.gcBuckets.length; i++) {
      samples.push({
        suffix: '_bucket',
        labels: { le: String(thread.gcBuckets[i]), kind },
        value: counts[i]!
      })
    }
    samples.push({ suffix: '_bucket', labels: { le: '+Inf', kind }, value: count })
    samples.push({ suffix: '_sum', labels: { kind }, value: sum })
    samples.push({ suffix: '_count', labels: { kind }, value: count })
  }
  return {
    name: 'nodejs_gc_duration_seconds',
    help: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
    type: 'histogram',
    samples
  }
}

/**
 * Node's process and runtime metrics under the names prom-client's `collectDefaultMetrics` gives them (so the
 * usual dashboards and alerts work), plus the event loop's active and idle time. The loop, heap, GC and handles
 * are read in the thread that owns this object, which is the node's, never a worker's: with `exportFromWorker`
 * the node's thread reads those (`threadReadings()`) and the worker adds the process-wide figures and renders.
 * Between scrapes it costs one event-loop delay timer and a GC observer.
 */
export class ProcessMetrics {
  readonly #resolution: number
  readonly #gcBuckets: number[]
  readonly #gc = new Map<string, GcSeries>()
  readonly #startTime = Math.round(Date.now() / 1000 - process.uptime())
  readonly #limits: { maxFds?: number | undefined | null } = {}
  #delay: ReturnType<typeof monitorEventLoopDelay> | undefined
  #gcObserver: PerformanceObserver | undefined

  constructor(options: ProcessMetricsOptions = {}) {
    validate(options)
    this.#resolution = options.eventLoopResolution ?? DEFAULT_EVENT_LOOP_RESOLUTION
    this.#gcBuckets = [...(options.gcDurationBuckets ?? DEFAULT_GC_BUCKETS)].sort((a, b) => a - b)
  }

  start(): void {
    if (this.#delay !== undefined) return
    this.#delay = monitorEventLoopDelay({ resolution: this.#resolution })
    this.#delay.enable()
    this.#gcObserver = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const detail = (entry as { detail?: { kind?: number } }).detail
        const kind = GC_KINDS[detail?.kind ?? -1] ?? 'unknown'
        this.#observeGc(kind, entry.duration / 1000)
      }
    })
    this.#gcObserver.observe({ entryTypes: ['gc'] })
  }

  stop(): void {
    this.#delay?.disable()
    this.#delay = undefined
    this.#gcObserver?.disconnect()
    this.#gcObserver = undefined
  }

  #observeGc(kind: string, seconds: number): void {
    let series = this.#gc.get(kind)
    if (series === undefined) {
      series = { counts: this.#gcBuckets.map(() => 0), sum: 0, count: 0 }
      this.#gc.set(kind, series)
    }
    for (let i = 0; i < this.#gcBuckets.length; i++) if (seconds <= this.#gcBuckets[i]!) series.counts[i]!++
    series.sum += seconds
    series.count++
  }

  async collect(): Promise<Family[]> {
    const thread = await this.threadReadings()
    return processFamilies(thread, readProcess(this.#limits))
  }

  /** The loop-delay histogram and its sampling interval, for a worker to read (`readDelay`); none before start. */
  get delayHistogram(): { histogram: DelayHistogram; resolutionMs: number } | undefined {
    return this.#delay === undefined ? undefined : { histogram: this.#delay, resolutionMs: this.#resolution }
  }

  /**
   * The node thread's own figures; the delay histogram starts over (as prom-client's does at each scrape). With
   * `delay: false` its statistics are left to whoever holds a clone of it (a worker, see `delayHistogram`).
   */
  async threadReadings(options: { delay?: boolean } = {}): Promise<ThreadReadings> {
    const lag = await lagAtScrape()
    // The V8 heap's figures as process.memoryUsage() gives them, without the resident set it reads as well.
    const heap = getHeapStatistics()
    const loop = performance.eventLoopUtilization()
    const byType = new Map<string, number>()
    const resources = process.getActiveResourcesInfo()
    for (const type of resources) byType.set(type, (byType.get(type) ?? 0) + 1)
    const readings: ThreadReadings = {
      startTime: this.#startTime,
      lag,
      loopActive: loop.active / 1000,
      loopIdle: loop.idle / 1000,
      resources: [...byType],
      resourcesTotal: resources.length,
      heapTotal: heap.total_heap_size,
      heapUsed: heap.used_heap_size,
      external: heap.external_memory,
      heapSpaces: getHeapSpaceStatistics().map((space) => ({
        space: space.space_name.replace(/_space$/, ''),
        total: space.space_size,
        used: space.space_used_size,
        available: space.space_available_size
      })),
      gcBuckets: this.#gcBuckets,
      gc: [...this.#gc].map(([kind, series]) => ({ kind, ...series }))
    }
    if (options.delay !== false && this.#delay !== undefined) {
      const delay = readDelay(this.#delay, this.#resolution)
      if (delay !== undefined) readings.delay = delay
    }
    return readings
  }
}

function versionLabels(): Record<string, string> {
  const [major = '', minor = '', patch = ''] = process.versions.node.split('.')
  return { version: process.version, major, minor, patch }
}
