import type {
  ComponentLogger,
  Connection,
  Libp2pEvents,
  Logger,
  Metrics,
  MultiaddrConnection,
  Startable,
  Stream,
  TypedEventTarget
} from '@libp2p/interface'
import { serviceCapabilities } from '@libp2p/interface'
import { SharedMetricMap } from '@peerscope/metric-map'
import { BandwidthCounter, type BandwidthCounterInit, type Channel } from '../bandwidth-counter.ts'
import { MetricsError } from '../errors.ts'
import { bandwidthFamilies, type PrometheusOptions } from '../export/bandwidth-families.ts'
import { type Family, renderFamilies } from '../export/exposition.ts'
import {
  declaredFamilies,
  type PrometheusRegistry,
  registryText,
  validateRegistries,
  withoutFamilies
} from '../export/shared-registry.ts'
import { type MetricsSnapshot, snapshotOf } from '../export/snapshot.ts'
import {
  MeterBridge,
  type OpenTelemetryMetricsOptions,
  validateOpenTelemetryOptions
} from '../otel/meter-bridge.ts'
import { PROCESS_FAMILY_NAMES } from '../process/family-names.ts'
import type { DelayHistogram, ProcessMetricsOptions, ThreadReadings } from '../process/process-metrics.ts'
import { countStream } from './count-stream.ts'
import { MetricRegistry } from './registry.ts'
import { StreamOwners } from './stream-owners.ts'
import { FunctionTracer } from './tracing.ts'

export interface Libp2pMetricsInit {
  /** An existing counter (e.g. one over a `SharedMetricMap`), or options for a new one. */
  bandwidth?: BandwidthCounter | BandwidthCounterInit
  prometheus?: PrometheusOptions
  /**
   * Peer, protocol and connection series with no traffic for this long are removed (ms, default 1 h;
   * 0 keeps them until `trimIdle` is called). Totals are never trimmed.
   */
  idleTimeout?: number
  /**
   * Render the bandwidth families of the Prometheus text in a worker thread that reads the counters from a
   * `SharedMetricMap`, so a scrape of many peers does not hold the node's thread. With `true`, a shared map of
   * `DEFAULT_EXPORT_MAP_CAPACITY` counters is made (six per series; series beyond it count in the totals and the
   * overflow peer); or pass a counter built over your own `SharedMetricMap` in `bandwidth`. Node only.
   */
  exportFromWorker?: boolean
  /**
   * Node process and runtime metrics in the Prometheus text, under prom-client's names (`process_cpu_seconds_total`,
   * `nodejs_eventloop_lag_seconds`, `nodejs_gc_duration_seconds`, …), read in the node's thread. Node only: on by
   * default there, off (and refused) on the platform-neutral entry; `false` leaves them out, an object tunes them.
   */
  processMetrics?: boolean | ProcessMetricsOptions
  /**
   * Applications' registries (prom-client's `Registry` or `register`) whose text `prometheus()` serves after ours,
   * so one `/metrics` has both. Where both export a family of the same name, the registry's is kept and ours left
   * out (e.g. the process metrics of an app that called prom-client's `collectDefaultMetrics`).
   */
  registries?: PrometheusRegistry[]
  /**
   * The bandwidth families and libp2p's registered metrics as OpenTelemetry instruments on a `MeterProvider` (the
   * global one with `true`). Off by default. Made at start: register the SDK's provider before starting the node.
   */
  openTelemetry?: boolean | OpenTelemetryMetricsOptions
  /**
   * `traceFunction`/`createTrace` make OpenTelemetry spans through `@opentelemetry/api` (on by default; without a
   * registered tracer provider nothing is recorded). The tracer is named after the node (`nodeInfo.name` and
   * `.version`) unless given here. `false` returns traced functions unwrapped.
   */
  tracing?: boolean | { tracerName?: string; tracerVersion?: string }
}

/** Counters of the shared map made for `exportFromWorker: true` (about 27 MiB with 192-byte keys). */
export const DEFAULT_EXPORT_MAP_CAPACITY = 65_536

export interface Libp2pMetricsComponents {
  events: TypedEventTarget<Libp2pEvents>
  logger: ComponentLogger
  nodeInfo?: { name: string; version: string }
}

