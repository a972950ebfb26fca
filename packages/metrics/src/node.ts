// The Node entry: everything of the platform-neutral entry (index.ts), plus what needs Node's runtime: process
// metrics and the worker-thread exporter. `@peerscope/metrics` resolves here under the `node` export condition;
// `@peerscope/metrics/node` names it explicitly.

export { PrometheusExporter } from './export/prometheus-exporter.ts'
export * from './index.ts'
export { libp2pMetrics } from './libp2p/node-metrics.ts'
