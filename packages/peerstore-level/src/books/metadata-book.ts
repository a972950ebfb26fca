// Metadata (any key to bytes or a JSON value, persisted) and latency (an EWMA of RTT samples, in memory only: a
// latency from before a restart says nothing about the network now).

import type { PeerId } from '@libp2p/interface'
import { copyBytes } from '../bytes.ts'
import { LatencyEWMASmoothing } from '../constants.ts'
import { PeerStoreError } from '../errors.ts'
import {
  checkKeyLength,
  checkMetadataBytes,
  checkMetadataJson,
  checkMetadataKeyCount,
  type StoreLimits
} from '../limits.ts'
import type { PeerIndex } from '../peer-index.ts'
import {
  editMetadata,
  type JsonValue,
  type MetadataValue,
  noEntries,
  type PeerEntry,
  type RecordKind
} from '../types.ts'
import type { BookContext } from './context.ts'

const META: readonly RecordKind[] = ['meta']

/**
 * Metadata values are bytes or JSON: anything else (functions, symbols, cycles, BigInt) is refused. The value
 * kept is the JSON round trip, which is exactly what a reopened store reads back (NaN and Infinity become null),
 * within the size limits.
 */
function jsonCopy(key: string, value: unknown, limits: StoreLimits): JsonValue {
  // A string's JSON text is at least as long: refused before it is copied.
  if (typeof value === 'string' && value.length > limits.maxMetadataValueBytes) {
    checkMetadataJson(key, value, limits)
  }
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch (err) {
    throw new PeerStoreError('ERR_INVALID_ARGUMENT', 'metadata value is not JSON-serialisable', {
      cause: err
    })
  }
  if (text === undefined)
    throw new PeerStoreError('ERR_INVALID_ARGUMENT', 'metadata value is not JSON-serialisable')
  checkMetadataJson(key, text, limits)
  return JSON.parse(text) as JsonValue
}

export class MetadataBook {
  readonly #ctx: BookContext
  readonly #index: PeerIndex
  readonly #limits: StoreLimits

  constructor(ctx: BookContext, limits: StoreLimits) {
    this.#ctx = ctx
    this.#index = ctx.index
    this.#limits = limits
  }

  getMetadata(peer: PeerId, key: string): MetadataValue | undefined {
    const v = this.#index.find(peer)?.metadata.get(key)
    return v instanceof Uint8Array ? v.slice() : v === undefined ? undefined : structuredClone(v)
  }

  /** The metadata keys stored for a peer, sorted; empty for an unknown peer. */
  metadataKeys(peer: PeerId): string[] {
    const metadata = this.#index.find(peer)?.metadata
    return metadata == null ? [] : [...metadata.keys()].sort()
  }

  /** Stores a value as given (bytes or any JSON value), within the size limits. */
  async putMetadata(peer: PeerId, key: string, value: MetadataValue): Promise<void> {
    this.#ctx.assertOpen()
    const k = this.#index.keyOf(peer)
    const limits = this.#limits
    if (typeof key !== 'string')
      throw new PeerStoreError('ERR_INVALID_ARGUMENT', 'metadata key must be a string')
    checkKeyLength('a metadata key', key, limits)
    if (value === undefined) throw new PeerStoreError('ERR_INVALID_ARGUMENT', 'metadata value is undefined')
    if (value instanceof Uint8Array) checkMetadataBytes(key, value, limits)
    const copy = value instanceof Uint8Array ? copyBytes(value) : jsonCopy(key, value, limits)
    const metadata = this.#index.get(k)?.metadata
    if (metadata?.has(key) !== true) checkMetadataKeyCount((metadata?.size ?? 0) + 1, limits)
    editMetadata(this.#index.entry(k, peer)).set(key, copy)
    return this.#ctx.commit(k, META)
  }

  async deleteMetadata(peer: PeerId, key: string): Promise<void> {
    this.#ctx.assertOpen()
    const k = this.#index.keyOf(peer)
    const entry = this.#index.get(k)
    if (entry == null || !entry.metadata.has(key)) return Promise.resolve()
    editMetadata(entry).delete(key)
    return this.#ctx.commit(k, META)
  }

  /** Feeds an RTT sample (ms) into the EWMA (smoothing 0.1). Latency lives in memory only. */
  recordLatency(peer: PeerId, ms: number): void {
    const key = this.#index.keyOf(peer)
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      throw new PeerStoreError('ERR_INVALID_ARGUMENT', `latency must be a non-negative number, got ${ms}`)
    }
    const entry = this.#index.entry(key, peer)
    entry.latency =
      entry.latency == null ? ms : (1 - LatencyEWMASmoothing) * entry.latency + LatencyEWMASmoothing * ms
  }

  /** The latency EWMA in ms; 0 for an unknown peer. */
  latencyEWMA(peer: PeerId): number {
    return this.#index.find(peer)?.latency ?? 0
  }

  /** go `RemovePeer`'s part in the metadata book: forgets the metadata and the latency. */
  forget(entry: PeerEntry): void {
    entry.metadata = noEntries()
    entry.latency = undefined
  }
}
