// The store's size limits, and their checks. Every path that writes (the core books, the libp2p view, import,
// migration) checks against the same resolved limits before it changes anything, so what is accepted is bounded
// in size, and an encode of one peer's records stays short (a 16 MiB metadata value blocked the event loop
// for seconds; 100 MiB ran the process out of memory).

import {
  DEFAULT_MAX_ADDRS,
  DEFAULT_MAX_ADDRS_PER_PEER,
  DEFAULT_MAX_KEY_LENGTH,
  DEFAULT_MAX_METADATA_KEYS,
  DEFAULT_MAX_METADATA_VALUE_BYTES,
  DEFAULT_MAX_PROTOCOL_LENGTH,
  DEFAULT_MAX_PROTOCOLS,
  DEFAULT_MAX_TAGS,
  MAX_JSON_DEPTH
} from './constants.ts'
import { PeerStoreError } from './errors.ts'
import type { PeerStoreLimits } from './options.ts'
import type { MetadataValue, PeerEntry } from './types.ts'

/** Every limit, resolved from `openPeerStore`'s `limits` and the defaults. */
export type StoreLimits = Readonly<Required<PeerStoreLimits>>

const DEFAULTS: StoreLimits = {
  maxProtocols: DEFAULT_MAX_PROTOCOLS,
  maxProtocolLength: DEFAULT_MAX_PROTOCOL_LENGTH,
  maxAddrsPerPeer: DEFAULT_MAX_ADDRS_PER_PEER,
  maxAddrs: DEFAULT_MAX_ADDRS,
  maxMetadataKeys: DEFAULT_MAX_METADATA_KEYS,
  maxMetadataValueBytes: DEFAULT_MAX_METADATA_VALUE_BYTES,
  maxKeyLength: DEFAULT_MAX_KEY_LENGTH,
  maxTags: DEFAULT_MAX_TAGS
}

/** The limits `given` asks for over the defaults; `ERR_INVALID_ARGUMENT` naming the option for a bad value. */
export function resolveLimits(given: PeerStoreLimits | undefined): StoreLimits {
  if (given === undefined) return DEFAULTS
  if (given === null || typeof given !== 'object') {
    throw new PeerStoreError('ERR_INVALID_ARGUMENT', '`limits` must be an object')
  }
  const limits: Record<string, number> = { ...DEFAULTS }
  for (const [name, value] of Object.entries(given)) {
    if (!Object.hasOwn(DEFAULTS, name)) {
      throw new PeerStoreError(
        'ERR_INVALID_ARGUMENT',
        `unknown option limits.${name}; known: ${Object.keys(DEFAULTS).join(', ')}`
      )
    }
    if (value === undefined) continue
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new PeerStoreError(
        'ERR_INVALID_ARGUMENT',
        `limits.${name} must be an integer >= 0, got ${String(value)}`
      )
    }
    limits[name] = value
  }
  return limits as unknown as StoreLimits
}

function tooLong(
  code: 'ERR_PROTOCOL_TOO_LONG' | 'ERR_KEY_TOO_LONG',
  what: string,
  name: string,
  max: number
) {
  const option = code === 'ERR_PROTOCOL_TOO_LONG' ? 'maxProtocolLength' : 'maxKeyLength'
  return new PeerStoreError(
    code,
    `${what} of ${name.length} characters (${JSON.stringify(name.slice(0, 40))}...) is longer than ` +
      `limits.${option} (${max})`
  )
}

/** Each protocol id at most `maxProtocolLength` characters (UTF-16 code units). */
export function checkProtocolLengths(protocols: Iterable<string>, limits: StoreLimits): void {
  for (const p of protocols) {
    if (p.length > limits.maxProtocolLength) {
      throw tooLong('ERR_PROTOCOL_TOO_LONG', 'a protocol id', p, limits.maxProtocolLength)
    }
  }
}

/** A peer holding `count` distinct protocols; more than `maxProtocols` is `ERR_TOO_MANY_PROTOCOLS`. */
export function checkProtocolCount(count: number, limits: StoreLimits): void {
  if (count > limits.maxProtocols) {
    // The words go uses ("too many protocols"), then the limit and its option.
    throw new PeerStoreError(
      'ERR_TOO_MANY_PROTOCOLS',
      `too many protocols (limit ${limits.maxProtocols}, limits.maxProtocols)`
    )
  }
}

