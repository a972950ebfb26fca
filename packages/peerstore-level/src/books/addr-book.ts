// The address book, with go-libp2p's TTL rules: `AddAddrs` never lowers a stored TTL or expiry, `SetAddrs`
// overwrites them, `UpdateAddrs` moves addresses from one TTL class to another, expired addresses are invisible to
// reads (GC removes them later). Connected and Permanent addresses never expire. Also here: the address stream,
// signed peer records (their addresses are certified), and the limits: `maxAddrsPerPeer` unconnected addresses per
// peer (the nearest expiry is evicted) and `maxAddrs` in the whole store.

import type { PeerId } from '@libp2p/interface'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { isMultiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { copyBytes } from '../bytes.ts'
import { neverExpires } from '../constants.ts'
import { PeerStoreError } from '../errors.ts'
import { compareExpiry, type Expiring, expiryAfter, isLive } from '../expiry.ts'
import { type PeerIndex, peerKey } from '../peer-index.ts'
import { storableAddrText } from '../persistence/stored-multiaddr.ts'
import { type AddrInfo, addrInfo, keepAddrOrder, type PeerEntry, type RecordKind } from '../types.ts'
import { AddrStreams } from './addr-stream.ts'
import type { BookContext } from './context.ts'

const ADDRS: readonly RecordKind[] = ['addrs']

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

/**
 * Strips our own `/p2p/<id>` suffix; undefined for nil addrs, addrs naming another peer, and a bare
 * `/p2p/<id>` (nothing is left to dial once the suffix is gone; go skips it too).
 */
function normalize(peer: PeerId, ma: Multiaddr | null | undefined): Multiaddr | undefined {
  if (ma == null) return undefined
  if (!isMultiaddr(ma)) throw new PeerStoreError('ERR_INVALID_MULTIADDR', `not a multiaddr: ${String(ma)}`)
  const components = ma.getComponents()
  const last = components[components.length - 1]
  if (last?.name !== 'p2p') return storable(ma)
  if (last.value !== peer.toString() || components.length === 1) return undefined
  return storable(ma.decapsulateCode(421))
}

/** `ma`, when its text reads back as the same multiaddr (the text is what is stored); else `ERR_INVALID_MULTIADDR`. */
function storable(ma: Multiaddr): Multiaddr {
  if (storableAddrText(ma) === undefined) {
    throw new PeerStoreError(
      'ERR_INVALID_MULTIADDR',
      `the multiaddr ${JSON.stringify(ma.toString().slice(0, 200))} does not read back as itself from its text`
    )
  }
  return ma
}

function normalizeAll(peer: PeerId, addrs: ReadonlyArray<Multiaddr | null | undefined>): Multiaddr[] {
  if (!Array.isArray(addrs)) throw new PeerStoreError('ERR_INVALID_MULTIADDR', 'addrs must be an array')
  const out: Multiaddr[] = []
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
    const a = entry.addrs.get(k)
    if (a != null && !kept.has(k) && !neverExpires(a.ttl)) dropped.push(k)
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
    const key = peerKey(peer)
    checkTtl(ttl)
    const list = normalizeAll(peer, addrs)
    if (ttl <= 0 || list.length === 0) return Promise.resolve()
    return this.#addAddrs(key, peer, list, ttl, false)
  }

  /** `ERR_TOO_MANY_ADDRS` when adding `list` at `ttl` could take the store past `maxAddrs`. */
  #checkStoreCap(key: string, list: Multiaddr[], ttl: number): void {
    if (neverExpires(ttl) || ttl <= 0) return
    const existing = this.#index.get(key)
    let fresh = 0
    for (const ma of list) if (existing?.addrs.has(ma.toString()) !== true) fresh++
    if (this.#index.unconnected + fresh > this.#limits.maxAddrs) {
      throw new PeerStoreError(
        'ERR_TOO_MANY_ADDRS',
        `the store holds its limit of ${this.#limits.maxAddrs} addrs (limits.maxAddrs)`
      )
    }
  }

  #addAddrs(key: string, peer: PeerId, list: Multiaddr[], ttl: number, certified: boolean): Promise<void> {
    const index = this.#index
    const now = this.#ctx.now()
    this.#checkStoreCap(key, list, ttl)
    const entry = index.entry(key, peer)
    const expiry = expiryAfter(now, ttl)
    let changed = false
    for (const ma of list) {
      const k = ma.toString()
      const old = entry.addrs.get(k)
      if (old != null && isLive(old, now)) {
        const next = Math.max(old.ttl, ttl)
        const later = compareExpiry(expiry, old) > 0
        if (next !== old.ttl || later || (certified && !old.certified)) {
          index.setAddr(
            entry,
            k,
            addrInfo(old.multiaddr, next, later ? expiry : old, old.certified || certified)
          )
          changed = true
        }
        continue
      }
      if (old != null) index.deleteAddr(entry, k)
      if (!neverExpires(ttl) && !this.#makeRoom(entry)) continue
      index.setAddr(entry, k, addrInfo(ma, ttl, expiry, certified))
      changed = true
      this.#streams.announce(key, ma)
    }
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
    const key = peerKey(peer)
    checkTtl(ttl)
    const list = normalizeAll(peer, addrs)
    if (list.length === 0) return Promise.resolve()
    const index = this.#index
    const now = this.#ctx.now()
    const entry = index.entry(key, peer)
    for (const ma of list) {
      const k = ma.toString()
      const old = entry.addrs.get(k)
      if (ttl <= 0) {
        index.deleteAddr(entry, k)
        continue
      }
      if (old == null && !neverExpires(ttl) && !this.#makeRoom(entry)) continue
      index.setAddr(
        entry,
        k,
        addrInfo(old?.multiaddr ?? ma, ttl, expiryAfter(now, ttl), old?.certified ?? false)
      )
      if (old == null || !isLive(old, now)) this.#streams.announce(key, ma)
    }
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
    const key = peerKey(peer)
    checkTtl(oldTtl)
    checkTtl(newTtl)
    const index = this.#index
    const entry = index.get(key)
    if (entry == null) return Promise.resolve()
    const now = this.#ctx.now()
    let changed = false
    for (const [k, a] of [...entry.addrs]) {
      if (a.ttl !== oldTtl) continue
      changed = true
      if (newTtl === 0) index.deleteAddr(entry, k)
      else index.setAddr(entry, k, addrInfo(a.multiaddr, newTtl, expiryAfter(now, newTtl), a.certified))
    }
    if (!changed) return Promise.resolve()
    forgetRecordWithoutAddrs(entry)
    return this.#ctx.commit(key, ADDRS)
  }

  /** Deletes every address of the peer and its signed record. */
  async clearAddrs(peer: PeerId): Promise<void> {
    this.#ctx.assertOpen()
    const key = peerKey(peer)
    const entry = this.#index.get(key)
    if (entry == null || (entry.addrs.size === 0 && entry.record == null)) return Promise.resolve()
    this.deleteAll(entry)
    entry.record = undefined
    return this.#ctx.commit(key, ADDRS)
  }

  /** Unexpired addresses with their TTL, expiry and certified flag, in insertion order. */
  addrInfos(peer: PeerId): AddrInfo[] {
    const entry = this.#index.get(peerKey(peer))
    if (entry == null) return []
    const now = this.#ctx.now()
    const out: AddrInfo[] = []
    for (const a of entry.addrs.values()) if (isLive(a, now)) out.push({ ...a })
    return out
  }

  /** Unexpired addresses, in insertion order. */
  addrs(peer: PeerId): Multiaddr[] {
    return this.addrInfos(peer).map((a) => a.multiaddr)
  }

  /** Peers with at least one unexpired address. */
  peersWithAddrs(): PeerId[] {
    const now = this.#ctx.now()
    const out: PeerId[] = []
    for (const entry of this.#index.values()) {
      for (const a of entry.addrs.values()) {
        if (isLive(a, now)) {
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
    const entry = this.#index.get(peerKey(peer))
    if (entry?.record == null) return undefined
    return this.addrs(peer).length === 0 ? undefined : entry.record.envelope.slice()
  }

  /** The stored record's sequence number. */
  peerRecordSeq(peer: PeerId): bigint | undefined {
    return this.#index.get(peerKey(peer))?.record?.seq
  }

  /** Deletes every address of an entry (the signed record is the caller's to drop). */
  deleteAll(entry: PeerEntry): void {
    for (const k of [...entry.addrs.keys()]) this.#index.deleteAddr(entry, k)
  }

  /**
   * Takes in an entry whose addresses a caller edited directly (`mutate`, the libp2p view): puts them back in
   * order, recounts them, announces the new ones, and drops the signed record if none is left.
   */
  adoptEdited(key: string, entry: PeerEntry, before: ReadonlyMap<string, AddrInfo>): void {
    keepAddrOrder(entry.addrs)
    this.#index.adoptAddrs(entry, before)
    for (const [k, a] of entry.addrs) if (before.get(k) !== a) this.#streams.announce(key, a.multiaddr)
    forgetRecordWithoutAddrs(entry)
  }

  /**
   * Makes room under the per-peer cap; false when the new address must be dropped. As go v0.52.0: expired,
   * not yet collected addrs count too and go first (theirs is the nearest expiry); they are not all dropped,
   * since go's `UpdateAddrs` can still bring them back. Ties go to the first in key order (go's is map order).
   */
  #makeRoom(entry: PeerEntry): boolean {
    const max = this.#limits.maxAddrsPerPeer
    if (max <= 0) return true
    let count = 0
    let victim: string | undefined
    let victimExpiry: Expiring = { expiresAt: Number.POSITIVE_INFINITY }
    for (const [key, a] of entry.addrs) {
      if (neverExpires(a.ttl)) continue
      count++
      if (compareExpiry(a, victimExpiry) < 0) {
        victimExpiry = a
        victim = key
      }
    }
    if (count < max) return true
    if (victim == null) return false
    this.#index.deleteAddr(entry, victim)
    return true
  }
}
