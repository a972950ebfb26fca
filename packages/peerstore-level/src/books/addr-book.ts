// The address book, with go-libp2p's TTL rules: `AddAddrs` never lowers a stored TTL or expiry, `SetAddrs`
// overwrites them, `UpdateAddrs` moves addresses from one TTL class to another, expired addresses are invisible to
// reads (GC removes them later). Connected and Permanent addresses never expire. Also here: the address stream,
// signed peer records (their addresses are certified), and the limits: `maxAddrsPerPeer` unconnected addresses per
// peer (the nearest expiry is evicted) and `maxAddrs` in the whole store.

import type { PeerId } from '@libp2p/interface'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { isMultiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { AddrList } from '../addr-list.ts'
import { copyBytes } from '../bytes.ts'
import { neverExpires } from '../constants.ts'
import { PeerStoreError } from '../errors.ts'
import { compareExpiry, type Expiring, expiryAfter } from '../expiry.ts'
import type { PeerIndex } from '../peer-index.ts'
import { hasCommonShape, StoredMultiaddr, storableAddrText } from '../persistence/stored-multiaddr.ts'
import type { AddrInfo, PeerEntry, RecordKind } from '../types.ts'
import { AddrStreams } from './addr-stream.ts'
import type { BookContext } from './context.ts'

const ADDRS: readonly RecordKind[] = ['addrs']

/** What `#makeRoom` says when nothing had to go, and when the new address cannot be stored. */
const ROOM = -1
const NO_ROOM = -2

/** The limits of `openPeerStore` the address book applies. */
export interface AddrLimits {
  /** Unconnected addresses per peer; 0 = no limit. */
  readonly maxAddrsPerPeer: number
  /** Unconnected addresses in the whole store. */
  readonly maxAddrs: number
}

/**
 * A TTL is a finite number of ms: an infinite one cannot be stored (JSON has no Infinity), and the two
 * never-expiring TTLs have names that survive a reopen.
 */
export function checkTtl(ttl: number): void {
  if (typeof ttl !== 'number' || !Number.isFinite(ttl)) {
    throw new PeerStoreError(
      'ERR_INVALID_TTL',
      `TTL must be a finite number of ms, got ${String(ttl)}; for an address that never expires use ` +
        'PermanentAddrTTL or ConnectedAddrTTL'
    )
  }
}

/** A peer that loses its last address loses its signed record too (go's rule). */
export function forgetRecordWithoutAddrs(entry: PeerEntry): void {
  if (entry.addrs.size === 0) entry.record = undefined
}

/** An address about to be stored: the multiaddr, and the text it is stored under, read from it once. */
interface AddrToStore {
  ma: Multiaddr
  text: string
}

/**
 * Strips our own `/p2p/<id>` suffix; undefined for nil addrs, addrs naming another peer, and a bare
 * `/p2p/<id>` (nothing is left to dial once the suffix is gone; go skips it too). A multiaddr's text is built
 * from its components on every `toString()` (~1 us for a common address): it is read once here and passed on.
 */
function normalize(peer: PeerId, ma: Multiaddr | null | undefined): AddrToStore | undefined {
  if (ma == null) return undefined
  if (!isMultiaddr(ma)) throw new PeerStoreError('ERR_INVALID_MULTIADDR', `not a multiaddr: ${String(ma)}`)
  // Its text (needed anyway, as the key) names every p2p component as /p2p/: without one, nothing to strip;
  // with one followed by more components (a relay address), the last component is not p2p.
  const text = ma.toString()
  if (typeof text !== 'string') {
    throw new PeerStoreError('ERR_INVALID_MULTIADDR', 'a multiaddr whose toString() is not a string')
  }
  const at = text.lastIndexOf('/p2p/')
  if (at < 0 || text.indexOf('/', at + 5) >= 0) return storable(ma, text)
  // Our own id at the end of a common shape: what is left is stored as text (parsing a copy cost ~5 us).
  const peerText = peer.toString()
  if (at > 0 && text.length - at - 5 === peerText.length && text.endsWith(peerText)) {
    const stripped = text.slice(0, at)
    if (hasCommonShape(stripped)) return { ma: new StoredMultiaddr(stripped), text: stripped }
  }
  const components = ma.getComponents()
  const last = components[components.length - 1]
  if (last?.name !== 'p2p') return storable(ma, text)
  if (last.value !== peer.toString() || components.length === 1) return undefined
  const rest = ma.decapsulateCode(421)
  return storable(rest, rest.toString())
}

/**
 * `ma` and its text `text`, when that text reads back as the same multiaddr (the text is what is stored); else
 * `ERR_INVALID_MULTIADDR`.
 */
function storable(ma: Multiaddr, text: string): AddrToStore {
  if (storableAddrText(ma, text) === undefined) {
    throw new PeerStoreError(
      'ERR_INVALID_MULTIADDR',
      `the multiaddr ${JSON.stringify(text.slice(0, 200))} does not read back as itself from its text`
    )
  }
  return { ma, text }
}

function normalizeAll(peer: PeerId, addrs: ReadonlyArray<Multiaddr | null | undefined>): AddrToStore[] {
  if (!Array.isArray(addrs)) throw new PeerStoreError('ERR_INVALID_MULTIADDR', 'addrs must be an array')
  const out: AddrToStore[] = []
  for (const ma of addrs) {
    const n = normalize(peer, ma)
    if (n != null) out.push(n)
  }
  return out
}

/**
 * The stored addrs a newer signed record removes (go v0.52.0, #3487): those of the previous record (`previous`,
 * its envelope) that `next` lacks, whatever wrote them since, unless connected. Compared as the records carry
 * them (a `/p2p/<id>` suffix included, so such an addr, stored without it, is kept: go compares the same way).
 * Also the libp2p view's rule.
 */
export function recordAddrsDroppedBy(entry: PeerEntry, previous: Uint8Array, next: PeerRecord): string[] {
  let old: PeerRecord
  try {
    old = PeerRecord.createFromProtobuf(RecordEnvelope.createFromProtobuf(previous).payload)
  } catch {
    return []
  }
  const kept = new Set(next.multiaddrs.map((ma) => ma.toString()))
  const dropped: string[] = []
  for (const ma of old.multiaddrs) {
    const k = ma.toString()
    const i = entry.addrs.indexOf(k)
    if (i >= 0 && !kept.has(k) && !neverExpires(entry.addrs.ttlAt(i))) dropped.push(k)
  }
  return dropped
}

export class AddrBook {
  readonly #ctx: BookContext
  readonly #index: PeerIndex
  readonly #limits: AddrLimits
  readonly #streams = new AddrStreams()

  constructor(ctx: BookContext, limits: AddrLimits) {
    this.#ctx = ctx
    this.#index = ctx.index
    this.#limits = limits
  }

  /** go `AddAddrs`: never lowers a stored TTL or expiry; `ttl <= 0` is a no-op. */
  async addAddrs(
    peer: PeerId,
    addrs: ReadonlyArray<Multiaddr | null | undefined>,
    ttl: number
  ): Promise<void> {
    this.#ctx.assertOpen()
    const key = this.#index.keyOf(peer)
    checkTtl(ttl)
    const list = normalizeAll(peer, addrs)
    if (ttl <= 0 || list.length === 0) return Promise.resolve()
    return this.#addAddrs(key, peer, list, ttl, false)
  }

  /** `ERR_TOO_MANY_ADDRS` when adding `list` at `ttl` could take the store past `maxAddrs`. */
  #checkStoreCap(key: string, list: readonly AddrToStore[], ttl: number): void {
    if (neverExpires(ttl) || ttl <= 0) return
    const index = this.#index
    // Counting the new ones costs a lookup each: only near the limit.
    if (index.unconnected + list.length <= this.#limits.maxAddrs) return
    const existing = index.get(key)
    let fresh = 0
    for (const { text } of list) if (existing?.addrs.has(text) !== true) fresh++
    if (index.unconnected + fresh > this.#limits.maxAddrs) {
      throw new PeerStoreError(
        'ERR_TOO_MANY_ADDRS',
        `the store holds its limit of ${this.#limits.maxAddrs} addrs (limits.maxAddrs)`
      )
    }
  }

  #addAddrs(
    key: string,
    peer: PeerId,
    list: readonly AddrToStore[],
    ttl: number,
    certified: boolean
  ): Promise<void> {
    const index = this.#index
    const now = this.#ctx.now()
    this.#checkStoreCap(key, list, ttl)
    const entry = index.get(key) ?? index.entry(key, peer)
    const addrs = entry.addrs
    const expiry = expiryAfter(now, ttl)
    let changed = false
    let added = false
    for (const { ma, text: k } of list) {
      const i = addrs.indexOf(k)
      if (i >= 0 && addrs.liveAt(i, now)) {
        const oldTtl = addrs.ttlAt(i)
        const next = Math.max(oldTtl, ttl)
        const old = addrs.expiryAt(i)
        const later = compareExpiry(expiry, old) > 0
        const wasCertified = addrs.certifiedAt(i)
        if (next !== oldTtl || later || (certified && !wasCertified)) {
          index.updateAddrAt(entry, i, next, later ? expiry : old, wasCertified || certified)
          changed = true
        }
        continue
      }
      let at = i >= 0 ? i : -i - 1
      if (i >= 0) index.deleteAddrAt(entry, i)
      if (!neverExpires(ttl)) {
        const freed = this.#makeRoom(entry)
        if (freed === NO_ROOM) continue
        if (freed >= 0 && freed < at) at--
      }
      index.insertAddrAt(entry, at, k, ma, ttl, expiry, certified)
      changed = true
      added = true
      this.#streams.announce(key, ma)
    }
    if (added) addrs.trim()
    if (!changed) return this.#ctx.settleUnchanged(key, entry)
    return this.#ctx.commit(key, ADDRS)
  }

  /** go `SetAddrs`: overwrites TTL and expiry (may lower them); `ttl <= 0` deletes the addrs. */
  async setAddrs(
    peer: PeerId,
    addrs: ReadonlyArray<Multiaddr | null | undefined>,
    ttl: number
  ): Promise<void> {
    this.#ctx.assertOpen()
    const key = this.#index.keyOf(peer)
    checkTtl(ttl)
    const list = normalizeAll(peer, addrs)
    if (list.length === 0) return Promise.resolve()
    const index = this.#index
    const now = this.#ctx.now()
    const entry = index.entry(key, peer)
    const stored = entry.addrs
    const expiry = expiryAfter(now, ttl)
    let added = false
    for (const { ma, text: k } of list) {
      const i = stored.indexOf(k)
      if (ttl <= 0) {
        if (i >= 0) index.deleteAddrAt(entry, i)
        continue
      }
      if (i >= 0) {
        const wasLive = stored.liveAt(i, now)
        index.updateAddrAt(entry, i, ttl, expiry, stored.certifiedAt(i))
        if (!wasLive) this.#streams.announce(key, ma)
        continue
      }
      let at = -i - 1
      if (!neverExpires(ttl)) {
        const freed = this.#makeRoom(entry)
        if (freed === NO_ROOM) continue
        if (freed >= 0 && freed < at) at--
      }
      index.insertAddrAt(entry, at, k, ma, ttl, expiry, false)
      added = true
      this.#streams.announce(key, ma)
    }
    if (added) stored.trim()
    forgetRecordWithoutAddrs(entry)
    return this.#ctx.commit(key, ADDRS)
  }

  /**
   * go `UpdateAddrs`: only addrs whose stored TTL equals `oldTtl`. `newTtl` 0 deletes them; a negative
   * `newTtl` expires them at once but keeps them (with that TTL) until GC, as go does: the peer keeps its
   * signed record until then, so an older record cannot replace it.
   */
  async updateAddrs(peer: PeerId, oldTtl: number, newTtl: number): Promise<void> {
    this.#ctx.assertOpen()
    const key = this.#index.keyOf(peer)
    checkTtl(oldTtl)
    checkTtl(newTtl)
    const index = this.#index
    const entry = index.get(key)
    if (entry == null) return Promise.resolve()
    const now = this.#ctx.now()
    const addrs = entry.addrs
    // -Infinity would not survive JSON; any negative TTL means "expired now" all the same.
    const ttl = Math.max(newTtl, -Number.MAX_VALUE)
    const expiry = expiryAfter(now, ttl)
    let changed = false
    // Backwards, so a delete does not move the addresses still to visit.
    for (let i = addrs.size - 1; i >= 0; i--) {
      if (addrs.ttlAt(i) !== oldTtl) continue
      changed = true
      if (newTtl === 0) index.deleteAddrAt(entry, i)
      else index.updateAddrAt(entry, i, ttl, expiry, addrs.certifiedAt(i))
    }
    if (!changed) return Promise.resolve()
    forgetRecordWithoutAddrs(entry)
    return this.#ctx.commit(key, ADDRS)
  }

  /** Deletes every address of the peer and its signed record. */
  async clearAddrs(peer: PeerId): Promise<void> {
    this.#ctx.assertOpen()
    const key = this.#index.keyOf(peer)
    const entry = this.#index.get(key)
    if (entry == null || (entry.addrs.size === 0 && entry.record == null)) return Promise.resolve()
    this.deleteAll(entry)
    entry.record = undefined
    return this.#ctx.commit(key, ADDRS)
  }

  /** Unexpired addresses with their TTL, expiry and certified flag, in insertion order. */
  addrInfos(peer: PeerId): AddrInfo[] {
    const entry = this.#index.find(peer)
    if (entry == null) return []
    const now = this.#ctx.now()
    const addrs = entry.addrs
    const out: AddrInfo[] = []
    for (let i = 0; i < addrs.size; i++) if (addrs.liveAt(i, now)) out.push(addrs.infoAt(i))
    return out
  }

  /** Unexpired addresses, in insertion order. */
  addrs(peer: PeerId): Multiaddr[] {
    const entry = this.#index.find(peer)
    if (entry == null) return []
    const now = this.#ctx.now()
    const addrs = entry.addrs
    const out: Multiaddr[] = []
    for (let i = 0; i < addrs.size; i++) if (addrs.liveAt(i, now)) out.push(addrs.multiaddrAt(i))
    return out
  }

  /** Peers with at least one unexpired address. */
  peersWithAddrs(): PeerId[] {
    const now = this.#ctx.now()
    const out: PeerId[] = []
    for (const entry of this.#index.values()) {
      const addrs = entry.addrs
      for (let i = 0; i < addrs.size; i++) {
        if (addrs.liveAt(i, now)) {
          out.push(entry.id)
          break
        }
      }
    }
    return out
  }

  /**
   * Current addrs (loopback, then non-TCP, then TCP), then each new one as it is added, each at most once,
   * until `signal` aborts.
   */
  addrStream(peer: PeerId, options: { signal?: AbortSignal } = {}): AsyncGenerator<Multiaddr> {
    const ctx = this.#ctx
    return this.#streams.stream(
      peer,
      () => this.addrs(peer),
      () => ctx.isClosed(),
      options
    )
  }

  /** Ends every address stream (the store is closing). */
  closeStreams(): void {
    this.#streams.wakeAll()
  }

  /**
   * Verifies a signed peer record envelope and stores its addresses as certified at `ttl`. A lower
   * sequence number than the stored one returns false; an equal one is accepted (it refreshes the TTL).
   * The previous record's addrs missing from the new one are dropped unless connected (go-libp2p v0.52.0).
   */
  async consumePeerRecord(envelope: Uint8Array, ttl: number, expectedPeer?: PeerId): Promise<boolean> {
    this.#ctx.assertOpen()
    checkTtl(ttl)
    if (!(envelope instanceof Uint8Array)) {
      throw new PeerStoreError('ERR_INVALID_PEER_RECORD', 'the envelope must be a Uint8Array')
    }
    // What is verified is what is stored, whatever the caller does with its buffer meanwhile.
    const bytes = copyBytes(envelope)
    let record: PeerRecord
    let signer: PeerId
    try {
      const env = await RecordEnvelope.openAndCertify(bytes, PeerRecord.DOMAIN)
      signer = peerIdFromPublicKey(env.publicKey)
      record = PeerRecord.createFromProtobuf(env.payload)
    } catch (err) {
      throw new PeerStoreError('ERR_INVALID_PEER_RECORD', 'unable to process envelope: not a PeerRecord', {
        cause: err
      })
    }
    if (!record.peerId.equals(signer)) {
      throw new PeerStoreError('ERR_INVALID_PEER_RECORD', 'signing key does not match PeerID in PeerRecord')
    }
    if (expectedPeer != null && !expectedPeer.equals(signer)) return false
    const index = this.#index
    const key = signer.toString()
    const stored = index.get(key)?.record
    if (stored != null && stored.seq > record.seqNumber) return false
    const list = record.multiaddrs.map((ma) => normalize(signer, ma)).filter((ma) => ma != null)
    // Refused before anything changes (the addrs it replaces are only dropped below).
    this.#checkStoreCap(key, list, ttl)
    // Past the await above: a write that fails from here on puts the entry back as it is now.
    this.#ctx.undoPoint(key)
    const entry = index.entry(key, signer)
    if (stored != null) this.#dropReplacedRecordAddrs(entry, stored.envelope, record)
    entry.record = { seq: record.seqNumber, envelope: bytes }
    if (ttl > 0) await this.#addAddrs(key, signer, list, ttl, true)
    this.#ctx.undoPoint(key)
    forgetRecordWithoutAddrs(entry)
    await this.#ctx.commit(key, ADDRS)
    return true
  }

  /** go v0.52.0 (#3487): the previous record's addrs that the new one lacks go (`recordAddrsDroppedBy`). */
  #dropReplacedRecordAddrs(entry: PeerEntry, previous: Uint8Array, next: PeerRecord): void {
    for (const k of recordAddrsDroppedBy(entry, previous, next)) this.#index.deleteAddr(entry, k)
  }

  /** The stored signed envelope, or undefined when the peer has no unexpired address. */
  peerRecord(peer: PeerId): Uint8Array | undefined {
    const entry = this.#index.find(peer)
    if (entry?.record == null) return undefined
    return this.addrs(peer).length === 0 ? undefined : entry.record.envelope.slice()
  }

  /** The stored record's sequence number. */
  peerRecordSeq(peer: PeerId): bigint | undefined {
    return this.#index.find(peer)?.record?.seq
  }

  /** Deletes every address of an entry (the signed record is the caller's to drop). */
  deleteAll(entry: PeerEntry): void {
    for (let i = entry.addrs.size - 1; i >= 0; i--) this.#index.deleteAddrAt(entry, i)
  }

  /**
   * Takes in an entry whose addresses a caller edited directly (`mutate`, the libp2p view): puts them back in
   * order, recounts them, announces the new ones, and drops the signed record if none is left.
   */
  adoptEdited(key: string, entry: PeerEntry, before: AddrList, now: number): void {
    const addrs = entry.addrs
    if (addrs.size > before.size) addrs.trim()
    this.#index.adoptAddrs(entry, before)
    for (let i = 0; i < addrs.size; i++) {
      // New, or live again: what go announces.
      const was = before.indexOf(addrs.keyAt(i))
      if ((was < 0 || !before.liveAt(was, now)) && addrs.liveAt(i, now)) {
        this.#streams.announce(key, addrs.multiaddrAt(i))
      }
    }
    forgetRecordWithoutAddrs(entry)
  }

  /**
   * Makes room under the per-peer cap: the position of the address it evicted, `ROOM` when there was room, or
   * `NO_ROOM` when the new address must be dropped. As go v0.52.0: expired,
   * not yet collected addrs count too and go first (theirs is the nearest expiry); they are not all dropped,
   * since go's `UpdateAddrs` can still bring them back. Ties go to the first in key order (go's is map order).
   */
  #makeRoom(entry: PeerEntry): number {
    const max = this.#limits.maxAddrsPerPeer
    if (max <= 0) return ROOM
    const addrs = entry.addrs
    let count = 0
    let victim = -1
    let victimExpiry: Expiring = { expiresAt: Number.POSITIVE_INFINITY }
    for (let i = 0; i < addrs.size; i++) {
      if (neverExpires(addrs.ttlAt(i))) continue
      count++
      if (addrs.expiresAt(i) > victimExpiry.expiresAt) continue
      const expiry = addrs.expiryAt(i)
      if (compareExpiry(expiry, victimExpiry) < 0) {
        victimExpiry = expiry
        victim = i
      }
    }
    if (count < max) return ROOM
    if (victim < 0) return NO_ROOM
    this.#index.deleteAddrAt(entry, victim)
    return victim
  }
}
