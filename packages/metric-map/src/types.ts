/**
 * The contract shared by every counter map: string keys (peer ids, protocol ids) to integer counters.
 *
 * Counters are JavaScript numbers, exact up to `Number.MAX_SAFE_INTEGER` (9 PiB of bytes). Implementations
 * may hold more internally (the shared map keeps 64-bit integers) but always report numbers.
 */
export interface MetricMap extends Iterable<[key: string, value: number]> {
  /** Number of keys currently present. */
  readonly size: number

  /**
   * Adds `delta` to the counter at `key`, creating it at 0 first if absent. Returns the new value.
   * `delta` must be a safe integer (negative values are allowed: the map is a plain counter map; callers that
   * count bytes reject negatives themselves). Throws `ERR_INVALID_DELTA` otherwise, `ERR_INVALID_KEY` for a
   * key that is not a string or is too long for the implementation.
   */
  add(key: string, delta: number): number

  /**
   * The seed's generic update: stores `value` if `key` is absent, otherwise replaces the current value with
   * `onModify(key, current)`. Returns the value now stored. Not atomic across threads for the shared map when
   * `onModify` reads other state; prefer `add` for counters.
   */
  storeOrModify(key: string, value: number, onModify: (key: string, current: number) => number): number

  /** The counter at `key`, or `undefined` when absent. Never creates an entry. */
  get(key: string): number | undefined

  has(key: string): boolean

  /** Removes `key`; returns whether it was present. */
  delete(key: string): boolean

  /** Removes every key. */
  clear(): void

  /** Live iteration over the current entries (a key added during iteration may or may not be seen). */
  entries(): IterableIterator<[key: string, value: number]>

  keys(): IterableIterator<string>

  /** A point-in-time copy: further updates do not change it. */
  snapshot(): Map<string, number>

  /**
   * Resolves `key` once to a handle whose updates skip hashing: the hot path of the metrics keeps one per
   * stream. `handle.add(d)` is always equivalent to `map.add(key, d)`, also after the key was deleted (the next
   * add re-creates it).
   */
  handle(key: string): CounterHandle
}

export interface CounterHandle {
  readonly key: string
  /** `map.add(key, delta)`: adds and returns the new value. */
  add(delta: number): number
  /**
   * Adds like `add` without reading the total back. The same on a single-threaded map; on a shared map with
   * several lanes it is the update that never touches another thread's cache lines (the hot path of the metrics).
   */
  increment(delta: number): void
  /** Current value, 0 when the key is absent. */
  get(): number
}
