// A prometheus.yml for the swarm: one job, every node's /metrics. The demo writes it next to the nodes' data;
// test/dashboards.test.ts runs a real Prometheus with it.

export interface PrometheusConfigOptions {
  /** `host:port` of each node's HTTP server. */
  targets: string[]
  /** Scrape and rule evaluation interval (default 15s). */
  interval?: string
  /** Rule files to load (absolute paths), e.g. dashboards/peerscope.rules.yml. */
  ruleFiles?: string[]
}

export function prometheusConfig(options: PrometheusConfigOptions): string {
  const interval = options.interval ?? '15s'
  const lines = ['global:', `  scrape_interval: ${interval}`, `  evaluation_interval: ${interval}`]
  if (options.ruleFiles !== undefined && options.ruleFiles.length > 0) {
    lines.push('rule_files:', ...options.ruleFiles.map((file) => `  - ${JSON.stringify(file)}`))
  }
  lines.push(
    'scrape_configs:',
    '  - job_name: peerscope',
    '    static_configs:',
    `      - targets: [${options.targets.map((t) => `'${t}'`).join(', ')}]`
  )
  return `${lines.join('\n')}\n`
}
