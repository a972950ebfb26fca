import { readdir, readFile } from 'node:fs/promises'
import { monitorEventLoopDelay, PerformanceObserver, constants as perf, performance } from 'node:perf_hooks'
import { getHeapSpaceStatistics } from 'node:v8'
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

/** The numbers of `/proc/self/status` prom-client reads (kB there), in bytes; undefined off Linux. */
async function procStatus(): Promise<{ virtual: number; data: number } | undefined> {
  if (process.platform !== 'linux') return undefined
  try {
    const text = await readFile('/proc/self/status', 'utf8')
    const kb = (field: string) =>
      Number(new RegExp(`^${field}:\\s*(\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN)
    return { virtual: kb('VmSize') * 1024, data: kb('VmData') * 1024 }
  } catch {
    return undefined
  }
}

async function openFds(): Promise<number | undefined> {
  if (process.platform !== 'linux') return undefined
  try {
    // The directory's own descriptor is open while it is read.
    return (await readdir('/proc/self/fd')).length - 1
  } catch {
    return undefined
  }
}

async function maxFds(): Promise<number | undefined> {
  if (process.platform !== 'linux') return undefined
  try {
    const limits = await readFile('/proc/self/limits', 'utf8')
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

/**
 * Node's process and runtime metrics under the names prom-client's `collectDefaultMetrics` gives them (so the
 * usual dashboards and alerts work), plus the event loop's active and idle time. Everything is read in the thread
 * that calls `collect()`, which is the node's: the event loop, heap and GC are that thread's, never a worker's.
 * Between scrapes it costs one event-loop delay timer and a GC observer.
 */
export class ProcessMetrics {
  readonly #resolution: number
  readonly #gcBuckets: number[]
  readonly #gc = new Map<string, GcSeries>()
  readonly #startTime = Math.round(Date.now() / 1000 - process.uptime())
  #delay: ReturnType<typeof monitorEventLoopDelay> | undefined
  #gcObserver: PerformanceObserver | undefined
  #maxFds: Promise<number | undefined> | undefined

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
    this.#maxFds ??= maxFds()
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
    const [status, fds, max, lag] = await Promise.all([
      procStatus(),
      openFds(),
      this.#maxFds ?? maxFds(),
      lagAtScrape()
    ])
    const cpu = process.cpuUsage()
    const memory = process.memoryUsage()
    const loop = performance.eventLoopUtilization()
    const families: Family[] = [
      counter('process_cpu_user_seconds_total', 'Total user CPU time spent in seconds.', [
        { value: cpu.user / 1e6 }
      ]),
      counter('process_cpu_system_seconds_total', 'Total system CPU time spent in seconds.', [
        { value: cpu.system / 1e6 }
      ]),
      counter('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.', [
        { value: (cpu.user + cpu.system) / 1e6 }
      ]),
      gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', [
        { value: this.#startTime }
      ]),
      gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', [{ value: memory.rss }])
    ]
    if (status !== undefined) {
      families.push(
        gauge('process_virtual_memory_bytes', 'Virtual memory size in bytes.', [{ value: status.virtual }]),
        gauge('process_heap_bytes', 'Process heap size in bytes.', [{ value: status.data }])
      )
    }
    if (fds !== undefined)
      families.push(gauge('process_open_fds', 'Number of open file descriptors.', [{ value: fds }]))
    if (max !== undefined)
      families.push(gauge('process_max_fds', 'Maximum number of open file descriptors.', [{ value: max }]))
    families.push(
      gauge('nodejs_eventloop_lag_seconds', 'Lag of event loop in seconds.', [{ value: lag }]),
      ...this.#delayFamilies(),
      counter(
        'nodejs_eventloop_time_seconds_total',
        'Time the event loop spent running code (active) and waiting for I/O (idle), in seconds.',
        [
          { labels: { state: 'active' }, value: loop.active / 1000 },
          { labels: { state: 'idle' }, value: loop.idle / 1000 }
        ]
      ),
      ...this.#resourceFamilies(),
      gauge('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', [
        { value: memory.heapTotal }
      ]),
      gauge('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.', [
        { value: memory.heapUsed }
      ]),
      gauge('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.', [
        { value: memory.external }
      ]),
      ...this.#heapSpaceFamilies(),
      gauge('nodejs_version_info', 'Node.js version info.', [{ labels: versionLabels(), value: 1 }]),
      this.#gcFamily()
    )
    return families
  }

  /**
   * The delay histogram since the last scrape (then reset, as prom-client does); none before any sample. Node
   * records the whole time between two ticks of its sampling timer, so an idle loop would read as one resolution
   * of delay (prom-client reports that, ~10 ms); the resolution is taken off here, leaving the delay itself.
   */
  #delayFamilies(): Family[] {
    const h = this.#delay
    if (h === undefined || h.count === 0) return []
    const interval = this.#resolution * 1e6
    const seconds = (ns: number) => Math.max(0, ns - interval) / 1e9
    const stat = (suffix: string, help: string, ns: number) =>
      gauge(`nodejs_eventloop_lag_${suffix}_seconds`, help, [{ value: seconds(ns) }])
    const families = [
      stat('min', 'The minimum recorded event loop delay.', h.min),
      stat('max', 'The maximum recorded event loop delay.', h.max),
      stat('mean', 'The mean of the recorded event loop delays.', h.mean),
      gauge(
        'nodejs_eventloop_lag_stddev_seconds',
        'The standard deviation of the recorded event loop delays.',
        [{ value: h.stddev / 1e9 }]
      ),
      stat('p50', 'The 50th percentile of the recorded event loop delays.', h.percentile(50)),
      stat('p90', 'The 90th percentile of the recorded event loop delays.', h.percentile(90)),
      stat('p99', 'The 99th percentile of the recorded event loop delays.', h.percentile(99))
    ]
    h.reset()
    return families
  }

  #resourceFamilies(): Family[] {
    const byType = new Map<string, number>()
    const resources = process.getActiveResourcesInfo()
    for (const type of resources) byType.set(type, (byType.get(type) ?? 0) + 1)
    return [
      gauge(
        'nodejs_active_resources',
        'Number of active resources that are currently keeping the event loop alive, grouped by async resource type.',
        [...byType].map(([type, value]) => ({ labels: { type }, value }))
      ),
      gauge('nodejs_active_resources_total', 'Total number of active resources.', [
        { value: resources.length }
      ])
    ]
  }

  #heapSpaceFamilies(): Family[] {
    const total: Sample[] = []
    const used: Sample[] = []
    const available: Sample[] = []
    for (const space of getHeapSpaceStatistics()) {
      const labels = { space: space.space_name.replace(/_space$/, '') }
      total.push({ labels, value: space.space_size })
      used.push({ labels, value: space.space_used_size })
      available.push({ labels, value: space.space_available_size })
    }
    return [
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
      )
    ]
  }

  #gcFamily(): Family {
    const samples: Sample[] = []
    for (const [kind, series] of this.#gc) {
      for (let i = 0; i < this.#gcBuckets.length; i++) {
        const le = String(this.#gcBuckets[i])
        samples.push({ suffix: '_bucket', labels: { le, kind }, value: series.counts[i]! })
      }
      samples.push({ suffix: '_bucket', labels: { le: '+Inf', kind }, value: series.count })
      samples.push({ suffix: '_sum', labels: { kind }, value: series.sum })
      samples.push({ suffix: '_count', labels: { kind }, value: series.count })
    }
    return {
      name: 'nodejs_gc_duration_seconds',
      help: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
      type: 'histogram',
      samples
    }
  }
}

function versionLabels(): Record<string, string> {
  const [major = '', minor = '', patch = ''] = process.versions.node.split('.')
  return { version: process.version, major, minor, patch }
}
