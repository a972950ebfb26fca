// The js-libp2p `PeerStore` interface over a LevelPeerStore: same data, libp2p's shapes and events.
// Addresses written here get `addressTtl` (the local peer's: PermanentAddrTTL); re-writing an address
// extends it like go's AddAddrs, so a Connected TTL set through the core API is never lowered here.

import type {
  AbortOptions,
  Address,
  ConsumePeerRecordOptions,
  Peer,
  PeerData,
  PeerId,
  PeerInfo,
  PeerQuery,
  PeerStore,
  PeerUpdate,
  Tag,
  TagOptions
} from '@libp2p/interface'
import { InvalidParametersError, NotFoundError } from '@libp2p/interface'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { isMultiaddr } from '@multiformats/multiaddr'
import { equals } from 'uint8arrays'
import { AddressTTL, neverExpires, PermanentAddrTTL } from '../constants.ts'
import { internNames } from '../intern.ts'
import type { Libp2pViewAccess } from '../peer-index-access.ts'
import {
  type AddrInfo,
  editMetadata,
  editTags,
  noEntries,
  type PeerEntry,
  type RecordKind,
  type TagEntry
} from '../types.ts'

/** The part of libp2p's `events` component this adapter uses. */
export interface PeerUpdateEvents {
  safeDispatchEvent(type: 'peer:update' | 'self:peer:update', init: { detail: PeerUpdate }): boolean
}

export interface Libp2pPeerStoreInit {
  /** The local peer (defaults to the store's `peerId`). */
  peerId?: PeerId
  /** libp2p's `events` component; `peer:update` / `self:peer:update` are dispatched on it. */
  events?: PeerUpdateEvents
  /** TTL (ms) of remote addresses written through this interface (default AddressTTL, 1 h). */
  addressTtl?: number
}

type Strategy = 'save' | 'patch' | 'merge'

function isSorted(list: readonly string[]): boolean {
  for (let i = 1; i < list.length; i++) if (list[i - 1]! > list[i]!) return false
  return true
}

