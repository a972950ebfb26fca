import { Worker } from 'node:worker_threads'
import { type MetricMap, SharedMetricMap } from '@peerscope/metric-map'
import { MetricsError } from '../errors.ts'
import type { DelayHistogram, ThreadReadings } from '../process/process-metrics.ts'
import type { PrometheusOptions } from './bandwidth-families.ts'

// Source in development (type stripping), compiled JavaScript once built.
const WORKER = new URL(
  import.meta.url.endsWith('.ts') ? './prometheus-worker.ts' : './prometheus-worker.js',
  import.meta.url
)

/** What the worker reads besides the map. */
export interface ExporterInit {
  /**
   * The node thread's loop-delay histogram (`ProcessMetrics.delayHistogram`): the worker reads its statistics from
   * a clone that shares its counts, so walking it costs the node's thread nothing.
   */
  loopDelay?: { histogram: DelayHistogram; resolutionMs: number } | undefined
}

/**
 * Renders the bandwidth part of the Prometheus text in a worker thread over a shared counter map. The node's
 * thread only posts a request and receives a string.
 */
export class PrometheusExporter {
  readonly #worker: Worker
  readonly #pending = new Map<
    number,
    { resolve: (reply: { text: string; process?: string }) => void; reject: (err: Error) => void }
  >()
  #next = 0

  /** Whether the worker reads the loop delay itself: then the node thread's readings leave it out. */
  readonly readsLoopDelay: boolean

  constructor(map: MetricMap, options: PrometheusOptions = {}, init: ExporterInit = {}) {
    if (!(map instanceof SharedMetricMap)) {
      throw new MetricsError(
        'ERR_INVALID_OPTIONS',
        'exporting from a worker needs the counters in a SharedMetricMap'
      )
    }
    this.#worker = new Worker(WORKER, { workerData: { buffer: map.buffer, options } })
    this.#worker.unref()
    this.readsLoopDelay = init.loopDelay !== undefined
    // A Node histogram posted to another thread arrives as a histogram over the same counts.
    if (init.loopDelay !== undefined) this.#worker.postMessage({ loopDelay: init.loopDelay })
    this.#worker.on('message', (reply: { id: number; text?: string; process?: string; error?: string }) => {
      const waiting = this.#pending.get(reply.id)
      this.#pending.delete(reply.id)
      if (reply.text !== undefined) waiting?.resolve({ text: reply.text, process: reply.process })
      else waiting?.reject(new Error(reply.error ?? 'the export worker failed'))
    })
    this.#worker.on('error', (err) => this.#failAll(err))
    this.#worker.on('exit', () => this.#failAll(new Error('the export worker exited')))
  }

  /** The bandwidth families as Prometheus text. */
  async render(): Promise<string> {
    return (await this.#request(undefined)).text
  }

  /**
   * The bandwidth families, and the process families from the node thread's `readings` (see `ProcessMetrics`)
   * completed with the process-wide figures the worker reads itself.
   */
  async renderWithProcess(readings: ThreadReadings): Promise<{ bandwidth: string; process: string }> {
    const reply = await this.#request(readings)
    return { bandwidth: reply.text, process: reply.process ?? '' }
  }

  #request(thread: ThreadReadings | undefined): Promise<{ text: string; process?: string | undefined }> {
    const id = this.#next++
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      this.#worker.postMessage(thread === undefined ? { id } : { id, thread })
    })
  }

  async close(): Promise<void> {
    await this.#worker.terminate()
  }

  #failAll(err: Error): void {
    for (const waiting of this.#pending.values()) waiting.reject(err)
    this.#pending.clear()
  }
}
