// The peer index: one entry per peer, keyed by the text of its id, shared by every book. Every read is served from
// here; books edit entries in place and hand the write path the keys they touched. The index also keeps the
// store-wide count of addresses that can expire (what `maxAddrs` limits) exact, whoever edits an entry's addresses:
// every address change goes through `setAddr`/`deleteAddr`, or is recounted (`adoptAddrs`, `replace`).

import { isPeerId, type PeerId } from '@libp2p/interface'
import { neverExpires } from './constants.ts'
import { PeerStoreError } from './errors.ts'
import { storableKey } from './persistence/peer-key.ts'
import { type AddrInfo, keepAddrOrder, newEntry, type PeerEntry, type RecordKind } from './types.ts'

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
  const kinds: RecordKind[] = []
  if (entry.addrs.size > 0 || entry.record != null) kinds.push('addrs')
  if (entry.publicKey != null) kinds.push('keys')
  if (entry.protocols.length > 0) kinds.push('protos')
  if (entry.metadata.size > 0) kinds.push('meta')
  if (entry.tags.size > 0) kinds.push('tags')
  if (entry.pins.size > 0) kinds.push('pins')
  if (entry.updated !== undefined) kinds.push('seen')
  return kinds
}

export class PeerIndex {
  readonly #entries = new Map<string, PeerEntry>()
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

  /** The peer's entry, made (empty) when it has none; `key` is `peerKey(peer)`. */
  entry(key: string, peer: PeerId): PeerEntry {
    let entry = this.#entries.get(key)
    if (entry == null) {
      entry = newEntry(peer)
      this.#entries.set(key, entry)
    }
    return entry
  }

  /** Adds an entry read from disk; `countLoaded` counts the addresses once all are in. */
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

  keys(): IterableIterator<string> {
    return this.#entries.keys()
  }

  values(): IterableIterator<PeerEntry> {
    return this.#entries.values()
  }

  entries(): IterableIterator<[string, PeerEntry]> {
    return this.#entries.entries()
  }

  /** Counts every expiring address of the loaded index; called once when the store opens. */
  countLoaded(): void {
    this.#unconnected = 0
    for (const entry of this.#entries.values()) this.#count(entry.addrs)
  }

  setAddr(entry: PeerEntry, key: string, a: AddrInfo): void {
    const old = entry.addrs.get(key)
    if (old != null && !neverExpires(old.ttl)) this.#unconnected--
    if (!neverExpires(a.ttl)) this.#unconnected++
    entry.addrs.set(key, a)
    if (old == null) keepAddrOrder(entry.addrs)
  }

  deleteAddr(entry: PeerEntry, key: string): void {
    const a = entry.addrs.get(key)
    if (a == null) return
    if (!neverExpires(a.ttl)) this.#unconnected--
    entry.addrs.delete(key)
  }

  /** Recounts after an entry's addresses were edited directly (`mutate`): `before` is a copy of the old map. */
  adoptAddrs(entry: PeerEntry, before: ReadonlyMap<string, AddrInfo>): void {
    for (const [k, a] of before) if (entry.addrs.get(k) !== a && !neverExpires(a.ttl)) this.#unconnected--
    for (const [k, a] of entry.addrs) if (before.get(k) !== a && !neverExpires(a.ttl)) this.#unconnected++
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

  #count(addrs: ReadonlyMap<string, AddrInfo>): void {
    for (const a of addrs.values()) if (!neverExpires(a.ttl)) this.#unconnected++
  }

  #uncount(addrs: ReadonlyMap<string, AddrInfo>): void {
    for (const a of addrs.values()) if (!neverExpires(a.ttl)) this.#unconnected--
  }
}
