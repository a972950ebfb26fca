// A libp2p `PeerData` write applied to a peer index entry, one field at a time: each function validates or edits
// its field and adds the record kinds it changed to `changes` (only those are written, and a write that changes
// nothing writes nothing). The view runs them inside the store's `mutate`, in one synchronous step.
import type { PeerId, PublicKey, TagOptions } from '@libp2p/interface'
import { InvalidParametersError } from '@libp2p/interface'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import type { Multiaddr } from '@multiformats/multiaddr'
import { equals } from 'uint8arrays'
import { compareExpiry, expiryAfter } from '../expiry.ts'
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

export function tagEntry(key: unknown, tag: TagOptions, now: number): TagEntry {
  if (typeof key !== 'string') throw new InvalidParametersError('Tag name must be a string')
  const value = tag.value ?? 0
  if (!Number.isInteger(value) || value < 0 || value > 100) {
    throw new InvalidParametersError('Tag value must be an integer between 0 and 100')
  }
  if (tag.ttl != null && (!Number.isInteger(tag.ttl) || tag.ttl < 0)) {
    throw new InvalidParametersError('Tag ttl must be a positive integer')
  }
  return { value, expiresAt: tag.ttl == null ? Number.POSITIVE_INFINITY : now + tag.ttl }
}

export function parseEnvelope(bytes: Uint8Array): SignedRecord {
  try {
    const env = RecordEnvelope.createFromProtobuf(bytes)
    return { seq: PeerRecord.createFromProtobuf(env.payload).seqNumber, envelope: bytes.slice() }
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
    for (const [k, v] of given) if (v != null) next.set(k, v.slice())
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
      editMetadata(entry).set(k, v.slice())
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
