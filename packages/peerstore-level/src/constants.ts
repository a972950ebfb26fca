/** All durations are milliseconds. */
export const TempAddrTTL = 2 * 60_000
export const RecentlyConnectedAddrTTL = 15 * 60_000
export const AddressTTL = 60 * 60_000

/**
 * Two distinct never-expiring TTLs that survive JSON (go uses MaxInt64-1 / MaxInt64 ns, which JS numbers
 * cannot tell apart). Any `ttl >= ConnectedAddrTTL` never expires.
 */
export const ConnectedAddrTTL = Number.MAX_SAFE_INTEGER - 1
export const PermanentAddrTTL = Number.MAX_SAFE_INTEGER

export const LatencyEWMASmoothing = 0.1

export const DEFAULT_MAX_PROTOCOLS = 128
export const DEFAULT_MAX_ADDRS_PER_PEER = 64
export const DEFAULT_MAX_ADDRS = 1_000_000
export const DEFAULT_GC_INTERVAL = 10 * 60_000
export const DEFAULT_GC_SLICE_MS = 4

export function neverExpires(ttl: number): boolean {
  return ttl >= ConnectedAddrTTL
}
