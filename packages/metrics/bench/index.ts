// `pnpm bench` for @peerscope/metrics: the package's micro-benchmarks, one after the other, each in this one process
// on stand-in objects or a counter of its own. Each prints its settings and the load average, a table, then one JSON
// line. The two-process transfer (real libp2p nodes) is in the root benchmarks/ workspace.
await import('./log-event.ts')
await import('./hook-cost.ts')
await import('./scrape.ts')
