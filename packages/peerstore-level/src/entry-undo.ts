// Undoing a write whose journal append failed (disk full, an I/O error), so that a call that rejects changes
// nothing in memory. The books change an entry in place and then commit; the store takes a snapshot of the entry
// just before (`snapshotEntry`) and puts it back when the commit's append fails (`restoreEntry`), in the same
// synchronous step, so no reader ever sees the change. A snapshot copies only what is changed in place: the
// address map, and metadata, tags and pins when the entry has its own; everything else is replaced, not edited,
// so keeping the reference is enough.
import type { PeerIndex } from './peer-index.ts'
import type { AddrInfo, MetadataValue, PeerEntry, TagEntry } from './types.ts'

export interface EntrySnapshot {
  readonly key: string
  /** The entry object, or undefined when the peer had none (the write made it). */
  readonly entry: PeerEntry | undefined
  readonly fields: Omit<PeerEntry, 'id'> | undefined
  readonly addrs: Map<string, AddrInfo> | undefined
  readonly metadata: Map<string, MetadataValue> | undefined
  readonly tags: Map<string, TagEntry> | undefined
  readonly pins: Set<string> | undefined
}

/** The peer's entry as it is now. */
export function snapshotEntry(index: PeerIndex, key: string): EntrySnapshot {
  const entry = index.get(key)
  if (entry === undefined) {
    return {
      key,
      entry,
      fields: undefined,
      addrs: undefined,
      metadata: undefined,
      tags: undefined,
      pins: undefined
    }
  }
  return {
    key,
    entry,
    fields: {
      addrs: entry.addrs,
      record: entry.record,
      publicKey: entry.publicKey,
      protocols: entry.protocols,
      metadata: entry.metadata,
      tags: entry.tags,
      pins: entry.pins,
      latency: entry.latency,
      updated: entry.updated
    },
    addrs: entry.addrs.size > 0 ? new Map(entry.addrs) : undefined,
    metadata: entry.metadata.size > 0 ? new Map(entry.metadata) : undefined,
    tags: entry.tags.size > 0 ? new Map(entry.tags) : undefined,
    pins: entry.pins.size > 0 ? new Set(entry.pins) : undefined
  }
}

/** Refills a collection edited in place with what it held (an unedited shared empty one is left alone). */
function refill<K, V>(target: Map<K, V>, saved: Map<K, V> | undefined): void {
  if (target.size === 0 && saved === undefined) return
  target.clear()
  if (saved !== undefined) for (const [k, v] of saved) target.set(k, v)
}

function refillSet<T>(target: Set<T>, saved: Set<T> | undefined): void {
  if (target.size === 0 && saved === undefined) return
  target.clear()
  if (saved !== undefined) for (const v of saved) target.add(v)
}

/** Puts the peer's entry back as `snapshot` saw it: the same object, the same fields, in the index or not. */
export function restoreEntry(index: PeerIndex, snapshot: EntrySnapshot): void {
  // The address count follows whatever the entry holds now; the entry is counted again once restored.
  index.evict(snapshot.key)
  const { entry, fields } = snapshot
  if (entry === undefined || fields === undefined) return
  Object.assign(entry, fields)
  refill(entry.addrs, snapshot.addrs)
  refill(entry.metadata as Map<string, MetadataValue>, snapshot.metadata)
  refill(entry.tags as Map<string, TagEntry>, snapshot.tags)
  refillSet(entry.pins as Set<string>, snapshot.pins)
  index.replace(snapshot.key, entry)
  index.changed(snapshot.key)
}
