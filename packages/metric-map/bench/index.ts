// `pnpm bench` for @peerscope/metric-map: runs every benchmark of the package (one, for now).
await import('./metric-map.ts')