function sortedMap<V>(entries: Iterable<[string, V]>): Map<string, V> {
  return new Map([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

function entriesOf<V>(data: Map<string, V> | Record<string, V>): Array<[string, V]> {
  return data instanceof Map ? [...data.entries()] : Object.entries(data)
}

function checkMetadata(key: string, value: unknown): asserts value is Uint8Array {
  if (typeof key !== 'string') throw new InvalidParametersError('Metadata key must be a string')
  if (!(value instanceof Uint8Array)) throw new InvalidParametersError('Metadata value must be a Uint8Array')
}

function tagEntry(key: string, tag: TagOptions, now: number): TagEntry {
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

function peersEqual(a: Peer, b: Peer): boolean {
  return (
    a.addresses.length === b.addresses.length &&
    a.addresses.every(
      (x, i) =>
        x.isCertified === b.addresses[i]?.isCertified &&
        x.multiaddr.toString() === b.addresses[i]!.multiaddr.toString()
    ) &&
    a.protocols.length === b.protocols.length &&
    a.protocols.every((p, i) => p === b.protocols[i]) &&
    a.metadata.size === b.metadata.size &&
    [...a.metadata].every(([k, v]) => {
      const w = b.metadata.get(k)
      return w != null && equals(v, w)
    }) &&
    a.tags.size === b.tags.size &&
    [...a.tags].every(([k, v]) => b.tags.get(k)?.value === v.value) &&
    (a.peerRecordEnvelope == null
      ? b.peerRecordEnvelope == null
      : b.peerRecordEnvelope != null && equals(a.peerRecordEnvelope, b.peerRecordEnvelope)) &&
    (a.id.publicKey == null) === (b.id.publicKey == null)
  )
}

/** The first instant after `now` at which an address or tag of the entry expires. */
function nearestExpiry(entry: PeerEntry, now: number): number {
  let nearest = Number.POSITIVE_INFINITY
  for (const a of entry.addrs.values()) if (a.expiresAt > now && a.expiresAt < nearest) nearest = a.expiresAt
  for (const t of entry.tags.values()) if (t.expiresAt > now && t.expiresAt < nearest) nearest = t.expiresAt
  return nearest
}

/** A fresh copy of the containers, so a caller that edits what it got cannot corrupt the cache. */
function copyPeer(peer: Peer): Peer {
  const copy: Peer = {
    id: peer.id,
    addresses: peer.addresses.map((a) => ({ multiaddr: a.multiaddr, isCertified: a.isCertified })),
    protocols: peer.protocols.slice(),
    metadata: peer.metadata.size === 0 ? new Map() : new Map(peer.metadata),
    tags: peer.tags.size === 0 ? new Map() : new Map([...peer.tags].map(([k, t]) => [k, { value: t.value }]))
  }
  if (peer.peerRecordEnvelope != null) copy.peerRecordEnvelope = peer.peerRecordEnvelope
  return copy
}

export class Libp2pPeerStore implements PeerStore {
  readonly #store: Libp2pViewAccess
  readonly #self: PeerId | undefined
  readonly #selfText: string | undefined
  readonly #events: PeerUpdateEvents | undefined
  readonly #addressTtl: number
  // Built views keyed by the live entry: a replaced entry misses, a changed one is dropped by the
  // store's change hook, and `validUntil` (the nearest address or tag expiry) retires it on time.
  readonly #views = new WeakMap<PeerEntry, { peer: Peer; validUntil: number }>()

  constructor(store: Libp2pViewAccess, init: Libp2pPeerStoreInit = {}) {
    this.#store = store
    this.#self = init.peerId ?? store.selfId
    this.#selfText = this.#self?.toString()
    this.#events = init.events
    this.#addressTtl = init.addressTtl ?? AddressTTL
    if (!Number.isFinite(this.#addressTtl) || this.#addressTtl <= 0) {
      throw new InvalidParametersError('addressTtl must be a positive number of ms')
    }
    store.onEntryChange((entry) => this.#views.delete(entry))
  }

  readonly [Symbol.toStringTag] = '@peerscope/peerstore-level'

  // By text: key-based ids map one to one to their base58 text, and comparing texts builds no digest of a stored
  // id (lazy-peer-id.ts). The self id has a key, so it is never a url id.
  #isSelf(id: PeerId): boolean {
    return this.#selfText !== undefined && id.toString() === this.#selfText
  }

  /** libp2p's view of one entry, or undefined when nothing visible is left. */
  #toPeer(entry: PeerEntry, now: number): Peer | undefined {
    // In text order already: the store keeps every entry's addresses sorted (keepAddrOrder).
    const addresses: Address[] = []
    for (const a of entry.addrs.values()) {
      if (now < a.expiresAt) addresses.push({ multiaddr: a.multiaddr, isCertified: a.certified })
    }
    let metadata: Map<string, Uint8Array> = new Map()
    if (entry.metadata.size > 0) {
      const bytes: Array<[string, Uint8Array]> = []
      for (const [k, v] of entry.metadata) if (v instanceof Uint8Array) bytes.push([k, v])
      metadata = sortedMap(bytes)
    }
    let tags: Map<string, Tag> = new Map()
    if (entry.tags.size > 0) {
      const alive: Array<[string, Tag]> = []
      for (const [k, t] of entry.tags) if (now < t.expiresAt) alive.push([k, { value: t.value }])
      tags = sortedMap(alive)
    }
    const envelope = entry.record?.envelope
    if (
      addresses.length === 0 &&
      entry.protocols.length === 0 &&
      metadata.size === 0 &&
      tags.size === 0 &&
      envelope == null &&
      entry.publicKey == null
    ) {
      return undefined
    }
    // entry.publicKey first: reading entry.id.publicKey builds the key of a stored id (lazy-peer-id.ts).
    const id =
      entry.publicKey != null && entry.id.publicKey == null ? peerIdFromPublicKey(entry.publicKey) : entry.id
    // Code-unit order (upstream uses localeCompare, which is ~50x slower and locale-dependent).
    const protocols = entry.protocols.slice()
    if (!isSorted(protocols)) protocols.sort()
    const peer: Peer = { id, addresses, protocols, metadata, tags }
    if (envelope != null) peer.peerRecordEnvelope = envelope
    return peer
  }

  #load(peerId: PeerId): Peer | undefined {
    const entry = this.#store.entryFor(peerId)
    if (entry == null) return undefined
    const now = this.#store.now()
    const cached = this.#views.get(entry)
    if (cached != null && now < cached.validUntil) return copyPeer(cached.peer)
    const peer = this.#toPeer(entry, now)
    if (peer == null) return undefined
    this.#views.set(entry, { peer, validUntil: nearestExpiry(entry, now) })
    return copyPeer(peer)
  }

  async forEach(fn: (peer: Peer) => void, query?: PeerQuery): Promise<void> {
    for (const peer of await this.all(query)) fn(peer)
  }

  /** Every peer but the local one, filtered, ordered, then cut by `offset` and `limit`. */
  async all(query: PeerQuery = {}): Promise<Peer[]> {
    query.signal?.throwIfAborted()
    const now = this.#store.now()
    let peers: Peer[] = []
    // One lookup, then identity: a toString() per entry cost ~170 ns on library PeerIds.
    const self = this.#self === undefined ? undefined : this.#store.entryFor(this.#self)
    for (const entry of this.#store.entries()) {
      if (entry === self) continue
      const peer = this.#toPeer(entry, now)
      if (peer == null) continue
      if (query.filters?.every((f) => f(peer)) === false) continue
      peers.push(peer)
    }
    const orders = query.orders ?? []
    if (orders.length > 0) {
      peers.sort((a, b) => {
        for (const order of orders) {
          const r = order(a, b)
          if (r !== 0) return r
        }
        return 0
      })
    }
    const offset = query.offset ?? 0
    if (offset > 0 || query.limit != null) {
      peers = peers.slice(offset, query.limit == null ? undefined : offset + query.limit)
    }
    return peers
  }

  async has(peerId: PeerId, options?: AbortOptions): Promise<boolean> {
    options?.signal?.throwIfAborted()
    return this.#load(peerId) != null
  }

  async get(peerId: PeerId, options?: AbortOptions): Promise<Peer> {
    options?.signal?.throwIfAborted()
    const peer = this.#load(peerId)
    if (peer == null) throw new NotFoundError(`peer ${peerId.toString()} not found`)
    return peer
  }

  async getInfo(peerId: PeerId, options?: AbortOptions): Promise<PeerInfo> {
    const peer = await this.get(peerId, options)
    return { id: peer.id, multiaddrs: peer.addresses.map((a) => a.multiaddr) }
  }

  /** Removes the peer entirely. The local peer is never deleted (the call is ignored, as upstream). */
  async delete(peerId: PeerId, options?: AbortOptions): Promise<void> {
    options?.signal?.throwIfAborted()
    if (this.#isSelf(peerId)) return
    await this.#store.deletePeer(peerId)
  }

  async save(id: PeerId, data: PeerData, options?: AbortOptions): Promise<Peer> {
    return this.#write(id, data, 'save', options)
  }

  async patch(id: PeerId, data: Partial<PeerData>, options?: AbortOptions): Promise<Peer> {
    return this.#write(id, data, 'patch', options)
  }

  async merge(id: PeerId, data: PeerData, options?: AbortOptions): Promise<Peer> {
    return this.#write(id, data, 'merge', options)
  }

  async #write(
    id: PeerId,
    data: Partial<PeerData>,
    strategy: Strategy,
    options?: AbortOptions
  ): Promise<Peer> {
    options?.signal?.throwIfAborted()
    if (data == null || typeof data !== 'object') throw new InvalidParametersError('Invalid PeerData')
    if (data.publicKey != null && !id.equals(peerIdFromPublicKey(data.publicKey))) {
      throw new InvalidParametersError('publicKey does not match peer id')
    }
    const ttl = this.#isSelf(id) ? PermanentAddrTTL : this.#addressTtl
    const previous = this.#load(id)
    // Validate everything before touching the entry, so bad input changes nothing.
    const now = this.#store.now()
    const given: Address[] | undefined =
      data.multiaddrs != null || data.addresses != null
        ? [
            ...(data.multiaddrs ?? []).map((multiaddr) => ({ multiaddr, isCertified: false })),
            ...(data.addresses ?? [])
          ]
        : undefined
    const metadata = data.metadata == null ? undefined : entriesOf<Uint8Array | undefined>(data.metadata)
    for (const [k, v] of metadata ?? []) if (v != null || strategy !== 'merge') checkMetadata(k, v)
    const tags =
      data.tags == null
        ? undefined
        : entriesOf<TagOptions | undefined>(data.tags).map(([k, t]): [string, TagEntry | undefined] => [
            k,
            t == null && strategy === 'merge' ? undefined : tagEntry(k, t ?? {}, now)
          ])
    for (const a of given ?? []) {
      if (!isMultiaddr(a?.multiaddr)) throw new InvalidParametersError('Invalid multiaddr in PeerData')
    }
    let record: { seq: bigint; envelope: Uint8Array } | undefined
    if (data.peerRecordEnvelope != null) {
      try {
        const env = RecordEnvelope.createFromProtobuf(data.peerRecordEnvelope)
        const seq = PeerRecord.createFromProtobuf(env.payload).seqNumber
        record = { seq, envelope: data.peerRecordEnvelope.slice() }
      } catch (err) {
        throw new InvalidParametersError(`Invalid peerRecordEnvelope: ${(err as Error).message}`)
      }
    }
    const replace = strategy !== 'merge'
    const clearAbsent = strategy === 'save'

    await this.#store.mutate(id, (entry) => {
      const kinds = new Set<RecordKind>()
      if (given != null || clearAbsent) {
        const list = given ?? []
        // Multiaddr#toString() is not cached and costs microseconds: once per address.
        const keys = list.map((a) => a.multiaddr.toString())
        const wanted = new Map<string, boolean>()
        for (const [i, a] of list.entries()) {
          const key = keys[i] as string
          wanted.set(key, (wanted.get(key) ?? false) || a.isCertified === true)
        }
        if (replace) {
          for (const [key, a] of entry.addrs) {
            if (!wanted.has(key) || now >= a.expiresAt) entry.addrs.delete(key)
          }
        }
        for (const [i, a] of list.entries()) {
          const key = keys[i] as string
          const old = entry.addrs.get(key)
          const expiresAt = neverExpires(ttl) ? Number.POSITIVE_INFINITY : now + ttl
          const next: AddrInfo = {
            multiaddr: old?.multiaddr ?? a.multiaddr,
            ttl: Math.max(old?.ttl ?? 0, ttl),
            expiresAt: Math.max(old?.expiresAt ?? 0, expiresAt),
            certified: (old?.certified ?? false) || (wanted.get(key) ?? false)
          }
          if (
            old == null ||
            old.ttl !== next.ttl ||
            old.expiresAt !== next.expiresAt ||
            old.certified !== next.certified
          ) {
            entry.addrs.set(key, next)
          }
        }
        kinds.add('addrs')
      }
      if (data.protocols != null || clearAbsent) {
        const list = data.protocols ?? []
        entry.protocols = internNames(
          replace ? [...new Set(list)] : [...new Set([...entry.protocols, ...list])]
        )
        kinds.add('protos')
      }
      if (metadata != null || clearAbsent) {
        if (replace) entry.metadata = noEntries()
        for (const [k, v] of metadata ?? []) {
          if (v != null) editMetadata(entry).set(k, v.slice())
          else if (entry.metadata.has(k)) editMetadata(entry).delete(k)
        }
        kinds.add('meta')
      }
      if (tags != null || clearAbsent) {
        if (replace) entry.tags = noEntries()
        for (const [k, t] of tags ?? []) {
          if (t != null) editTags(entry).set(k, t)
          else if (entry.tags.has(k)) editTags(entry).delete(k)
        }
        kinds.add('tags')
      }
      if (record != null) {
        entry.record = record
        kinds.add('addrs')
      }
      // Keys inlined in the id (Ed25519, secp256k1) are derivable: only store the others (RSA).
      if (data.publicKey != null && entry.id.publicKey == null && entry.publicKey == null) {
        entry.publicKey = data.publicKey
        kinds.add('keys')
      }
      return [...kinds]
    })
    const peer = this.#load(id) ?? {
      id,
      addresses: [],
      protocols: [],
      metadata: new Map(),
      tags: new Map()
    }
    this.#emit(id, peer, previous)
    return peer
  }

  #emit(id: PeerId, peer: Peer, previous: Peer | undefined): void {
    if (this.#events == null || (previous != null && peersEqual(peer, previous))) return
    const detail: PeerUpdate = previous == null ? { peer } : { peer, previous }
    this.#events.safeDispatchEvent(this.#isSelf(id) ? 'self:peer:update' : 'peer:update', { detail })
  }

  /**
   * Verifies and stores a signed peer record (addresses certified, at `addressTtl`). As upstream, a record
   * whose sequence number is not greater than the stored one returns false.
   */
  async consumePeerRecord(buf: Uint8Array, options?: ConsumePeerRecordOptions): Promise<boolean> {
    options?.signal?.throwIfAborted()
    const envelope = await RecordEnvelope.openAndCertify(buf, PeerRecord.DOMAIN, options)
    const signer = peerIdFromPublicKey(envelope.publicKey)
    if (options?.expectedPeer != null && !options.expectedPeer.equals(signer)) return false
    const record = PeerRecord.createFromProtobuf(envelope.payload)
    if (!record.peerId.equals(signer)) return false
    const stored = this.#store.peerRecordSeq(signer)
    if (stored != null && stored >= record.seqNumber) return false
    const previous = this.#load(signer)
    const ttl = this.#isSelf(signer) ? PermanentAddrTTL : this.#addressTtl
    await this.#store.consumePeerRecord(buf, ttl)
    if (signer.publicKey == null && this.#store.entryFor(signer)?.publicKey == null) {
      await this.#store.addPubKey(signer, envelope.publicKey)
    }
    const peer = this.#load(signer)
    if (peer != null) this.#emit(signer, peer, previous)
    return true
  }
}
