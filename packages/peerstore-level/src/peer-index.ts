// The peer index: one entry per peer, keyed by the text of its id, shared by every book. Every read is served from
// here; books edit entries in place and hand the write path the keys they touched. The index also keeps the
// store-wide count of addresses that can expire (what `maxAddrs` limits) exact, whoever edits an entry's addresses:
// every address change goes through `insertAddrAt`/`updateAddrAt`/`deleteAddrAt`, or is recounted (`adoptAddrs`,
// `replace`). An entry made here keeps its id as text (persistence/lazy-peer-id.ts), not the caller's PeerId with
// its digest and key: what an open makes, so a store that took its writes live holds what a reopened one holds.

import { isPeerId, type PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { AddrList } from './addr-list.ts'
import { neverExpires } from './constants.ts'
import { PeerStoreError } from './errors.ts'
import type { Expiring } from './expiry.ts'
import { type MapWalk, OrderedShardedMap } from './ordered-sharded-map.ts'
import { compactPeerIdOf, storableKey } from './persistence/peer-key.ts'
import { kindsOf, newEntry, type PeerEntry, RECORD_KIND_BIT, type RecordKind } from './types.ts'

/**
 * The index key of a peer (its id text); `ERR_INVALID_PEER_ID` for anything that is not a PeerId, or whose text
 * a reopen could not read back (persistence/peer-key.ts).
 */
export function peerKey(peer: PeerId): string {
  if (!isPeerId(peer)) throw new PeerStoreError('ERR_INVALID_PEER_ID', 'expected a PeerId object')
  return storableKey(peer)
}

/** True when the entry holds no record (a recent write time may still keep it: peer-age.ts). */
export function isBare(entry: PeerEntry): boolean {
  return (
    entry.addrs.size === 0 &&
    entry.record == null &&
    entry.publicKey == null &&
    entry.protocols.length === 0 &&
    entry.metadata.size === 0 &&
    entry.tags.size === 0 &&
    entry.pins.size === 0 &&
    entry.latency == null
  )
}

/** The record kinds that currently hold a value for this entry (so deletes touch only those keys). */
export function presentKinds(entry: PeerEntry): RecordKind[] {
  return kindsOf(presentMask(entry))
}

/** `presentKinds` as a mask of `RECORD_KIND_BIT`s, without making an array (GC asks it of every peer it removes). */
export function presentMask(entry: PeerEntry): number {
  let mask = 0
  if (entry.addrs.size > 0 || entry.record != null) mask |= RECORD_KIND_BIT.addrs
  if (entry.publicKey != null) mask |= RECORD_KIND_BIT.keys
  if (entry.protocols.length > 0) mask |= RECORD_KIND_BIT.protos
  if (entry.metadata.size > 0) mask |= RECORD_KIND_BIT.meta
  if (entry.tags.size > 0) mask |= RECORD_KIND_BIT.tags
  if (entry.pins.size > 0) mask |= RECORD_KIND_BIT.pins
  if (entry.updated !== undefined) mask |= RECORD_KIND_BIT.seen
  return mask
}

export class PeerIndex {
  // Sharded: a single Map of a million peers rehashed all of them in one call as it grew or shrank (sharded-map.ts);
  // walked in insertion order, which keeps a walk over every peer close to the order their objects lie in memory.
  readonly #entries = new OrderedShardedMap<PeerEntry>()
  readonly #changeListeners = new Set<(entry: PeerEntry) => void>()
  #unconnected = 0

  /** Addresses that can expire, over all peers (Connected and Permanent ones are not counted). */
  get unconnected(): number {
    return this.#unconnected
  }

  get size(): number {
    return this.#entries.size
  }

  get(key: string): PeerEntry | undefined {
    return this.#entries.get(key)
  }

  /**
   * `peerKey(peer)`, cheaper for a peer the index holds: a text that is already a key here was checked when its
   * entry was made (or read back by an open), so only an id new to the index is checked.
   */
  keyOf(peer: PeerId): string {
    if (!isPeerId(peer)) throw new PeerStoreError('ERR_INVALID_PEER_ID', 'expected a PeerId object')
    const text = peer.toString()
    if (typeof text === 'string' && this.#entries.has(text)) return text
    return storableKey(peer)
  }

  /** The peer's entry, or undefined; `ERR_INVALID_PEER_ID` as `peerKey` gives it for an id no entry could have. */
  find(peer: PeerId): PeerEntry | undefined {
    if (!isPeerId(peer)) throw new PeerStoreError('ERR_INVALID_PEER_ID', 'expected a PeerId object')
    const text = peer.toString()
    const entry = typeof text === 'string' ? this.#entries.get(text) : undefined
    return entry ?? this.#entries.get(storableKey(peer))
  }

  /** The peer's entry, made (empty) when it has none; `key` is `peerKey(peer)`. */
  entry(key: string, peer: PeerId): PeerEntry {
    let entry = this.#entries.get(key)
    if (entry == null) {
      entry = newEntry(compactPeerIdOf(peer, key) ?? peer)
      this.#entries.set(key, entry)
    }
    return entry
  }

  /** Adds an entry read from disk; `countAddrsOf` counts its addresses once all its records are in. */
  add(key: string, entry: PeerEntry): void {
    this.#entries.set(key, entry)
  }

  /** Puts `entry` in place of the peer's current one (import), moving the address count over. */
  replace(key: string, entry: PeerEntry): PeerEntry | undefined {
    const old = this.#entries.get(key)
    if (old != null) this.#uncount(old.addrs)
    this.#count(entry.addrs)
    this.#entries.set(key, entry)
    return old
  }

  /** Changes an entry's addresses with `edit` (undoing a write: entry-undo.ts), counting them again around it. */
  recount(entry: PeerEntry, edit: () => void): void {
    this.#uncount(entry.addrs)
    edit()
    this.#count(entry.addrs)
  }

  /** Removes the entry whatever it holds, its addresses uncounted (undoing a write: entry-undo.ts). */
  evict(key: string): void {
    const old = this.#entries.get(key)
    if (old == null) return
    this.#uncount(old.addrs)
    this.#entries.delete(key)
  }

  /** Removes the entry; its addresses must be gone already (`deleteAddr`), or it was bare. */
  delete(key: string): void {
    this.#entries.delete(key)
  }

  /** A walk over every entry in order that can remove the one it stands on (`removeAt`): GC's scan. */
  walk(): MapWalk<PeerEntry> {
    return this.#entries.walk()
  }

  /**
   * Drops from the lookup tables the entries walks removed, until `performance.now()` reaches `deadline`; true once
   * done (`OrderedShardedMap.purgeTombstones`). GC calls it after its scan, in slices.
   */
  purgeRemoved(deadline: number): boolean {
    return this.#entries.purgeTombstones(deadline)
  }

  /** Removes the entry `walk` stands on, addresses and all (GC's removal of a whole peer). */
  removeAt(walk: MapWalk<PeerEntry>): void {
    this.#uncount(walk.value.addrs)
    walk.remove()
  }

  keys(): IterableIterator<string> {
    return this.#entries.keys()
  }

  values(): IterableIterator<PeerEntry> {
    return this.#entries.values()
  }

  entries(): IterableIterator<[string, PeerEntry]> {
    return this.#entries.entries()
  }

  /** Counts the expiring addresses of an entry `add`ed (a load adds entries, then counts each once). */
  countAddrsOf(entry: PeerEntry): void {
    this.#count(entry.addrs)
  }

  /** Inserts an absent address of `entry` at its place `at` (see `AddrList.insertAt`). */
  insertAddrAt(
    entry: PeerEntry,
    at: number,
    key: string,
    multiaddr: Multiaddr | undefined,
    ttl: number,
    expiry: Expiring,
    certified: boolean
  ): void {
    if (!neverExpires(ttl)) this.#unconnected++
    entry.addrs.insertAt(at, key, multiaddr, ttl, expiry, certified)
  }

  /** Moves the address at `i` of `entry` to another TTL, expiry and flag. */
  updateAddrAt(entry: PeerEntry, i: number, ttl: number, expiry: Expiring, certified: boolean): void {
    const addrs = entry.addrs
    if (!neverExpires(addrs.ttlAt(i))) this.#unconnected--
    if (!neverExpires(ttl)) this.#unconnected++
    addrs.updateAt(i, ttl, expiry, certified)
  }

  deleteAddrAt(entry: PeerEntry, i: number): void {
    if (!neverExpires(entry.addrs.ttlAt(i))) this.#unconnected--
    entry.addrs.deleteAt(i)
  }

  /** Deletes every address of `entry`. */
  clearAddrs(entry: PeerEntry): void {
    this.#uncount(entry.addrs)
    entry.addrs.clear()
  }

  deleteAddr(entry: PeerEntry, key: string): void {
    const i = entry.addrs.indexOf(key)
    if (i >= 0) this.deleteAddrAt(entry, i)
  }

  /** Recounts after an entry's addresses were edited directly (`mutate`): `before` is a copy of the old list. */
  adoptAddrs(entry: PeerEntry, before: AddrList): void {
    this.#uncount(before)
    this.#count(entry.addrs)
  }

  /**
   * Calls `fn` with an entry whenever one of its persisted records is marked changed (before the write
   * resolves); the libp2p view drops its cached `Peer` then. Returns the unsubscribe function.
   */
  onChange(fn: (entry: PeerEntry) => void): () => void {
    this.#changeListeners.add(fn)
    return () => this.#changeListeners.delete(fn)
  }

  /** Tells the change listeners that records of `key` changed. */
  changed(key: string): void {
    if (this.#changeListeners.size === 0) return
    const entry = this.#entries.get(key)
    if (entry != null) for (const fn of this.#changeListeners) fn(entry)
  }

  #count(addrs: AddrList): void {
    this.#unconnected += addrs.expiringCount()
  }

  #uncount(addrs: AddrList): void {
    this.#unconnected -= addrs.expiringCount()
  }
}
