// `pnpm bench` for the root benchmarks workspace: every harness here, one after the other (they would compete for
// the two cores otherwise). Each prints its settings and the load average first, then a table, then one JSON line.
await import('./transfer/warm-up-curve.ts')
await import('./transfer/transfer.ts')
