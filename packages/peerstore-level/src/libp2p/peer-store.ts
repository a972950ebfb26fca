// The js-libp2p `PeerStore` interface over a LevelPeerStore: same data, libp2p's shapes and events, and
// @libp2p/peer-store's observable contract (test/suite/view-conformance/ runs it against upstream itself).
// Where it deliberately differs, README "Differences from @libp2p/peer-store" says what and why. This file is the
// class (reads, the write sequence, events); peer-shape.ts builds and compares libp2p's `Peer`, entry-writes.ts
// applies each field of a write to an entry.
//
// Addresses written here get `addressTtl` (the local peer's: PermanentAddrTTL); re-writing an address extends
// it like go's AddAddrs, so a Connected TTL set through the core API is never lowered here. Expiry is compared
// exactly (src/expiry.ts), as the core store compares it: a sub-millisecond TTL set there is honoured here.

import type {
  AbortOptions,
  ConsumePeerRecordOptions,
  Peer,
  PeerData,
  PeerId,
  PeerInfo,
  PeerQuery,
  PeerStore,
  PeerUpdate,
  TagOptions
} from '@libp2p/interface'
import { InvalidParametersError, isPeerId, NotFoundError } from '@libp2p/interface'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { isMultiaddr, type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import { recordAddrsDroppedBy } from '../books/addr-book.ts'
import { copyBytes } from '../bytes.ts'
import { AddressTTL, PermanentAddrTTL } from '../constants.ts'
import { PeerStoreError } from '../errors.ts'
import { internNames } from '../intern.ts'
import { agedOut, DEFAULT_MAX_PEER_AGE, isValidMaxPeerAge, stampMoves, stampStep } from '../peer-age.ts'
import type { Libp2pViewAccess } from '../peer-index-access.ts'
import { storableAddrText } from '../persistence/stored-multiaddr.ts'
import type { PeerEntry } from '../types.ts'
import { yieldToLoop } from '../yield.ts'
import {
  type Changes,
  checkCounts,
  checkFields,
  entriesOf,
  keepRsaKey,
  parseEnvelope,
  protocolList,
  resetEntry,
  sameSet,
  type WantedAddrs,
  writeAddrs,
  writeMetadata,
  writeTags
} from './entry-writes.ts'
import {
  copyPeer,
  emptyPeer,
  liveTags,
  NO_TAGS,
  peersEqual,
  sameBytes,
  sameTags,
  toPeer
} from './peer-shape.ts'

/** The part of libp2p's `events` component this adapter uses. */
export interface PeerUpdateEvents {
  safeDispatchEvent(type: 'peer:update' | 'self:peer:update', init: { detail: PeerUpdate }): boolean
}

/** As @libp2p/peer-store's: return true to store `multiaddr` for `peerId` (libp2p passes its gater's filter). */
export type AddressFilter = (
  peerId: PeerId,
  multiaddr: Multiaddr,
  options?: AbortOptions
) => boolean | Promise<boolean>

export interface Libp2pPeerStoreInit {
  /** The local peer (defaults to the store's `peerId`). */
  peerId?: PeerId
  /** libp2p's `events` component; `peer:update` / `self:peer:update` are dispatched on it. */
  events?: PeerUpdateEvents
  /** TTL (ms) of remote addresses written through this interface (default AddressTTL, 1 h). */
  addressTtl?: number
  /**
   * A peer with no unexpired address is kept this long (ms) after its last write, then it is gone (reads miss
   * it, GC deletes it). Same name and default as @libp2p/peer-store: 6 h. The local peer and pinned peers
   * never age out. Raises the store's `gc.maxPeerAge` to match.
   */
  maxPeerAge?: number
  /** Addresses it refuses are not stored (save, patch, merge, consumePeerRecord), as upstream. */
  addressFilter?: AddressFilter
}

type Strategy = 'save' | 'patch' | 'merge'

function checkPeerId(id: unknown): asserts id is PeerId {
  if (!isPeerId(id)) throw new InvalidParametersError('Invalid PeerId')
}

export class Libp2pPeerStore implements PeerStore {
  readonly #store: Libp2pViewAccess
  readonly #self: PeerId | undefined
  readonly #selfText: string | undefined
  readonly #events: PeerUpdateEvents | undefined
  readonly #addressTtl: number
  readonly #maxPeerAge: number
  readonly #stampStep: number
  readonly #addressFilter: AddressFilter | undefined

  constructor(store: Libp2pViewAccess, init: Libp2pPeerStoreInit = {}) {
    this.#store = store
    this.#self = init.peerId ?? store.selfId
    this.#selfText = this.#self?.toString()
    this.#events = init.events
    this.#addressTtl = init.addressTtl ?? AddressTTL
    if (typeof this.#addressTtl !== 'number' || !Number.isFinite(this.#addressTtl) || this.#addressTtl <= 0) {
      throw new PeerStoreError(
        'ERR_INVALID_TTL',
        `addressTtl must be a positive number of ms, got ${String(init.addressTtl)}`
      )
    }
    this.#maxPeerAge = init.maxPeerAge ?? DEFAULT_MAX_PEER_AGE
    if (!isValidMaxPeerAge(this.#maxPeerAge)) {
      throw new PeerStoreError(
        'ERR_INVALID_ARGUMENT',
        `maxPeerAge must be a number of ms >= 0, got ${String(init.maxPeerAge)}`
      )
    }
    this.#stampStep = stampStep(this.#maxPeerAge)
    this.#addressFilter = init.addressFilter
    store.retainPeersFor(this.#maxPeerAge, this.#self)
  }

  readonly [Symbol.toStringTag] = '@peerscope/peerstore-level'

  // By text: key-based ids map one to one to their base58 text, and comparing texts builds no digest of a stored
  // id (lazy-peer-id.ts). The self id has a key, so it is never a url id.
  #isSelf(id: PeerId): boolean {
    return this.#selfText !== undefined && id.toString() === this.#selfText
  }

  /** The entry, when the peer exists: not deleted and not aged out (src/peer-age.ts). */
  #live(peerId: PeerId, now: number): PeerEntry | undefined {
    const entry = this.#store.entryFor(peerId)
    if (entry == null || agedOut(entry, now, this.#maxPeerAge, this.#isSelf(peerId))) return undefined
    return entry
  }

  /** The peer as `get` returns it, or undefined when it does not exist. */
  #load(peerId: PeerId): Peer | undefined {
    const now = this.#store.now()
    const entry = this.#live(peerId, now)
    if (entry == null) return this.#isSelf(peerId) && this.#self != null ? emptyPeer(this.#self) : undefined
    return toPeer(entry, now)
  }

  async forEach(fn: (peer: Peer) => void, query?: PeerQuery): Promise<void> {
    for (const peer of await this.all(query)) fn(peer)
  }

  /**
   * Every peer but the local one, filtered, ordered, then cut by `offset` and `limit`. Peers are read in slices of
   * at most `ALL_SLICE_MS` with a turn of the event loop between them (a million peers took seconds in one block),
   * all as of the call's start; a peer written meanwhile may be listed as it was or as it is. An order given in
   * `query.orders` is one sort of the whole list at the end.
   */
  async all(query: PeerQuery = {}): Promise<Peer[]> {
    query.signal?.throwIfAborted()
    const now = this.#store.now()
    // Sized for every peer at the start, then cut to those listed: grown by push, a list of a million was copied
    // whole at each growth (5 ms and more in one step at 1M). Peers added meanwhile grow it past that size.
    let peers: Peer[] = new Array<Peer>(this.#store.entryCount ?? 0)
    let listed = 0
    // One lookup, then identity: a toString() per entry cost ~170 ns on library PeerIds.
    const self = this.#self === undefined ? undefined : this.#store.entryFor(this.#self)
    let sliceStart = performance.now()
    let n = 0
    for (const entry of this.#store.entries()) {
      if ((++n & 63) === 0 && performance.now() - sliceStart >= ALL_SLICE_MS) {
        await yieldToLoop()
        query.signal?.throwIfAborted()
        sliceStart = performance.now()
      }
      if (entry === self || agedOut(entry, now, this.#maxPeerAge, false)) continue
      const peer = toPeer(entry, now)
      if (query.filters?.every((f) => f(peer)) === false) continue
      peers[listed++] = peer
    }
    peers.length = listed
    // As a datastore query applies them (upstream): one stable sort per order, in turn, so the last order
    // decides first and earlier ones break its ties.
    const orders = query.orders ?? []
    if (orders.length > 0) {
      peers.sort((a, b) => {
        for (let i = orders.length - 1; i >= 0; i--) {
          const r = orders[i]!(a, b)
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

  /** True for a peer saved and neither deleted nor aged out; always true for the local peer. */
  async has(peerId: PeerId, options?: AbortOptions): Promise<boolean> {
    options?.signal?.throwIfAborted()
    checkPeerId(peerId)
    return this.#isSelf(peerId) || this.#live(peerId, this.#store.now()) != null
  }

  /** Throws `NotFoundError` for an unknown peer; the local peer always answers (empty if nothing is stored). */
  async get(peerId: PeerId, options?: AbortOptions): Promise<Peer> {
    options?.signal?.throwIfAborted()
    checkPeerId(peerId)
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
    checkPeerId(peerId)
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

  /**
   * The addresses to write, keyed by text: filtered (before anything is stripped, as upstream), a trailing
   * `/p2p/<the peer's own id>` stripped, duplicates merged (certified if any occurrence is).
   */
  async #wanted(
    id: PeerId,
    given: Array<{ multiaddr: Multiaddr; certified: boolean }>,
    options?: AbortOptions
  ): Promise<WantedAddrs> {
    const wanted: WantedAddrs = new Map()
    const suffix = `/p2p/${id.toString()}`
    for (const a of given) {
      if (this.#addressFilter != null && !(await this.#addressFilter(id, a.multiaddr, options))) continue
      let ma = a.multiaddr
      let key = ma.toString()
      if (key.endsWith(suffix)) {
        ma = ma.decapsulateCode(CODE_P2P)
        key = ma.toString()
        if (key === '/') continue
      }
      if (storableAddrText(ma, key) !== key) {
        throw new InvalidParametersError(
          `Multiaddr ${JSON.stringify(key.slice(0, 200))} does not read back as itself from its text`
        )
      }
      const seen = wanted.get(key)
      wanted.set(key, {
        multiaddr: seen?.multiaddr ?? ma,
        certified: (seen?.certified ?? false) || a.certified
      })
    }
    return wanted
  }

  async #write(
    id: PeerId,
    data: Partial<PeerData>,
    strategy: Strategy,
    options?: AbortOptions
  ): Promise<Peer> {
    options?.signal?.throwIfAborted()
    checkPeerId(id)
    if (data == null || typeof data !== 'object') throw new InvalidParametersError('Invalid PeerData')
    if (data.publicKey != null && !id.equals(peerIdFromPublicKey(data.publicKey))) {
      throw new InvalidParametersError('publicKey does not match peer id')
    }
    // Validate everything before touching the entry, so bad input changes nothing.
    let given: Array<{ multiaddr: Multiaddr; certified: boolean }> | undefined
    if (data.multiaddrs != null || data.addresses != null) {
      given = []
      for (const ma of data.multiaddrs ?? []) {
        if (!isMultiaddr(ma)) throw new InvalidParametersError('Multiaddr was invalid')
        given.push({ multiaddr: ma, certified: false })
      }
      for (const a of data.addresses ?? []) {
        if (a == null) continue
        const ma = a.multiaddr instanceof Uint8Array ? multiaddr(a.multiaddr) : a.multiaddr
        if (!isMultiaddr(ma)) throw new InvalidParametersError('Multiaddr was invalid')
        given.push({ multiaddr: ma, certified: a.isCertified === true })
      }
    }
    const limits = this.#store.limits
    const protocols = data.protocols == null ? undefined : protocolList(data.protocols, limits)
    const metadata = data.metadata == null ? undefined : entriesOf<Uint8Array | undefined>(data.metadata)
    const tagsGiven = data.tags == null ? undefined : entriesOf<TagOptions | undefined>(data.tags)
    checkFields(metadata, tagsGiven, limits)
    const record = data.peerRecordEnvelope == null ? undefined : parseEnvelope(data.peerRecordEnvelope)
    const wanted = given == null ? undefined : await this.#wanted(id, given, options)

    // From here on nothing awaits until the entry is written: `previous` and the write see the same state.
    const before = this.#store.now()
    const self = this.#isSelf(id)
    const existing = this.#live(id, before)
    const previous = existing == null ? undefined : toPeer(existing, before)
    const tagsBefore = existing == null ? NO_TAGS : liveTags(existing.tags, before)
    const ttl = self ? PermanentAddrTTL : this.#addressTtl
    const replace = strategy !== 'merge'
    const clearAbsent = strategy === 'save'
    checkCounts(existing, { protocols, metadata, tags: tagsGiven }, replace, limits)
    let written: PeerEntry | undefined

    const done = this.#store.mutate(id, (entry, now) => {
      written = entry
      const changes: Changes = new Set()
      if (existing == null) {
        // Unknown or aged out: start afresh (upstream evicts before it writes), and save the peer even if
        // nothing else is given, so that it exists.
        resetEntry(entry, changes)
        changes.add('seen')
      }
      if (wanted != null || clearAbsent) writeAddrs(entry, wanted ?? new Map(), replace, ttl, now, changes)
      if (protocols != null || clearAbsent) {
        const list = protocols ?? []
        const next = replace ? list : [...new Set([...entry.protocols, ...list])]
        if (!sameSet(entry.protocols, next)) {
          entry.protocols = internNames(next)
          changes.add('protos')
        }
      }
      if (metadata != null || clearAbsent) writeMetadata(entry, metadata ?? [], replace, changes)
      if (tagsGiven != null || clearAbsent) writeTags(entry, tagsGiven ?? [], replace, now, changes)
      if (record != null) {
        if (!sameBytes(entry.record?.envelope, record.envelope)) {
          entry.record = record
          changes.add('addrs')
        }
      } else if (clearAbsent && entry.record != null) {
        entry.record = undefined
        changes.add('addrs')
      }
      keepRsaKey(entry, id, data.publicKey, changes)
      this.#stamp(entry, now, changes)
      return [...changes]
    })
    const after = this.#store.now()
    const peer = written == null ? emptyPeer(id) : toPeer(written, after)
    const tagsAfter = written == null ? NO_TAGS : liveTags(written.tags, after)
    await done
    if (previous == null || !peersEqual(peer, previous) || !sameTags(tagsBefore, tagsAfter)) {
      this.#emit(id, peer, previous)
    }
    // Built for this call alone: listeners got copies.
    return peer
  }

  /**
   * Upstream stamps every write, even one that changes nothing; so does this, once per step (peer-age.ts
   * `stampStep`), so a repeat that changes nothing rarely writes at all.
   */
  #stamp(entry: PeerEntry, now: number, changes: Changes): void {
    if (!stampMoves(entry.updated, now, this.#stampStep)) return
    entry.updated = now
    changes.add('seen')
  }

  #emit(id: PeerId, peer: Peer, previous: Peer | undefined): void {
    if (this.#events == null) return
    const detail: PeerUpdate =
      previous == null ? { peer: copyPeer(peer) } : { peer: copyPeer(peer), previous: copyPeer(previous) }
    this.#events.safeDispatchEvent(this.#isSelf(id) ? 'self:peer:update' : 'peer:update', { detail })
  }

  /**
   * Verifies a signed peer record and stores it, its addresses certified at `addressTtl`. As upstream, a record
   * whose sequence number is not greater than the stored one returns false, as does one signed by another peer
   * than `expectedPeer` or than the peer it names. Addresses: go v0.52.0's rule (the core's `consumePeerRecord`):
   * the previous record's addresses the new record no longer lists go, unless connected; other addresses stay.
   */
  async consumePeerRecord(buf: Uint8Array, options?: ConsumePeerRecordOptions): Promise<boolean>
  /** The older form, still accepted by @libp2p/peer-store. */
  async consumePeerRecord(buf: Uint8Array, expectedPeer?: PeerId, options?: AbortOptions): Promise<boolean>
  async consumePeerRecord(
    buf: Uint8Array,
    arg1?: ConsumePeerRecordOptions | PeerId,
    arg2?: AbortOptions
  ): Promise<boolean> {
    const expectedPeer = isPeerId(arg1) ? arg1 : arg1?.expectedPeer
    const options = isPeerId(arg1) ? arg2 : (arg1 ?? arg2)
    options?.signal?.throwIfAborted()
    if (!(buf instanceof Uint8Array)) throw new InvalidParametersError('The envelope must be a Uint8Array')
    // What is verified is what is stored, whatever the caller does with its buffer meanwhile.
    const bytes = copyBytes(buf)
    let envelope: RecordEnvelope
    let record: PeerRecord
    try {
      envelope = await RecordEnvelope.openAndCertify(bytes, PeerRecord.DOMAIN, options)
      record = PeerRecord.createFromProtobuf(envelope.payload)
    } catch (err) {
      options?.signal?.throwIfAborted()
      // Junk bytes surface from the protobuf reader as a RangeError: a typed error says what was wrong.
      throw new InvalidParametersError(`Invalid peer record envelope: ${(err as Error)?.message}`)
    }
    const signer = peerIdFromPublicKey(envelope.publicKey)
    if (expectedPeer != null && !expectedPeer.equals(signer)) return false
    if (!record.peerId.equals(signer)) return false
    const wanted = await this.#wanted(
      signer,
      record.multiaddrs.map((ma) => ({ multiaddr: ma, certified: true })),
      options
    )

    const before = this.#store.now()
    const existing = this.#live(signer, before)
    const stored = existing?.record?.seq
    if (stored != null && stored >= record.seqNumber) return false
    const previous = existing == null ? undefined : toPeer(existing, before)
    const tagsBefore = existing == null ? NO_TAGS : liveTags(existing.tags, before)
    const ttl = this.#isSelf(signer) ? PermanentAddrTTL : this.#addressTtl
    let written: PeerEntry | undefined
    const done = this.#store.mutate(signer, (entry, now) => {
      written = entry
      const changes: Changes = new Set()
      if (existing == null) {
        resetEntry(entry, changes)
        changes.add('seen')
      }
      if (entry.record != null) {
        for (const key of recordAddrsDroppedBy(entry, entry.record.envelope, record)) {
          entry.addrs.delete(key)
          changes.add('addrs')
        }
      }
      writeAddrs(entry, wanted, false, ttl, now, changes)
      entry.record = { seq: record.seqNumber, envelope: bytes }
      changes.add('addrs')
      keepRsaKey(entry, signer, envelope.publicKey, changes)
      this.#stamp(entry, now, changes)
      return [...changes]
    })
    const after = this.#store.now()
    const peer = written == null ? emptyPeer(signer) : toPeer(written, after)
    const tagsAfter = written == null ? NO_TAGS : liveTags(written.tags, after)
    await done
    if (previous == null || !peersEqual(peer, previous) || !sameTags(tagsBefore, tagsAfter)) {
      this.#emit(signer, peer, previous)
    }
    return true
  }
}

const CODE_P2P = 421

/** The longest `all()` reads peers before it gives the event loop a turn, in ms. */
const ALL_SLICE_MS = 4
