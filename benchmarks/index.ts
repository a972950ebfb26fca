// `pnpm bench` for the root benchmarks workspace: every harness here, one after the other (they would compete for
// the two cores otherwise). Each prints its settings and the load average first, then a table, then one JSON line.
// The peer-store scaling benchmark runs 10k and 100k peers; BENCH_SCALE_1M=1 adds a million (about half an hour).
await import('./peerstore/scale.ts')
await import('./transfer/warm-up-curve.ts')
await import('./transfer/transfer.ts')
