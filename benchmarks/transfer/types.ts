// What the harness's parent process and its node processes (node.ts) exchange over the IPC channel.

/** The metrics a node process runs with; each transfer variant names one (variants.ts). */
export type MetricsKind =
  | 'none'
  | 'ours'
  | 'ours-lean'
  | 'prometheus-metrics'
  | 'prometheus-metrics-lean'
  | 'inert'
  | 'hooks'
  | 'counting'
  | 'quiet'

/** `split`: sender on CPU 0, receiver on CPU 1; `same`: both on CPU 0 (Linux `taskset`); undefined: not pinned. */
export type Pinning = 'split' | 'same' | undefined

export interface Workload {
  name: string
  messageSize: number
  messages: number
}

/** What the sender reports for one workload. */
export interface TransferResult {
  workload: string
  ms: number
  bytes: number
  messages: number
  scrapes: number
  scrapeMeanMs: number
  scrapeMaxMs: number
  /** CPU time (user + system) this sender process spent on the run, µs: steadier than wall time on 2 cores. */
  cpuMicros: number
}

/**
 * What the metrics cost the sender's thread once the transfers are over, measured as the event loop's active time
 * (`performance.eventLoopUtilization`: everything the thread does except wait in the poll phase), so a scrape
 * served by a worker is charged only its part on this thread. Unlike the scrape latency under load, these do not
 * include the transfer work that runs while a scrape awaits.
 */
export interface IdleCosts {
  /** Active time of the idle node's thread per second (timers, sweeps, samplers, keep-alives). */
  activeMsPerSecond: number
  /** One scrape's active time on the node's thread: median and mean of the probe's scrapes. */
  scrapeThreadMs: number
  scrapeThreadMeanMs: number
  /** One scrape from start to text (includes a worker's time, where there is one). */
  scrapeWallMs: number
  scrapeBytes: number
}

/** How the idle costs are measured: a window for background work, then scrapes 10 ms apart. */
export interface IdleProbe {
  windowMs: number
  scrapes: number
}

/** Parent to sender. */
export type ToNode =
  | {
      type: 'send'
      addr: string
      warmup: Workload[]
      workloads: Workload[]
      scrapesPerSecond: number
      idleProbe: IdleProbe | undefined
    }
  | { type: 'stop' }

/** Node to parent. */
export type FromNode =
  | { type: 'ready'; addr: string }
  | { type: 'results'; results: TransferResult[]; idle?: IdleCosts }
  | { type: 'error'; error: string }
