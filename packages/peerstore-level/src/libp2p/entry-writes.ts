// A libp2p `PeerData` write applied to a peer index entry, one field at a time: each function validates or edits
// its field and adds the record kinds it changed to `changes` (only those are written, and a write that changes
// nothing writes nothing). The view runs them inside the store's `mutate`, in one synchronous step.
import type { PeerId, PublicKey, TagOptions } from '@libp2p/interface'
import { InvalidParametersError } from '@libp2p/interface'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import type { Multiaddr } from '@multiformats/multiaddr'
import { equals } from 'uint8arrays'
import { copyBytes } from '../bytes.ts'
import { compareExpiry, expiryAfter } from '../expiry.ts'
import {
  checkKeyLength,
  checkMetadataBytes,
  checkMetadataKeyCount,
  checkProtocolCount,
  checkProtocolLengths,
  checkTagCount,
  type StoreLimits
} from '../limits.ts'
import {
  editMetadata,
  editTags,
  type MetadataValue,
  noEntries,
  type PeerEntry,
  type RecordKind,
  type SignedRecord,
  type TagEntry
} from '../types.ts'
import { sameTags } from './peer-shape.ts'

export function entriesOf<V>(data: Map<string, V> | Record<string, V>): Array<[string, V]> {
  return data instanceof Map ? [...data.entries()] : Object.entries(data)
}

export function checkMetadata(key: unknown, value: unknown): asserts value is Uint8Array {
  if (typeof key !== 'string') throw new InvalidParametersError('Metadata key must be a string')
  if (!(value instanceof Uint8Array)) throw new InvalidParametersError('Metadata value must be a Uint8Array')
}

/** The protocols of a write, distinct, in order; each a string within `maxProtocolLength`. */
export function protocolList(protocols: unknown, limits: StoreLimits): string[] {
  if (!Array.isArray(protocols) || !protocols.every((p) => typeof p === 'string')) {
    throw new InvalidParametersError('Protocols must be an array of strings')
  }
  const list = [...new Set(protocols as string[])]
  checkProtocolLengths(list, limits)
  return list
}

/** Each field of a write checked alone (types, lengths, sizes), before anything is changed. */
export function checkFields(
  metadata: Array<[string, Uint8Array | undefined]> | undefined,
  tags: Array<[string, TagOptions | undefined]> | undefined,
  limits: StoreLimits
): void {
  for (const [k, v] of metadata ?? []) {
    if (v == null) continue
    checkMetadata(k, v)
    checkKeyLength('a metadata key', k, limits)
    checkMetadataBytes(k, v, limits)
  }
  for (const [k, t] of tags ?? []) {
    if (t == null) continue
    tagEntry(k, t, 0)
    checkKeyLength('a tag name', k, limits)
  }
}

/** How many names an entry holds after a write: replacing (`base` empty) or merged, `undefined` deleting. */
function countAfter(base: Iterable<string>, given: Array<[string, unknown]>): number {
  const names = new Set(base)
  for (const [k, v] of given) {
    if (v == null) names.delete(k)
    else names.add(k)
  }
  return names.size
}

/**
 * The per-peer counts a write leaves (protocols, metadata keys, tags), checked against the limits before the entry
 * is changed. `existing` is the entry the write changes, undefined when it starts afresh.
 */
export function checkCounts(
  existing: PeerEntry | undefined,
  write: {
    protocols: string[] | undefined
    metadata: Array<[string, Uint8Array | undefined]> | undefined
    tags: Array<[string, TagOptions | undefined]> | undefined
  },
  replace: boolean,
  limits: StoreLimits
): void {
  const kept = replace ? undefined : existing
  if (write.protocols != null) {
    checkProtocolCount(
      countAfter(
        kept?.protocols ?? [],
        write.protocols.map((p) => [p, p])
      ),
      limits
    )
  }
  if (write.metadata != null) {
    checkMetadataKeyCount(countAfter(kept?.metadata.keys() ?? [], write.metadata), limits)
  }
  if (write.tags != null) checkTagCount('tags', countAfter(kept?.tags.keys() ?? [], write.tags), limits)
}

export function tagEntry(key: unknown, tag: TagOptions, now: number): TagEntry {
  if (typeof key !== 'string') throw new InvalidParametersError('Tag name must be a string')
  const value = tag.value ?? 0
  if (!Number.isInteger(value) || value < 0 || value > 100) {
    throw new InvalidParametersError('Tag value must be an integer between 0 and 100')
  }
  if (tag.ttl != null && (!Number.isInteger(tag.ttl) || tag.ttl < 0)) {
    throw new InvalidParametersError('Tag ttl must be a positive integer')
  }
  // -0 passes the checks above, and is stored (as JSON) as 0.
  return {
    value: value === 0 ? 0 : value,
    expiresAt: tag.ttl == null ? Number.POSITIVE_INFINITY : now + tag.ttl
  }
}

export function parseEnvelope(bytes: Uint8Array): SignedRecord {
  try {
    const env = RecordEnvelope.createFromProtobuf(bytes)
    return { seq: PeerRecord.createFromProtobuf(env.payload).seqNumber, envelope: copyBytes(bytes) }
  } catch (err) {
    throw new InvalidParametersError(`Invalid peerRecordEnvelope: ${(err as Error).message}`)
  }
}

/** The addresses of one write: text -> certified (true if any occurrence was certified). */
export type WantedAddrs = Map<string, { multiaddr: Multiaddr; certified: boolean }>

