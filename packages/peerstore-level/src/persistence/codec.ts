// Encodes one record kind of one peer as the JSON text stored in its sublevel, and back. Decoding validates
// every field so a damaged value is detected (and quarantined by the caller) instead of poisoning the index.
import { publicKeyFromProtobuf, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import { toString as bytesToString, fromString } from 'uint8arrays'
import { AddrList } from '../addr-list.ts'
import { neverExpires } from '../constants.ts'
import { PeerStoreError } from '../errors.ts'
import { type Expiring, expiryFromMs } from '../expiry.ts'
import { internNames } from '../intern.ts'
import {
  type JsonValue,
  type MetadataValue,
  newEntry,
  type PeerEntry,
  RECORD_KINDS,
  type RecordKind,
  type SignedRecord,
  type TagEntry
} from '../types.ts'
import { isCommonMultiaddrText } from './stored-multiaddr.ts'

/** [addr, ttl ms, expiry whole epoch ms (null: never), certified, ns past the expiry (only when not 0)]. */
type EncodedAddr = [string, number, number | null, 0 | 1] | [string, number, number, 0 | 1, number]
interface EncodedAddrs {
  a: EncodedAddr[]
  r?: string
  s?: string
}
type EncodedMeta = Record<string, { b: string } | { j: JsonValue }>
type EncodedTags = Record<string, [number, number | null]>

class DecodeError extends Error {}

const NEVER: Expiring = { expiresAt: Number.POSITIVE_INFINITY }

function check(ok: boolean, what: string): asserts ok {
  if (!ok) throw new DecodeError(what)
}

/**
 * An object to encode names as keys: without a prototype, so every string is an own key, `__proto__` included (on a
 * plain object assigning it would set the prototype, and JSON.stringify would drop it). JSON.parse makes every
 * key an own property, so decoding needs no such care.
 */
function keyedByName<V>(): Record<string, V> {
  return Object.create(null) as Record<string, V>
}

const b64 = (bytes: Uint8Array): string => bytesToString(bytes, 'base64')
const unb64 = (text: unknown, what: string): Uint8Array => {
  check(typeof text === 'string', what)
  return fromString(text, 'base64')
}

/** The stored value for `kind`, or undefined when the peer has nothing of that kind (the key is deleted). */
export function encodeRecord(kind: RecordKind, entry: PeerEntry): string | undefined {
  switch (kind) {
    case 'addrs': {
      if (entry.addrs.size === 0 && entry.record == null) return undefined
      // The text JSON.stringify makes of an EncodedAddrs, built directly: this runs once per address write.
      const addrs = entry.addrs
      let text = '{"a":['
      for (let i = 0; i < addrs.size; i++) {
        const ttl = addrs.ttlAt(i)
        const ns = addrs.expiresAtNs(i)
        text += `${i === 0 ? '' : ','}[${JSON.stringify(addrs.keyAt(i))},${ttl},${neverExpires(ttl) ? 'null' : addrs.expiresAt(i)},${addrs.certifiedAt(i) ? 1 : 0}${ns === undefined || neverExpires(ttl) ? '' : `,${ns}`}]`
      }
      text += ']'
      if (entry.record != null) {
        text += `,"r":${JSON.stringify(b64(entry.record.envelope))},"s":${JSON.stringify(entry.record.seq.toString())}`
      }
      return `${text}}`
    }
    case 'keys':
      return entry.publicKey == null ? undefined : JSON.stringify(b64(publicKeyToProtobuf(entry.publicKey)))
    case 'protos':
      return entry.protocols.length === 0 ? undefined : JSON.stringify(entry.protocols)
    case 'meta': {
      if (entry.metadata.size === 0) return undefined
      const value: EncodedMeta = keyedByName()
      for (const [k, v] of entry.metadata) value[k] = v instanceof Uint8Array ? { b: b64(v) } : { j: v }
      return JSON.stringify(value)
    }
    case 'tags': {
      if (entry.tags.size === 0) return undefined
      const value: EncodedTags = keyedByName()
      for (const [k, t] of entry.tags) value[k] = [t.value, Number.isFinite(t.expiresAt) ? t.expiresAt : null]
      return JSON.stringify(value)
    }
    case 'pins':
      return entry.pins.size === 0 ? undefined : JSON.stringify([...entry.pins])
    case 'seen':
      return entry.updated === undefined ? undefined : JSON.stringify(entry.updated)
  }
}

/** Applies a stored value to `entry`; throws on any malformed field. */
export function decodeRecord(kind: RecordKind, text: string, entry: PeerEntry): void {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new DecodeError('not JSON')
  }
  switch (kind) {
    case 'addrs': {
      const v = value as EncodedAddrs
      check(typeof v === 'object' && v !== null && Array.isArray(v.a), 'addrs: no list')
      const addrs = new AddrList()
      for (const item of v.a) {
        check(Array.isArray(item) && (item.length === 4 || item.length === 5), 'addrs: bad entry')
        const [key, ttl, expiresAt, certified, ns] = item
        check(
          typeof key === 'string' && typeof ttl === 'number' && Number.isFinite(ttl) && ttl !== 0,
          'addrs: bad ttl'
        )
        check(
          expiresAt === null || (typeof expiresAt === 'number' && Number.isFinite(expiresAt)),
          'addrs: expiry'
        )
        check(
          ns === undefined ||
            (expiresAt !== null && Number.isInteger(expiresAt) && Number.isInteger(ns) && ns > 0 && ns < 1e6),
          'addrs: expiry ns'
        )
        // Kept as text when its shape is checked cheaply (most are), else parsed now, so damage is found here.
        let addr: string | Multiaddr = key
        if (!isCommonMultiaddrText(key)) {
          try {
            addr = multiaddr(key)
          } catch {
            throw new DecodeError('addrs: bad multiaddr')
          }
        }
        // A store written before expiries were split holds a float epoch ms: read it as the same instant.
        const expiry: Expiring =
          expiresAt === null
            ? NEVER
            : ns !== undefined
              ? { expiresAt, expiresAtNs: ns }
              : Number.isInteger(expiresAt)
                ? { expiresAt }
                : expiryFromMs(expiresAt)
        // Listed by the text the multiaddr has (a parsed one's may be the canonical form of what was stored).
        const text = typeof addr === 'string' ? key : addr.toString()
        // Written in order; a record from an older version, or edited by hand, may not be.
        if (!addrs.append(text, addr, ttl, expiry, certified === 1))
          addrs.put(text, addr, ttl, expiry, certified === 1)
      }
      if (addrs.size < 4) addrs.trim()
      let record: SignedRecord | undefined
      if (v.r != null) {
        check(typeof v.s === 'string' && /^\d+$/.test(v.s), 'addrs: bad seq')
        record = { seq: BigInt(v.s), envelope: unb64(v.r, 'addrs: bad envelope') }
      }
      entry.addrs = addrs
      entry.record = record
      return
    }
    case 'keys': {
      let key: PeerEntry['publicKey']
      try {
        key = publicKeyFromProtobuf(unb64(value, 'keys: not a string'))
      } catch (err) {
        if (err instanceof DecodeError) throw err
        throw new DecodeError('keys: bad public key')
      }
      check(entry.id.equals(peerIdFromPublicKey(key)), 'keys: key does not match peer')
      entry.publicKey = key
      return
    }
    case 'protos':
      check(Array.isArray(value) && value.every((p) => typeof p === 'string'), 'protos: not a string list')
      entry.protocols = internNames(value as string[])
      return
    case 'meta': {
      check(typeof value === 'object' && value !== null && !Array.isArray(value), 'meta: not an object')
      const metadata = new Map<string, MetadataValue>()
      for (const [k, v] of Object.entries(value as EncodedMeta)) {
        check(typeof v === 'object' && v !== null, 'meta: bad value')
        if ('b' in v) metadata.set(k, unb64(v.b, 'meta: bad bytes'))
        else if ('j' in v) metadata.set(k, v.j)
        else throw new DecodeError('meta: bad value')
      }
      entry.metadata = metadata
      return
    }
    case 'tags': {
      check(typeof value === 'object' && value !== null && !Array.isArray(value), 'tags: not an object')
      const tags = new Map<string, TagEntry>()
      for (const [k, v] of Object.entries(value as EncodedTags)) {
        check(Array.isArray(v) && typeof v[0] === 'number', 'tags: bad tag')
        check(v[1] === null || typeof v[1] === 'number', 'tags: bad expiry')
        tags.set(k, { value: v[0], expiresAt: v[1] ?? Number.POSITIVE_INFINITY })
      }
      entry.tags = tags
      return
    }
    case 'pins':
      check(Array.isArray(value) && value.every((p) => typeof p === 'string'), 'pins: not a string list')
      entry.pins = new Set(value as string[])
      return
    case 'seen':
      check(typeof value === 'number' && Number.isFinite(value), 'seen: not a time')
      entry.updated = value
      return
  }
}

export { DecodeError }

/**
 * `entry` as a reopen would read it: every record kind encoded, then decoded into a new entry (latency, which is
 * not stored, is left out). `ERR_INVALID_ARGUMENT` when the entry cannot be stored and read back.
 */
export function storedForm(key: string, entry: PeerEntry): PeerEntry {
  const stored = newEntry(entry.id)
  try {
    for (const kind of RECORD_KINDS) {
      const text = encodeRecord(kind, entry)
      if (text !== undefined) decodeRecord(kind, text, stored)
    }
  } catch (err) {
    throw new PeerStoreError(
      'ERR_INVALID_ARGUMENT',
      `the entry of ${key} cannot be stored and read back: ${(err as Error)?.message}`,
      { cause: err }
    )
  }
  return stored
}
