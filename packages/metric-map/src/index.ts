export type { MetricMapErrorCode } from './errors.ts'
export { MetricMapError } from './errors.ts'
export { LocalMetricMap } from './local-metric-map.ts'
export {
  DEFAULT_CAPACITY,
  DEFAULT_MAX_KEY_BYTES,
  DEFAULT_MAX_THREADS,
  SharedMetricMap,
  type SharedMetricMapOptions
} from './shared-metric-map.ts'
export type { CounterHandle, MetricMap } from './types.ts'
export type { WasmMemory } from './update-wasm.ts'
