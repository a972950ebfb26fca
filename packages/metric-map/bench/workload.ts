/** The benchmark workload, built the same way in the main thread and in workers: no data crosses threads. */
export const KEY_COUNT = 1000

export interface Workload {
  keys: string[]
  /** Index into `keys` per operation. */
  sequence: Uint32Array
  /** Delta per operation (packet-sized byte counts). */
  deltas: Uint32Array
}

export function workload(operations: number, seed: number): Workload {
  const built = Array.from(
    { length: KEY_COUNT },
    (_, i) => `12D3KooW${String(i).padStart(44, 'x')}/ipfs/id/1.0.0`
  )
  // Internalised up front, as V8 does to any string the first time it is used as a property name. A plain Map is
  // ~50% faster on internalised keys; left to chance, every competitor's rate depended on whether an earlier one
  // (the shared map's key cache, an object) had internalised them.
  const keys = Object.keys(Object.fromEntries(built.map((k) => [k, 0])))
  const sequence = new Uint32Array(operations)
  const deltas = new Uint32Array(operations)
  let s = seed >>> 0
  for (let i = 0; i < operations; i++) {
    // xorshift32: cheap and deterministic
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    sequence[i] = s % KEY_COUNT
    deltas[i] = 1 + (s % 1500)
  }
  return { keys, sequence, deltas }
}
