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
import { renderFamilies } from '../export/exposition.ts'
import { PrometheusExporter } from '../export/prometheus-exporter.ts'
import { type MetricsSnapshot, snapshotOf } from '../export/snapshot.ts'
import { countStream } from './count-stream.ts'
import { MetricRegistry } from './registry.ts'
import { StreamOwners } from './stream-owners.ts'

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
   * overflow peer); or pass a counter built over your own `SharedMetricMap` in `bandwidth`.
   */
  exportFromWorker?: boolean
}

/** Counters of the shared map made for `exportFromWorker: true` (about 27 MiB with 192-byte keys). */
export const DEFAULT_EXPORT_MAP_CAPACITY = 65_536

export interface Libp2pMetricsComponents {
  events: TypedEventTarget<Libp2pEvents>
  logger: ComponentLogger
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
  #exporter: PrometheusExporter | undefined
  #trimTimer: ReturnType<typeof setInterval> | undefined

  constructor(components: Libp2pMetricsComponents & Record<string, unknown>, init: Libp2pMetricsInit) {
    this.#components = components
    this.#log = components.logger.forComponent('peerscope:metrics')
    this.#exportFromWorker = init.exportFromWorker === true
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
    if (this.#exportFromWorker) {
      this.#exporter = new PrometheusExporter(this.bandwidth.map, this.#prometheus)
    }
    if (this.#idleTimeout > 0) {
      this.#trimTimer = setInterval(
        () => this.bandwidth.trimIdle(Date.now() - this.#idleTimeout),
        Math.min(this.#idleTimeout, 60_000)
      )
      this.#trimTimer.unref()
    }
  }

  async stop(): Promise<void> {
    await this.#exporter?.close()
    this.#exporter = undefined
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

  async prometheus(): Promise<string> {
    const registered = renderFamilies(await this.#registry.families())
    // With exportFromWorker, the per-peer and per-protocol series are rendered off this thread.
    let bandwidth: string
    if (this.#exporter === undefined)
      bandwidth = renderFamilies(bandwidthFamilies(this.bandwidth, this.#prometheus))
    else {
      this.bandwidth.flush() // the worker reads the map itself: hand it this task's counts first
      bandwidth = await this.#exporter.render()
    }
    return `${bandwidth}${registered}`
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

  /** Tracing is not collected: functions run unchanged. */
  traceFunction = (<F>(_name: string, fn: F): F => fn) as Metrics['traceFunction']

  createTrace(): undefined {
    return undefined
  }
}

/** `createLibp2p({ metrics: libp2pMetrics() })`: per-peer, per-protocol and per-connection bandwidth. */
export function libp2pMetrics(
  init: Libp2pMetricsInit = {}
): (components: Libp2pMetricsComponents) => PeerscopeMetrics {
  return (components) =>
    new PeerscopeMetricsImpl(components as Libp2pMetricsComponents & Record<string, unknown>, init)
}