/** The js-libp2p `Metrics` with peerscope's bandwidth counter behind it: `node.metrics` in a node. */
export interface PeerscopeMetrics extends Metrics {
  readonly bandwidth: BandwidthCounter
  /** Remote peer and direction of each connection seen, by connection id. */
  connectionInfo(id: string): ConnectionInfo | undefined
  /** Prometheus text exposition (format 0.0.4) of the bandwidth and of every registered metric. */
  prometheus(): Promise<string>
  /** Plain-JSON view: totals, by peer, by protocol, by connection. */
  snapshot(): MetricsSnapshot
  /**
   * Stops exporting a metric libp2p or a service registered (in the Prometheus text and to OpenTelemetry), e.g.
   * one that describes a component replaced by another. Returns whether it was registered.
   */
  removeMetric(name: string): boolean
}

/**
 * What only Node offers, given by the Node entry (`src/node.ts`): the process metrics and the worker that renders
 * a scrape off the node's thread. The platform-neutral entry gives neither, so its `libp2pMetrics` reaches no
 * `node:` module (a browser bundle of it builds).
 */
export interface MetricsPlatform {
  processMetrics?: (options: ProcessMetricsOptions) => ProcessMetricsReader
  workerExporter?: (
    map: SharedMetricMap,
    options: PrometheusOptions,
    init: WorkerExporterInit
  ) => WorkerExporter
}

/** The node thread's loop-delay histogram, which a worker can read from a clone sharing its counts. */
export interface LoopDelay {
  histogram: DelayHistogram
  resolutionMs: number
}

/** What the worker reads besides the shared map (see `ExporterInit` in export/prometheus-exporter.ts). */
export interface WorkerExporterInit {
  loopDelay?: LoopDelay | undefined
}

/** The part of `ProcessMetrics` (process/process-metrics.ts) the metrics use. */
export interface ProcessMetricsReader {
  start(): void
  stop(): void
  collect(): Promise<Family[]>
  threadReadings(options?: { delay?: boolean }): Promise<ThreadReadings>
  readonly delayHistogram: LoopDelay | undefined
}

/** The part of `PrometheusExporter` (export/prometheus-exporter.ts) the metrics use. */
export interface WorkerExporter {
  render(): Promise<string>
  renderWithProcess(readings: ThreadReadings): Promise<{ bandwidth: string; process: string }>
  close(): Promise<void>
  /** Whether the worker reads the loop delay itself: the node thread's readings then leave it out. */
  readonly readsLoopDelay: boolean
}

/** Where an option needs Node: what to import instead. */
function needsNode(option: string, why: string): MetricsError {
  return new MetricsError(
    'ERR_INVALID_OPTIONS',
    `${option} needs Node.js (${why}); this is the platform-neutral entry of @peerscope/metrics: on Node, ` +
      `'@peerscope/metrics' resolves to the Node entry (or import '@peerscope/metrics/node')`
  )
}

export interface ConnectionInfo {
  peer: string
  direction: 'inbound' | 'outbound'
  remoteAddr: string
}

interface PendingWire {
  channel: Channel | undefined
  sent: number[]
  received: number[]
}

export const DEFAULT_IDLE_TIMEOUT = 60 * 60_000

class PeerscopeMetricsImpl implements PeerscopeMetrics, Startable {
  readonly [Symbol.toStringTag] = '@peerscope/metrics'
  readonly [serviceCapabilities] = ['@libp2p/metrics']

  readonly bandwidth: BandwidthCounter
  readonly #registry = new MetricRegistry()
  readonly #components: Libp2pMetricsComponents
  readonly #log: Logger
  readonly #prometheus: PrometheusOptions
  readonly #idleTimeout: number
  readonly #owners: StreamOwners
  /** Wire bytes of connections still being upgraded, by their timeline (shared with the final Connection). */
  readonly #pendingWire = new WeakMap<object, PendingWire>()
  readonly #connections = new Map<string, ConnectionInfo>()
  readonly #exportFromWorker: boolean
  readonly #process: ProcessMetricsReader | undefined
  readonly #platform: MetricsPlatform
  readonly #registries: PrometheusRegistry[]
  readonly #openTelemetry: OpenTelemetryMetricsOptions | undefined
  readonly #tracer: FunctionTracer | undefined
  #exporter: WorkerExporter | undefined
  #bridge: MeterBridge | undefined
  #trimTimer: ReturnType<typeof setInterval> | undefined
  /** Family names already reported as clashing with a shared registry's (logged once each). */
  readonly #clashes = new Set<string>()

