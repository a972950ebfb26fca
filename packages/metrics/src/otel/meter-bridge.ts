import type {
  Attributes,
  BatchObservableResult,
  Meter,
  MeterProvider,
  Observable,
  ObservableResult
} from '@opentelemetry/api'
import { metrics as otelMetrics } from '@opentelemetry/api'
import { MetricsError } from '../errors.ts'
import { bandwidthFamilies, DEFAULT_MAX_PEER_LABELS, type StatsSource } from '../export/bandwidth-families.ts'
import { busiest } from '../export/busiest.ts'
import type { Family, Sample } from '../export/exposition.ts'
import { DEFAULT_BUCKETS, type MetricRegistry, type RegisteredMetric } from '../libp2p/registry.ts'

export interface OpenTelemetryMetricsOptions {
  /** Where the instruments are made; the global one (`metrics.getMeterProvider()`) when not given. */
  meterProvider?: MeterProvider
  /** The meter's (instrumentation scope's) name, default `@peerscope/metrics`. */
  meterName?: string
  /** Per-peer bytes (`peer` attribute), for the `maxPeerLabels` busiest peers, the rest as `peer="other"`. */
  perPeer?: boolean
  maxPeerLabels?: number
  /** Wire bytes of each open connection (`connection`, `peer`), for the `maxConnectionLabels` busiest. */
  perConnection?: boolean
  maxConnectionLabels?: number
}

export const DEFAULT_METER_NAME = '@peerscope/metrics'
export const DEFAULT_MAX_CONNECTION_LABELS = 100
export const CONNECTION_FAMILY = 'libp2p_connection_transfer_bytes_total'

/** The bandwidth figures the bridge reads, plus the open connections' peers. */
export interface BridgeSource {
  stats(): StatsSource
  connectionPeer(id: string): string | undefined
}

const UNITS: Record<string, string> = {
  libp2p_transfer_bytes_total: 'By',
  libp2p_transfer_packets_total: '{packet}',
  libp2p_transfer_rate_bytes_per_second: 'By/s',
  libp2p_protocol_transfer_bytes_total: 'By',
  libp2p_protocol_transfer_packets_total: '{packet}',
  libp2p_connection_wire_bytes_total: 'By',
  libp2p_peer_transfer_bytes_total: 'By',
  [CONNECTION_FAMILY]: 'By',
  libp2p_bandwidth_tracked_peers: '{peer}'
}

function positiveInteger(value: unknown, name: string): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || (value as number) < 1)) {
    throw new MetricsError(
      'ERR_INVALID_OPTIONS',
      `openTelemetry.${name} must be a whole number >= 1, got ${String(value)}`
    )
  }
}

export function validateOpenTelemetryOptions(options: OpenTelemetryMetricsOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new MetricsError(
      'ERR_INVALID_OPTIONS',
      'openTelemetry must be true or an object such as { meterProvider }'
    )
  }
  const provider = options.meterProvider
  if (provider !== undefined && typeof (provider as MeterProvider | null)?.getMeter !== 'function') {
    throw new MetricsError(
      'ERR_INVALID_OPTIONS',
      'openTelemetry.meterProvider has no getMeter(): pass a MeterProvider from @opentelemetry/sdk-metrics'
    )
  }
  positiveInteger(options.maxPeerLabels, 'maxPeerLabels')
  positiveInteger(options.maxConnectionLabels, 'maxConnectionLabels')
}

function attributes(sample: Sample): Attributes {
  return sample.labels ?? {}
}

/**
 * The bandwidth families and libp2p's registered metrics as OpenTelemetry instruments, read when the SDK collects
 * (nothing is added to the counting path). Names are the Prometheus family names, so an OTel → Prometheus path
 * gives the same series as `/metrics` and the same dashboards work. Counters are cumulative observable counters,
 * gauges observable gauges; libp2p's histograms and summaries become OTel histograms fed as values are observed.
 */
export class MeterBridge {
  readonly #meter: Meter
  readonly #source: BridgeSource
  readonly #options: OpenTelemetryMetricsOptions
  readonly #bandwidth = new Map<string, Observable>()
  readonly #registered = new Map<string, () => void>()
  readonly #unsubscribe: () => void

