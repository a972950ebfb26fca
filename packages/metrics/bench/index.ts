// `pnpm bench` for @peerscope/metrics: every benchmark of the package, one after the other.
// Each prints a table, then one JSON line (its last line) with its figures.
await import('./log-event.ts')
await import('./hook-cost.ts')
await import('./scrape.ts')
await import('./warm-up-curve.ts')
await import('./transfer.ts')