  constructor(
    components: Libp2pMetricsComponents & Record<string, unknown>,
    init: Libp2pMetricsInit,
    platform: MetricsPlatform
  ) {
    this.#components = components
    this.#platform = platform
    this.#log = components.logger.forComponent('peerscope:metrics')
    this.#registries = validateRegistries(init.registries)
    // On by default where the platform has them (Node); elsewhere there is no process to describe.
    const processMetrics = init.processMetrics ?? platform.processMetrics !== undefined
    for (const [name, value] of [
      ['processMetrics', processMetrics],
      ['tracing', init.tracing ?? true]
    ] as const) {
      if (typeof value !== 'boolean' && (typeof value !== 'object' || value === null)) {
        throw new MetricsError('ERR_INVALID_OPTIONS', `${name} must be true, false or an options object`)
      }
    }
    if (processMetrics !== false && platform.processMetrics === undefined) {
      throw needsNode('processMetrics', 'node:perf_hooks, node:v8 and /proc')
    }
    this.#process =
      processMetrics === false
        ? undefined
        : platform.processMetrics?.(processMetrics === true ? {} : processMetrics)
    const openTelemetry = init.openTelemetry ?? false
    this.#openTelemetry = openTelemetry === false ? undefined : openTelemetry === true ? {} : openTelemetry
    if (this.#openTelemetry !== undefined) validateOpenTelemetryOptions(this.#openTelemetry)
    const tracing = init.tracing ?? true
    if (tracing !== false) {
      const names = tracing === true ? {} : tracing
      this.#tracer = new FunctionTracer(
        names.tracerName ?? components.nodeInfo?.name ?? 'js-libp2p',
        names.tracerVersion ?? components.nodeInfo?.version
      )
    }
    this.#exportFromWorker = init.exportFromWorker === true
    if (this.#exportFromWorker && platform.workerExporter === undefined) {
      throw needsNode('exportFromWorker', 'node:worker_threads')
    }
    if (init.bandwidth instanceof BandwidthCounter) this.bandwidth = init.bandwidth
    else if (this.#exportFromWorker && init.bandwidth?.map === undefined) {
      const map = SharedMetricMap.create({ capacity: DEFAULT_EXPORT_MAP_CAPACITY, maxKeyBytes: 192 })
      this.bandwidth = new BandwidthCounter({ ...init.bandwidth, map })
    } else this.bandwidth = new BandwidthCounter(init.bandwidth)
    if (this.#exportFromWorker && !(this.bandwidth.map instanceof SharedMetricMap)) {
      throw new MetricsError(
        'ERR_INVALID_OPTIONS',
        'exportFromWorker needs the counters in a SharedMetricMap'
      )
    }
    this.#prometheus = init.prometheus ?? {}
    this.#idleTimeout = init.idleTimeout ?? DEFAULT_IDLE_TIMEOUT
    // The connection manager is built after metrics: ask for it only when a stream needs the fallback scan.
    this.#owners = new StreamOwners(() => {
      try {
        const manager = components.connectionManager as { getConnections(): Connection[] } | undefined
        return manager?.getConnections() ?? []
      } catch {
        return []
      }
    })
  }

  start(): void {
    this.#components.events.addEventListener('connection:open', this.#onConnectionOpen)
    this.#components.events.addEventListener('connection:close', this.#onConnectionClose)
    this.bandwidth.start()
    this.#process?.start()
    if (this.#exportFromWorker) {
      this.#exporter = this.#platform.workerExporter?.(
        this.bandwidth.map as SharedMetricMap,
        this.#prometheus,
        { loopDelay: this.#process?.delayHistogram }
      )
    }
    if (this.#openTelemetry !== undefined) {
      this.#bridge = new MeterBridge(
        { stats: () => this.bandwidth, connectionPeer: (id) => this.#connections.get(id)?.peer },
        this.#registry,
        this.#openTelemetry
      )
    }
    if (this.#idleTimeout > 0) {
      this.#trimTimer = setInterval(
        () => this.bandwidth.trimIdle(Date.now() - this.#idleTimeout),
        Math.min(this.#idleTimeout, 60_000)
      )
      this.#trimTimer.unref?.() // a number in browsers, with nothing to unref
    }
  }

  async stop(): Promise<void> {
    await this.#exporter?.close()
    this.#exporter = undefined
    this.#bridge?.close()
    this.#bridge = undefined
    this.#process?.stop()
    this.#components.events.removeEventListener('connection:open', this.#onConnectionOpen)
    this.#components.events.removeEventListener('connection:close', this.#onConnectionClose)
    this.bandwidth.stop()
    if (this.#trimTimer !== undefined) clearInterval(this.#trimTimer)
    this.#trimTimer = undefined
  }

  trackMultiaddrConnection(maConn: MultiaddrConnection): void {
    const pending: PendingWire = { channel: undefined, sent: [], received: [] }
    this.#pendingWire.set(maConn.timeline, pending)
    // Handshake bytes arrive before the connection (and its peer) is known: hold them until it opens.
    countStream(
      maConn,
      (bytes) => (pending.channel === undefined ? pending.sent.push(bytes) : pending.channel.sent(bytes)),
      (bytes) =>
        pending.channel === undefined ? pending.received.push(bytes) : pending.channel.received(bytes)
    )
  }

  trackProtocolStream(stream: Stream): void {
    const connection = this.#owners.owner(stream)
    if (connection === undefined)
      this.#log('no connection found for a %s stream; counted without a peer', stream.protocol)
    const channel = this.bandwidth.channel({
      ...(connection === undefined ? {} : { peer: connection.remotePeer.toString() }),
      ...(stream.protocol === undefined || stream.protocol === '' ? {} : { protocol: stream.protocol })
    })
    countStream(stream, channel.sent, channel.received)
  }

  readonly #onConnectionOpen = (event: CustomEvent<Connection>): void => {
    const connection = event.detail
    this.#owners.watch(connection)
    this.#connections.set(connection.id, {
      peer: connection.remotePeer.toString(),
      direction: connection.direction,
      remoteAddr: connection.remoteAddr.toString()
    })
    const pending = this.#pendingWire.get(connection.timeline)
    if (pending === undefined) return
    const channel = this.bandwidth.connectionChannel(connection.id)
    for (const bytes of pending.sent) channel.sent(bytes)
    for (const bytes of pending.received) channel.received(bytes)
    pending.sent.length = 0
    pending.received.length = 0
    pending.channel = channel
  }

  readonly #onConnectionClose = (event: CustomEvent<Connection>): void => {
    this.#connections.delete(event.detail.id)
  }

  connectionInfo(id: string): ConnectionInfo | undefined {
    return this.#connections.get(id)
  }

  /** Bandwidth, libp2p's registered metrics, process metrics, then the shared registries' text. */
  async prometheus(): Promise<string> {
    const registeredReading = this.#registry.families()
    const sharedReading = Promise.all(this.#registries.map(registryText))
    // With exportFromWorker, the per-peer and per-protocol series and the process families are rendered off this
    // thread; only what the node's thread alone can read (its loop, heap, GC) is read here and sent along.
    let bandwidth: string | Family[]
    let processPart: string | Family[] = []
    if (this.#exporter === undefined) {
      bandwidth = bandwidthFamilies(this.bandwidth, this.#prometheus)
      if (this.#process !== undefined) processPart = await this.#process.collect()
    } else {
      this.bandwidth.flush() // the worker reads the map itself: hand it this task's counts first
      if (this.#process === undefined) bandwidth = await this.#exporter.render()
      else {
        const readings = await this.#process.threadReadings({ delay: !this.#exporter.readsLoopDelay })
        const texts = await this.#exporter.renderWithProcess(readings)
        bandwidth = texts.bandwidth
        processPart = texts.process
      }
    }
    const [registered, shared] = await Promise.all([registeredReading, sharedReading])
    // One TYPE per name in the text: a shared registry's family wins over any of ours, and libp2p's registrations
    // over our process families (the only ones a registration could plausibly name).
    const taken = new Set<string>()
    for (const text of shared) for (const name of declaredFamilies(text)) taken.add(name)
    const ours = new Set(taken)
    for (const family of registered) if (PROCESS_FAMILY_NAMES.includes(family.name)) ours.add(family.name)
    const part = (families: string | Family[], drop: Set<string>): string => {
      if (drop.size === 0) return typeof families === 'string' ? families : renderFamilies(families)
      const names =
        typeof families === 'string' ? [...declaredFamilies(families)] : families.map((f) => f.name)
      const dropped = names.filter((name) => drop.has(name))
      for (const name of dropped) if (taken.has(name)) this.#reportClash(name)
      if (typeof families !== 'string') return renderFamilies(families.filter((f) => !drop.has(f.name)))
      return dropped.length > 0 ? withoutFamilies(families, drop) : families
    }
    return `${part(bandwidth, taken)}${part(registered, taken)}${part(processPart, ours)}${shared.join('')}`
  }

  #reportClash(name: string): void {
    if (this.#clashes.has(name)) return
    this.#clashes.add(name)
    this.#log("%s is exported by a shared registry too: serving the registry's, not ours", name)
  }

  removeMetric(name: string): boolean {
    return this.#registry.remove(name)
  }

  snapshot(): MetricsSnapshot {
    return snapshotOf(this.bandwidth, (id) => this.#connections.get(id))
  }

  // --- libp2p's own metrics ------------------------------------------------------------------------------

  registerMetric = ((name: string, options?: object) =>
    this.#registry.metric(name, options, 'gauge')) as Metrics['registerMetric']
  registerMetricGroup = ((name: string, options?: object) =>
    this.#registry.metric(name, options, 'gauge')) as Metrics['registerMetricGroup']
  registerCounter = ((name: string, options?: object) =>
    this.#registry.metric(name, options, 'counter')) as Metrics['registerCounter']
  registerCounterGroup = ((name: string, options?: object) =>
    this.#registry.metric(name, options, 'counter')) as Metrics['registerCounterGroup']
  registerHistogram = ((name: string, options?: object) =>
    this.#registry.histogram(name, options)) as Metrics['registerHistogram']
  registerHistogramGroup = ((name: string, options?: object) =>
    this.#registry.histogram(name, options)) as Metrics['registerHistogramGroup']
  registerSummary = ((name: string, options?: object) =>
    this.#registry.summary(name, options)) as Metrics['registerSummary']
  registerSummaryGroup = ((name: string, options?: object) =>
    this.#registry.summary(name, options)) as Metrics['registerSummaryGroup']

  traceFunction = ((name: string, fn: (...args: unknown[]) => unknown, options?: object) =>
    this.#tracer === undefined ? fn : this.#tracer.wrap(name, fn, options)) as Metrics['traceFunction']

  /** The active OpenTelemetry context, to pass as `{ trace }` to a libp2p call to trace it. */
  createTrace(): unknown {
    return this.#tracer?.createTrace()
  }
}

/**
 * `createLibp2p({ metrics: libp2pMetrics() })`: per-peer, per-protocol and per-connection bandwidth. This is the
 * platform-neutral one (no process metrics, no `exportFromWorker`); on Node the package's root resolves to the
 * Node entry's, which has both.
 */
export function libp2pMetrics(
  init: Libp2pMetricsInit = {}
): (components: Libp2pMetricsComponents) => PeerscopeMetrics {
  return libp2pMetricsOn({}, init)
}

/** `libp2pMetrics` with what the platform offers (the Node entry passes process metrics and the worker). */
export function libp2pMetricsOn(
  platform: MetricsPlatform,
  init: Libp2pMetricsInit
): (components: Libp2pMetricsComponents) => PeerscopeMetrics {
  return (components) =>
    new PeerscopeMetricsImpl(components as Libp2pMetricsComponents & Record<string, unknown>, init, platform)
}
