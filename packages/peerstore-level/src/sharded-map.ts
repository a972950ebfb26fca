// A Map split into shards by key, for the peer index. One Map of a million peers grows by rehashing every entry in
// one call (a `set` at 524,288 entries took 106 ms, at 1,048,576 entries 240 ms; deletes shrink it the same way,
// 167 ms), a block no slicing of ours can split. In shards, each rehash moves 1/SHARDS of the entries.
//
// Iteration visits shard after shard, each in insertion order (not the whole map's insertion order); like a Map's,
// an iterator outlives deletes and sees entries added to a shard it has not finished (a shard made after the
// iterator passed its place is not seen).

/** Shards: a power of two (a million peers: ~16k per shard, a rehash of about 2 ms). */
export const SHARDS = 64

/** The shard of a peer id text: its last two characters (base58 or base32 of a hash or key: evenly spread). */
export function shardOf(key: string): number {
  const n = key.length
  return ((key.charCodeAt(n - 1) * 31 + key.charCodeAt(n - 2)) | 0) & (SHARDS - 1)
}

export class ShardedMap<V> {
  // Made on first use: the write path starts a fresh map for each flush.
  readonly #shards: Array<Map<string, V> | undefined> = new Array(SHARDS).fill(undefined)
  #size = 0

  get size(): number {
    return this.#size
  }

  get(key: string): V | undefined {
    return this.#shards[shardOf(key)]?.get(key)
  }

  has(key: string): boolean {
    return this.#shards[shardOf(key)]?.has(key) ?? false
  }

  set(key: string, value: V): this {
    const i = shardOf(key)
    let shard = this.#shards[i]
    if (shard === undefined) {
      shard = new Map<string, V>()
      this.#shards[i] = shard
    }
    const before = shard.size
    shard.set(key, value)
    this.#size += shard.size - before
    return this
  }

  delete(key: string): boolean {
    const deleted = this.#shards[shardOf(key)]?.delete(key) ?? false
    if (deleted) this.#size--
    return deleted
  }

  keys(): IterableIterator<string> {
    return new ShardsIterator(this.#shards, (shard) => shard.keys())
  }

  values(): IterableIterator<V> {
    return new ShardsIterator(this.#shards, (shard) => shard.values())
  }

  entries(): IterableIterator<[string, V]> {
    return new ShardsIterator(this.#shards, (shard) => shard.entries())
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries()
  }
}

/**
 * The shards' iterators one after the other. A class rather than a generator: GC and `all()` step through every
 * peer, and a generator delegating with `yield*` cost several times a Map iterator's step.
 */
class ShardsIterator<V, T> implements IterableIterator<T> {
  readonly #shards: Array<Map<string, V> | undefined>
  readonly #open: (shard: Map<string, V>) => Iterator<T>
  #at = -1
  #current: Iterator<T> | undefined

  constructor(shards: Array<Map<string, V> | undefined>, open: (shard: Map<string, V>) => Iterator<T>) {
    this.#shards = shards
    this.#open = open
  }

  next(): IteratorResult<T> {
    for (;;) {
      if (this.#current !== undefined) {
        const step = this.#current.next()
        if (step.done !== true) return step
        this.#current = undefined
      }
      // A shard made after the iterator passed its place is not seen (as the generator did).
      while (++this.#at < this.#shards.length && this.#shards[this.#at] === undefined) {}
      if (this.#at >= this.#shards.length) return { done: true, value: undefined }
      this.#current = this.#open(this.#shards[this.#at]!)
    }
  }

  [Symbol.iterator](): IterableIterator<T> {
    return this
  }
}
