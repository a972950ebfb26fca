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
//
// A walk (GC's) removes the entry it stands on without looking its key up: the link leaves the order at once and
// stays in its shard as a tombstone (reads skip it; a set of its key replaces it) until `purgeTombstones`, which
// the walker calls once the walk is over, in steps bounded by a deadline: a shard left with none live is dropped
// whole, another is swept of its tombstones (a sweep of every shard of a million peers in one call blocked 131 ms).

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
  /** Per shard: links a walk removed that its shard still holds (tombstones), until `purgeTombstones`. */
  readonly #dead = new Array<number>(SHARDS).fill(0)
  /** Where `purgeTombstones` stopped: the shard, and the sweep of it under way. */
  #purgeShard = 0
  #purgeSweep: Iterator<[string, Link<V>]> | undefined
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

  /** Entries a walk removed that the shards still hold (until `purgeTombstones`). */
  get tombstones(): number {
    let n = 0
    for (const dead of this.#dead) n += dead
    return n
  }

  get(key: string): V | undefined {
    return this.#shards[shardOf(key)]!.get(key)?.value
  }

  has(key: string): boolean {
    return this.#shards[shardOf(key)]!.get(key)?.live === true
  }

  set(key: string, value: V): this {
    const s = shardOf(key)
    const shard = this.#shards[s]!
    const held = shard.get(key)
    if (held !== undefined) {
      if (held.live) {
        held.value = value
        return this
      }
      this.#dead[s]!--
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
    const s = shardOf(key)
    const shard = this.#shards[s]!
    const link = shard.get(key)
    if (link === undefined) return false
    shard.delete(key)
    if (!link.live) {
      this.#dead[s]!--
      return false
    }
    this.#unlink(link)
    return true
  }

  /** Takes a live link out of the order (its shard is the caller's business). */
  #unlink(link: Link<V>): void {
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
  }

  /**
   * A walk over the entries in order that can remove the one it stands on without looking its key up: the link
   * stays in its shard as a tombstone until `purgeTombstones` (GC removes every peer of a full expiry; a Map lookup
   * and delete per peer was a third of its time).
   */
  walk(): MapWalk<V> {
    return new MapWalk(this.#firstLink, (link) => {
      this.#unlink(link)
      this.#dead[shardOf(link.key)]!++
    })
  }

  /**
   * Drops the tombstones walks left, until `performance.now()` reaches `deadline` (read every 256 entries swept);
   * true once every shard has been seen (a tombstone a walk leaves behind a sweep under way waits for the next call
   * that returns true). A shard left with none live is dropped whole, without a sweep.
   */
  purgeTombstones(deadline: number): boolean {
    let swept = 0
    while (this.#purgeShard < SHARDS) {
      const s = this.#purgeShard
      const shard = this.#shards[s]!
      if (this.#purgeSweep === undefined) {
        const dead = this.#dead[s]!
        if (dead === 0 || dead === shard.size) {
          if (dead !== 0) this.#shards[s] = new Map()
          this.#dead[s] = 0
          this.#purgeShard++
          continue
        }
        this.#purgeSweep = shard.entries()
      }
      for (;;) {
        const step = this.#purgeSweep.next()
        if (step.done === true) {
          this.#purgeSweep = undefined
          this.#purgeShard++
          break
        }
        const [key, link] = step.value
        if (!link.live) {
          shard.delete(key)
          this.#dead[s]!--
        }
        if ((++swept & 255) === 0 && performance.now() >= deadline) return false
      }
    }
    this.#purgeShard = 0
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

/** `link`, or the first live link after it: a deleted link still leads on to what followed it. */
function liveFrom<V>(link: Link<V> | undefined): Link<V> | undefined {
  let at = link
  while (at !== undefined && !at.live) at = at.next
  return at
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
    const link = liveFrom(this.#started ? this.#at?.next : this.#first())
    this.#started = true
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

/** A walk in the map's order (as its iterators) that can remove the entry it stands on (`OrderedShardedMap.walk`). */
export class MapWalk<V> {
  #at: Link<V> | undefined
  #started = false
  readonly #first: () => Link<V> | undefined
  readonly #remove: (link: Link<V>) => void

  constructor(first: () => Link<V> | undefined, remove: (link: Link<V>) => void) {
    this.#first = first
    this.#remove = remove
  }

  /** Steps to the next entry; false at the end. */
  next(): boolean {
    const link = liveFrom(this.#started ? this.#at?.next : this.#first())
    this.#started = true
    this.#at = link
    return link !== undefined
  }

  get key(): string {
    return (this.#at as Link<V>).key
  }

  get value(): V {
    return (this.#at as Link<V>).value as V
  }

  /** Removes the entry the walk stands on (it must not have been deleted since the step). */
  remove(): void {
    const link = this.#at as Link<V>
    if (link.live) this.#remove(link)
  }
}
