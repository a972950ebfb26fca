// Undoing a write whose journal append failed (disk full, an I/O error), so that a call that rejects changes
// nothing in memory. The books change an entry in place and then commit; the store takes a snapshot of the entry
// just before (`snapshotEntry`) and puts it back when the commit's append fails (`restoreEntry`), in the same
// synchronous step, so no reader ever sees the change. A snapshot copies only the collections the write may change
// in place (the address list; metadata, tags, pins): every other field is replaced, never edited, so keeping the
// reference is enough.
import type { AddrList } from './addr-list.ts'
import type { PeerIndex } from './peer-index.ts'
import type { MetadataValue, PeerEntry, TagEntry } from './types.ts'

/** The collections a write may edit in place (so a snapshot copies them): a bit each. */
export const UNDO_ADDRS = 1
export const UNDO_METADATA = 2
export const UNDO_TAGS = 4
export const UNDO_PINS = 8
export const UNDO_ALL = UNDO_ADDRS | UNDO_METADATA | UNDO_TAGS | UNDO_PINS

/** One entry as it was; one shape for every snapshot (it is taken on every write of a store with a journal). */
export class EntrySnapshot {
  readonly key: string
  /** The entry object, or undefined when the peer had none (the write made it). */
  readonly entry: PeerEntry | undefined
  readonly fields: Omit<PeerEntry, 'id'> | undefined
  readonly addrs: AddrList | undefined
  readonly metadata: Map<string, MetadataValue> | undefined
  readonly tags: Map<string, TagEntry> | undefined
  readonly pins: Set<string> | undefined
  readonly parts: number

  constructor(key: string, entry: PeerEntry | undefined, parts: number) {
    this.key = key
    this.entry = entry
    this.parts = parts
    if (entry === undefined) {
      this.fields = this.addrs = this.metadata = this.tags = this.pins = undefined
      return
    }
    this.fields = {
      addrs: entry.addrs,
      record: entry.record,
      publicKey: entry.publicKey,
      protocols: entry.protocols,
      metadata: entry.metadata,
      tags: entry.tags,
      pins: entry.pins,
      latency: entry.latency,
      updated: entry.updated
    }
    this.addrs = (parts & UNDO_ADDRS) !== 0 && entry.addrs.size > 0 ? entry.addrs.copy() : undefined
    this.metadata =
      (parts & UNDO_METADATA) !== 0 && entry.metadata.size > 0 ? new Map(entry.metadata) : undefined
    this.tags = (parts & UNDO_TAGS) !== 0 && entry.tags.size > 0 ? new Map(entry.tags) : undefined
    this.pins = (parts & UNDO_PINS) !== 0 && entry.pins.size > 0 ? new Set(entry.pins) : undefined
  }
}

/**
 * The peer's entry as it is now. `parts`: the collections the coming write may edit in place (every other field
 * it can only replace); see the store's write methods.
 */
export function snapshotEntry(index: PeerIndex, key: string, parts: number): EntrySnapshot {
  return new EntrySnapshot(key, index.get(key), parts)
}

/**
 * Refills a collection the write may have edited in place with what it held (an unedited shared empty one is left
 * alone). Not one of the snapshot's `parts`: it was not edited in place, and the field's old reference is enough.
 */
function refill<K, V>(target: Map<K, V>, saved: Map<K, V> | undefined, taken: boolean): void {
  if (!taken || (target.size === 0 && saved === undefined)) return
  target.clear()
  if (saved !== undefined) for (const [k, v] of saved) target.set(k, v)
}

function refillAddrs(target: AddrList, saved: AddrList | undefined, taken: boolean): void {
  if (!taken) return
  if (saved !== undefined) target.assign(saved)
  else if (target.size > 0) target.clear()
}

function refillSet<T>(target: Set<T>, saved: Set<T> | undefined, taken: boolean): void {
  if (!taken || (target.size === 0 && saved === undefined)) return
  target.clear()
  if (saved !== undefined) for (const v of saved) target.add(v)
}

/** Puts the peer's entry back as `snapshot` saw it: the same object, the same fields, in the index or not. */
export function restoreEntry(index: PeerIndex, snapshot: EntrySnapshot): void {
  const { key, entry } = snapshot
  if (entry !== undefined && index.get(key) === entry) {
    // Still there (the common case): restored in place, keeping its place in the index.
    index.recount(entry, () => restoreFields(entry, snapshot))
  } else {
    // Made or removed by the write: whatever is there goes (its addresses uncounted), the old entry comes back.
    index.evict(key)
    if (entry === undefined) return
    restoreFields(entry, snapshot)
    index.replace(key, entry)
  }
  index.changed(key)
}

function restoreFields(entry: PeerEntry, snapshot: EntrySnapshot): void {
  Object.assign(entry, snapshot.fields)
  const parts = snapshot.parts
  refillAddrs(entry.addrs, snapshot.addrs, (parts & UNDO_ADDRS) !== 0)
  refill(entry.metadata as Map<string, MetadataValue>, snapshot.metadata, (parts & UNDO_METADATA) !== 0)
  refill(entry.tags as Map<string, TagEntry>, snapshot.tags, (parts & UNDO_TAGS) !== 0)
  refillSet(entry.pins as Set<string>, snapshot.pins, (parts & UNDO_PINS) !== 0)
}
