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
/** multistream-select refuses longer protocol ids (1024 bytes), so no protocol a peer can speak is refused. */
export const DEFAULT_MAX_PROTOCOL_LENGTH = 1024
export const DEFAULT_MAX_METADATA_KEYS = 64
export const DEFAULT_MAX_METADATA_VALUE_BYTES = 64 * 1024
export const DEFAULT_MAX_KEY_LENGTH = 1024
export const DEFAULT_MAX_TAGS = 64
/** Deepest nesting of a JSON metadata value (deeper overflows the stack of a later encode or copy). */
export const MAX_JSON_DEPTH = 100
export const DEFAULT_MAX_ADDRS_PER_PEER = 64
export const DEFAULT_MAX_ADDRS = 1_000_000
export const DEFAULT_GC_INTERVAL = 10 * 60_000
export const DEFAULT_GC_SLICE_MS = 4
/** Expiring addresses gained since the last GC run that start another (gc.ts). */
export const DEFAULT_GC_RUN_AFTER_ADDRS = 100_000

export function neverExpires(ttl: number): boolean {
  return ttl >= ConnectedAddrTTL
}
