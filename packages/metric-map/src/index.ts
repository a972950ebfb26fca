export type { MetricMapErrorCode } from './errors.ts'
export { MetricMapError } from './errors.ts'
export { LocalMetricMap } from './local-metric-map.ts'
export type { CounterHandle, MetricMap } from './types.ts'