/** A metadata key, tag name or pin reason: at most `maxKeyLength` characters. */
export function checkKeyLength(what: string, key: string, limits: StoreLimits): void {
  if (key.length > limits.maxKeyLength) throw tooLong('ERR_KEY_TOO_LONG', what, key, limits.maxKeyLength)
}

/** A peer holding `count` metadata keys. */
export function checkMetadataKeyCount(count: number, limits: StoreLimits): void {
  if (count > limits.maxMetadataKeys) {
    throw new PeerStoreError(
      'ERR_TOO_MANY_METADATA_KEYS',
      `${count} metadata keys for one peer, more than limits.maxMetadataKeys (${limits.maxMetadataKeys})`
    )
  }
}

/** A peer holding `count` tags, or `count` pin reasons. */
export function checkTagCount(what: 'tags' | 'pin reasons', count: number, limits: StoreLimits): void {
  if (count > limits.maxTags) {
    throw new PeerStoreError(
      'ERR_TOO_MANY_TAGS',
      `${count} ${what} for one peer, more than limits.maxTags (${limits.maxTags})`
    )
  }
}

/** UTF-8 bytes of a string (JSON.stringify leaves no lone surrogate in its text). */
function utf8Length(text: string): number {
  let bytes = text.length
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) continue
    if (c < 0x800) bytes += 1
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 2
      i++
    } else bytes += 2
  }
  return bytes
}

function tooLarge(key: string, size: number, limits: StoreLimits): PeerStoreError {
  return new PeerStoreError(
    'ERR_METADATA_TOO_LARGE',
    `the metadata value of ${JSON.stringify(key.slice(0, 40))} is ${size} bytes, more than ` +
      `limits.maxMetadataValueBytes (${limits.maxMetadataValueBytes})`
  )
}

/** Bytes: at most `maxMetadataValueBytes`. Checked before anything copies them. */
export function checkMetadataBytes(key: string, value: Uint8Array, limits: StoreLimits): void {
  if (value.byteLength > limits.maxMetadataValueBytes) throw tooLarge(key, value.byteLength, limits)
}

/**
 * A JSON value's text (`JSON.stringify`'s): at most `maxMetadataValueBytes` UTF-8 bytes, nested at most
 * `MAX_JSON_DEPTH` deep (deeper values overflow the stack of a later encode or copy).
 */
export function checkMetadataJson(key: string, text: string, limits: StoreLimits): void {
  const size = utf8Length(text)
  if (size > limits.maxMetadataValueBytes) throw tooLarge(key, size, limits)
  if (jsonDepth(text) > MAX_JSON_DEPTH) {
    throw new PeerStoreError(
      'ERR_INVALID_ARGUMENT',
      `the metadata value of ${JSON.stringify(key.slice(0, 40))} is nested deeper than ${MAX_JSON_DEPTH} levels`
    )
  }
}

/** The deepest nesting of arrays and objects in a JSON text. */
function jsonDepth(text: string): number {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c)
        i++ // backslash: skip the escaped character
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) deepest = Math.max(deepest, ++depth)
    else if (c === 0x5d || c === 0x7d) depth--
  }
  return deepest
}

/** One metadata value of an entry already built (import, migration): bytes, or JSON by its text. */
function checkMetadataValue(key: string, value: MetadataValue, limits: StoreLimits): void {
  if (value instanceof Uint8Array) checkMetadataBytes(key, value, limits)
  else checkMetadataJson(key, JSON.stringify(value), limits)
}

/** Every limit on one whole entry (an import or a migration hands over whole entries). */
export function checkEntryLimits(entry: PeerEntry, limits: StoreLimits): void {
  checkProtocolCount(entry.protocols.length, limits)
  checkProtocolLengths(entry.protocols, limits)
  checkMetadataKeyCount(entry.metadata.size, limits)
  for (const [key, value] of entry.metadata) {
    checkKeyLength('a metadata key', key, limits)
    checkMetadataValue(key, value, limits)
  }
  checkTagCount('tags', entry.tags.size, limits)
  for (const name of entry.tags.keys()) checkKeyLength('a tag name', name, limits)
  checkTagCount('pin reasons', entry.pins.size, limits)
  for (const reason of entry.pins) checkKeyLength('a pin reason', reason, limits)
}