  constructor(source: BridgeSource, registry: MetricRegistry, options: OpenTelemetryMetricsOptions) {
    const provider = options.meterProvider ?? otelMetrics.getMeterProvider()
    this.#meter = provider.getMeter(options.meterName ?? DEFAULT_METER_NAME)
    this.#source = source
    this.#options = options
    for (const family of this.#families()) {
      const description = { description: family.help, unit: UNITS[family.name] ?? '' }
      this.#bandwidth.set(
        family.name,
        family.type === 'counter'
          ? this.#meter.createObservableCounter(family.name, description)
          : this.#meter.createObservableGauge(family.name, description)
      )
    }
    this.#meter.addBatchObservableCallback(this.#observeBandwidth, [...this.#bandwidth.values()])
    this.#unsubscribe = registry.subscribe({
      added: (metric) => this.#add(metric),
      removed: (metric) => {
        this.#registered.get(metric.name)?.()
        this.#registered.delete(metric.name)
      }
    })
  }

  close(): void {
    this.#meter.removeBatchObservableCallback(this.#observeBandwidth, [...this.#bandwidth.values()])
    this.#unsubscribe()
    for (const stop of this.#registered.values()) stop()
    this.#registered.clear()
  }

  #families(): Family[] {
    const stats = this.#source.stats()
    const families = bandwidthFamilies(stats, {
      perPeer: this.#options.perPeer === true,
      maxPeerLabels: this.#options.maxPeerLabels ?? DEFAULT_MAX_PEER_LABELS
    })
    if (this.#options.perConnection === true) families.push(this.#connectionFamily(stats))
    return families
  }

  /** Open connections only (a closed one's series ends with it), busiest first. */
  #connectionFamily(stats: StatsSource): Family {
    const limit = this.#options.maxConnectionLabels ?? DEFAULT_MAX_CONNECTION_LABELS
    const open: Array<{ id: string; peer: string; totalIn: number; totalOut: number }> = []
    for (const [id, s] of stats.byConnection()) {
      const peer = this.#source.connectionPeer(id)
      if (peer !== undefined) open.push({ id, peer, totalIn: s.totalIn, totalOut: s.totalOut })
    }
    const busiestOpen = busiest(
      open,
      limit,
      (c) => c.totalIn + c.totalOut,
      (c) => c.id
    )
    return {
      name: CONNECTION_FAMILY,
      help: `Bytes on the wire of each open connection (the ${limit} busiest)`,
      type: 'counter',
      samples: busiestOpen.flatMap(({ id, peer, totalIn, totalOut }) => [
        { labels: { connection: id, peer, direction: 'in' }, value: totalIn },
        { labels: { connection: id, peer, direction: 'out' }, value: totalOut }
      ])
    }
  }

  readonly #observeBandwidth = (result: BatchObservableResult): void => {
    for (const family of this.#families()) {
      const instrument = this.#bandwidth.get(family.name)
      if (instrument === undefined) continue
      for (const sample of family.samples) result.observe(instrument, sample.value, attributes(sample))
    }
  }

  #add(metric: RegisteredMetric): void {
    const description = { description: metric.help }
    if (metric.type === 'histogram' || metric.type === 'summary') {
      // A calculated one is observed only when collected, which OpenTelemetry cannot trigger for a histogram.
      if (metric.onObserve === undefined) return
      const histogram = this.#meter.createHistogram(metric.name, {
        ...description,
        advice: { explicitBucketBoundaries: [...(metric.buckets ?? DEFAULT_BUCKETS)] }
      })
      const label = metric.label
      this.#registered.set(
        metric.name,
        metric.onObserve((key, value) => histogram.record(value, key === '' ? {} : { [label]: key }))
      )
      return
    }
    const observable =
      metric.type === 'counter'
        ? this.#meter.createObservableCounter(metric.name, description)
        : this.#meter.createObservableGauge(metric.name, description)
    const callback = async (result: ObservableResult): Promise<void> => {
      const family = await metric.collect()
      for (const sample of family.samples) {
        if (Number.isFinite(sample.value)) result.observe(sample.value, attributes(sample))
      }
    }
    observable.addCallback(callback)
    this.#registered.set(metric.name, () => observable.removeCallback(callback))
  }
}