/** The record kinds a write changed (only those are written). */
export type Changes = Set<RecordKind>

export function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  const set = new Set(a)
  return b.every((x) => set.has(x))
}

function sameMetadata(a: ReadonlyMap<string, MetadataValue>, b: ReadonlyMap<string, MetadataValue>): boolean {
  if (a.size !== b.size) return false
  for (const [k, v] of a) {
    const w = b.get(k)
    if (!(v instanceof Uint8Array && w instanceof Uint8Array && equals(v, w))) return false
  }
  return true
}

/** Empties an entry (kept: its RSA key, which never goes stale, and its latency). */
export function resetEntry(entry: PeerEntry, changes: Changes): void {
  if (entry.addrs.size > 0 || entry.record != null) {
    entry.addrs.clear()
    entry.record = undefined
    changes.add('addrs')
  }
  if (entry.protocols.length > 0) {
    entry.protocols = []
    changes.add('protos')
  }
  if (entry.metadata.size > 0) {
    entry.metadata = noEntries()
    changes.add('meta')
  }
  if (entry.tags.size > 0) {
    entry.tags = noEntries()
    changes.add('tags')
  }
}

/**
 * The addresses of a write at `ttl`: replacing the others (save, patch) or adding to them (merge); a live address
 * written again is extended as go's AddAddrs (TTL and expiry never lowered, compared exactly).
 */
export function writeAddrs(
  entry: PeerEntry,
  wanted: WantedAddrs,
  replace: boolean,
  ttl: number,
  now: number,
  changes: Changes
): void {
  const addrs = entry.addrs
  if (replace) {
    // Backwards, so a delete does not move the addresses still to visit.
    for (let i = addrs.size - 1; i >= 0; i--) {
      if (!wanted.has(addrs.keyAt(i))) {
        addrs.deleteAt(i)
        changes.add('addrs')
      }
    }
  }
  const expiry = expiryAfter(now, ttl)
  for (const [key, a] of wanted) {
    const i = addrs.indexOf(key)
    if (i < 0) {
      addrs.put(key, a.multiaddr, ttl, expiry, a.certified)
      changes.add('addrs')
      continue
    }
    const alive = addrs.liveAt(i, now)
    const old = addrs.expiryAt(i)
    const oldTtl = addrs.ttlAt(i)
    const wasCertified = addrs.certifiedAt(i)
    // save/patch set the flag as given; merge keeps a certified flag (upstream's intent).
    const certified = a.certified || (alive && !replace && wasCertified)
    const nextTtl = alive ? Math.max(oldTtl, ttl) : ttl
    const nextExpiry = alive && compareExpiry(expiry, old) <= 0 ? old : expiry
    if (oldTtl !== nextTtl || compareExpiry(old, nextExpiry) !== 0 || wasCertified !== certified) {
      addrs.updateAt(i, nextTtl, nextExpiry, certified)
      changes.add('addrs')
    }
  }
}

/** Metadata (bytes) of a write: replacing (save, patch) or merged key by key, `undefined` deleting. */
export function writeMetadata(
  entry: PeerEntry,
  given: Array<[string, Uint8Array | undefined]>,
  replace: boolean,
  changes: Changes
): void {
  if (replace) {
    const next = new Map<string, MetadataValue>()
    for (const [k, v] of given) if (v != null) next.set(k, copyBytes(v))
    if (!sameMetadata(entry.metadata, next)) {
      entry.metadata = next.size === 0 ? noEntries() : next
      changes.add('meta')
    }
    return
  }
  for (const [k, v] of given) {
    const old = entry.metadata.get(k)
    if (v == null) {
      if (old !== undefined) {
        editMetadata(entry).delete(k)
        changes.add('meta')
      }
    } else if (!(old instanceof Uint8Array && equals(old, v))) {
      editMetadata(entry).set(k, copyBytes(v))
      changes.add('meta')
    }
  }
}

/** Tags of a write: replacing (save, patch) or merged name by name, `undefined` deleting. */
export function writeTags(
  entry: PeerEntry,
  given: Array<[string, TagOptions | undefined]>,
  replace: boolean,
  now: number,
  changes: Changes
): void {
  if (replace) {
    const next = new Map<string, TagEntry>()
    for (const [k, t] of given) if (t != null) next.set(k, tagEntry(k, t, now))
    if (!sameTags(entry.tags, next)) {
      entry.tags = next.size === 0 ? noEntries() : next
      changes.add('tags')
    }
    return
  }
  for (const [k, t] of given) {
    const old = entry.tags.get(k)
    if (t == null) {
      if (old !== undefined) {
        editTags(entry).delete(k)
        changes.add('tags')
      }
      continue
    }
    const next = tagEntry(k, t, now)
    if (old == null || old.value !== next.value || old.expiresAt !== next.expiresAt) {
      editTags(entry).set(k, next)
      changes.add('tags')
    }
  }
}

/**
 * Stores the public key of an RSA peer (Ed25519 and secp256k1 keys are inside their id): the one given, else
 * the one the caller's id carries. Never removed by a write: a key that matches its id cannot go stale.
 */
export function keepRsaKey(
  entry: PeerEntry,
  id: PeerId,
  given: PublicKey | undefined,
  changes: Changes
): void {
  if (id.type !== 'RSA' || entry.publicKey != null) return
  const key = given ?? id.publicKey
  if (key == null) return
  entry.publicKey = key
  changes.add('keys')
}
