// `libp2pMetrics` with Node's parts plugged in: process metrics (on by default) and `exportFromWorker`.
import { PrometheusExporter } from '../export/prometheus-exporter.ts'
import { ProcessMetrics } from '../process/process-metrics.ts'
import {
  type Libp2pMetricsComponents,
  type Libp2pMetricsInit,
  libp2pMetricsOn,
  type MetricsPlatform,
  type PeerscopeMetrics
} from './metrics.ts'

const node: MetricsPlatform = {
  processMetrics: (options) => new ProcessMetrics(options),
  workerExporter: (map, options, init) => new PrometheusExporter(map, options, init)
}

/** `createLibp2p({ metrics: libp2pMetrics() })`: per-peer, per-protocol and per-connection bandwidth. */
export function libp2pMetrics(
  init: Libp2pMetricsInit = {}
): (components: Libp2pMetricsComponents) => PeerscopeMetrics {
  return libp2pMetricsOn(node, init)
}
