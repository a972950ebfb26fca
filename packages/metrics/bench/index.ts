// `pnpm bench` for @peerscope/metrics: the package's benchmarks, one after the other. The micro-benchmarks run in
// this one process on stand-in objects or a counter of their own; scale.ts runs each of its cases in a process of
// its own (bench/scale-case.ts). Each prints its settings and the load average, a table, then one JSON line. The
// two-process transfer (real libp2p nodes) is in the root benchmarks/ workspace.
await import('./log-event.ts')
await import('./hook-cost.ts')
await import('./scrape.ts')
await import('./scale.ts')
