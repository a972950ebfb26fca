// The platform-neutral entry (browsers, workers, any runtime): no `node:` module is reachable from here. The Node
// entry (node.ts) adds process metrics and the worker-thread exporter.
export {
  type Attribution,
  BandwidthCounter,
  type BandwidthCounterInit,
  type Channel,
  DEFAULT_MAX_PEERS,
  OVERFLOW_PEER,
  type Stats
} from './bandwidth-counter.ts'
export { MetricsError, type MetricsErrorCode } from './errors.ts'
export {
  bandwidthFamilies,
  DEFAULT_MAX_PEER_LABELS,
  type PrometheusOptions,
  type StatsSource
} from './export/bandwidth-families.ts'
export { type Family, PROMETHEUS_CONTENT_TYPE, renderFamilies, type Sample } from './export/exposition.ts'
export { statsFromMap } from './export/map-stats.ts'
export type { ConnectionStats, MetricsSnapshot } from './export/snapshot.ts'
export {
  type ConnectionInfo,
  DEFAULT_EXPORT_MAP_CAPACITY,
  DEFAULT_IDLE_TIMEOUT,
  type Libp2pMetricsComponents,
  type Libp2pMetricsInit,
  libp2pMetrics,
  type PeerscopeMetrics
} from './libp2p/metrics.ts'
export type { ProcessMetricsOptions } from './process/process-metrics.ts'
export { IDLE_RATE, RATE_ALPHA } from './rate.ts'
