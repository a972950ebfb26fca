// The peer index's map: sharded by key for lookups (sharded-map.ts: no rehash of every entry in one call), and
// iterated in the order its keys were added, through a list linking the entries.
//
// Why the order matters: GC and `all()` touch every entry, and each entry is several objects (its address list
// and that list's array, its protocols) made one after another when the peer was added or loaded. Walked in the
// order they were made, those objects lie close together in memory; walked shard after shard (a Map's order within
// each shard), every step went to a far part of the heap. A GC of a full expiry of 100,000 peers took ~200 ms of
// CPU in shard order against ~120 ms in one Map's insertion order (gc-profile.ts, SHARDS 64 and 1).
//
// Iteration is a Map's: in insertion order (a `set` of a key held keeps its place), and an iterator outlives deletes
// and sees entries added after it started. The list always ends in an empty link that the next new key fills (and a
// new empty one follows): an entry deleted while it was the last one still leads to what is added after it.

import { SHARDS, shardOf } from './sharded-map.ts'

interface Link<V> {
  /** Unset on the empty link at the end. */
  key: string
  value: V | undefined
  prev: Link<V> | undefined
  /** Kept when the entry is deleted, so an iterator standing on it goes on to what followed it. */
  next: Link<V> | undefined
  live: boolean
}

function emptyLink<V>(prev: Link<V> | undefined): Link<V> {
  return { key: '', value: undefined, prev, next: undefined, live: false }
}

export class OrderedShardedMap<V> {
  readonly #shards: Array<Map<string, Link<V>>> = Array.from({ length: SHARDS }, () => new Map())
  /** The first link (the empty end link when the map is empty). */
  #first: Link<V>
  /** The empty link at the end, which the next new key fills. */
  #end: Link<V>
  #size = 0

  constructor() {
    this.#end = emptyLink(undefined)
    this.#first = this.#end
  }

  get size(): number {
    return this.#size
  }

  get(key: string): V | undefined {
    return this.#shards[shardOf(key)]!.get(key)?.value
  }

  has(key: string): boolean {
    return this.#shards[shardOf(key)]!.has(key)
  }

  set(key: string, value: V): this {
    const shard = this.#shards[shardOf(key)]!
    const held = shard.get(key)
    if (held !== undefined) {
      held.value = value
      return this
    }
    const link = this.#end
    link.key = key
    link.value = value
    link.live = true
    this.#end = emptyLink(link)
    link.next = this.#end
    shard.set(key, link)
    this.#size++
    return this
  }

  delete(key: string): boolean {
    const shard = this.#shards[shardOf(key)]!
    const link = shard.get(key)
    if (link === undefined) return false
    shard.delete(key)
    this.#size--
    link.live = false
    link.value = undefined
    // A live link always has a next one (at least the empty end link).
    const next = link.next as Link<V>
    const prev = link.prev
    if (prev === undefined) this.#first = next
    else prev.next = next
    next.prev = prev
    // `next` stays: an iterator standing on this entry goes on from there.
    link.prev = undefined
    return true
  }

  readonly #firstLink = (): Link<V> => this.#first

  keys(): IterableIterator<string> {
    return new LinkIterator(this.#firstLink, (link) => link.key)
  }

  values(): IterableIterator<V> {
    return new LinkIterator(this.#firstLink, (link) => link.value as V)
  }

  entries(): IterableIterator<[string, V]> {
    return new LinkIterator(this.#firstLink, (link): [string, V] => [link.key, link.value as V])
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries()
  }
}

/**
 * Walks the links from the map's first at its first step, skipping deleted ones (reached from an entry deleted
 * after it was visited).
 */
class LinkIterator<V, T> implements IterableIterator<T> {
  #at: Link<V> | undefined
  #started = false
  readonly #first: () => Link<V> | undefined
  readonly #pick: (link: Link<V>) => T

  constructor(first: () => Link<V> | undefined, pick: (link: Link<V>) => T) {
    this.#first = first
    this.#pick = pick
  }

  next(): IteratorResult<T> {
    let link = this.#started ? this.#at?.next : this.#first()
    this.#started = true
    while (link !== undefined && !link.live) link = link.next
    if (link === undefined) {
      this.#at = undefined
      return { done: true, value: undefined }
    }
    this.#at = link
    return { done: false, value: this.#pick(link) }
  }

  [Symbol.iterator](): IterableIterator<T> {
    return this
  }
}
