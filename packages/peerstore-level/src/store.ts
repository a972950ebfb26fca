// The peer store: an in-memory index serves every read; every write marks the touched records dirty and
// resolves once a LevelDB batch holding them has been written (write-through). Dirty records are coalesced
// into one batch per flush, so concurrent writers share batches and one change is always atomic.

import type { PeerId, PrivateKey, PublicKey } from '@libp2p/interface'
import { isPeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey, peerIdFromPublicKey } from '@libp2p/peer-id'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { isMultiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { AbstractLevel, AbstractSublevel } from 'abstract-level'
import { decodeRecord, encodeRecord } from './codec.ts'
import {
  ConnectedAddrTTL,
  DEFAULT_GC_INTERVAL,
  DEFAULT_GC_SLICE_MS,
  DEFAULT_MAX_ADDRS,
  DEFAULT_MAX_ADDRS_PER_PEER,
  DEFAULT_MAX_PROTOCOLS,
  LatencyEWMASmoothing,
  neverExpires,
  RecentlyConnectedAddrTTL
} from './constants.ts'
import { PeerStoreError } from './errors.ts'
import { internNames } from './intern.ts'
import { JOURNAL_BACKLOG_LIMIT, Journal } from './journal.ts'
import { agedOut, isValidMaxPeerAge, keptByAge, stampMoves, stampStep } from './peer-age.ts'
import { peerIdFromKey } from './peer-key.ts'
import { assertNotOrphaned, corruptOnOpen, mendDamagedTables, readAll } from './scan.ts'
import { exportStore, importRustAddrBook, importStore, type PeerStoreExport } from './transfer.ts'
import {
  type AddrInfo,
  editMetadata,
  editPins,
  editTags,
  type GcStats,
  type JsonValue,
  keepAddrOrder,
  type MendedTable,
  type MetadataValue,
  newEntry,
  noEntries,
  type OpenReport,
  type PeerEntry,
  RECORD_KINDS,
  type RecordKind,
  type TagEntry
} from './types.ts'

// biome-ignore lint/suspicious/noExplicitAny: abstract-level's generics differ per backend
export type AnyLevel = AbstractLevel<any, string, string>
type Sub = AbstractSublevel<AnyLevel, string | Buffer | Uint8Array, string, string>

export interface PeerStoreLimits {
  /** Distinct protocols per peer (default 128). */
  maxProtocols?: number
  /** Unconnected addresses per peer; the nearest expiry is evicted (default 64, 0 = off). */
  maxAddrsPerPeer?: number
  /** Unconnected addresses in the whole store; past it `addAddrs` throws `ERR_TOO_MANY_ADDRS` (default 1e6). */
  maxAddrs?: number
}

export interface GcOptions {
  /** Period of the background GC in ms (default 10 min, 0 = no background GC). */
  interval?: number
  /** Longest synchronous slice in ms before GC yields to the event loop (default 4). */
  sliceMs?: number
  /** Remove peers that have nothing left to keep them (default true); see README "GC rule". */
  removeBarePeers?: boolean
  /**
   * A peer with no unexpired address (not pinned, not the local peer) is kept this long (ms) after its last
   * write; 0 (the default) = no ageing, it goes with its last address. A `Libp2pPeerStore` raises it to its own
   * `maxPeerAge` (6 h by default). The rule: src/peer-age.ts.
   */
  maxPeerAge?: number
}

export interface OpenPeerStoreInit {
  /** Directory of a LevelDB database (opened with `level`). Ignored when `db` is given. */
  path?: string
  /** Any abstract-level database, e.g. `new MemoryLevel()`. The store opens it and closes it on `close()`. */
  db?: AnyLevel
  /** Epoch ms; injectable for tests. */
  clock?: () => number
  peerId?: PeerId
  privateKey?: PrivateKey
  limits?: PeerStoreLimits
  gc?: GcOptions
}

interface Flush {
  promise: Promise<void>
  resolve: () => void
  reject: (err: unknown) => void
}

/** Called with each new address, or with nothing to wake streams on close. */
type AddrListener = (ma?: Multiaddr) => void

const GC_MAX_DIRTY = 256
/** Peers whose records go into one LevelDB batch when a flush has more to write. */
const FLUSH_PEERS_PER_BATCH = 500

/** Bit of each record kind in a dirty mask. */
const KIND_BIT: Record<RecordKind, number> = {
  addrs: 1,
  keys: 2,
  protos: 4,
  meta: 8,
  tags: 16,
  pins: 32,
  seen: 64
}

/** The records of one peer that changed and are not in LevelDB yet. */
interface DirtyRecords {
  /** `KIND_BIT`s of the changed kinds. */
  mask: number
  /**
   * By kind: the value the journal was given for the current state (`null` = delete), so the flush does not
   * encode it again; `undefined` when it changed since (the flush encodes it then).
   */
  encoded: Partial<Record<RecordKind, string | null>>
}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

function isBare(entry: PeerEntry): boolean {
  return (
    entry.addrs.size === 0 &&
    entry.record == null &&
    entry.publicKey == null &&
    entry.protocols.length === 0 &&
    entry.metadata.size === 0 &&
    entry.tags.size === 0 &&
    entry.pins.size === 0 &&
    entry.latency == null
  )
}

/** The record kinds that currently hold a value for this entry (so deletes touch only those keys). */
function presentKinds(entry: PeerEntry): RecordKind[] {
  const kinds: RecordKind[] = []
  if (entry.addrs.size > 0 || entry.record != null) kinds.push('addrs')
  if (entry.publicKey != null) kinds.push('keys')
  if (entry.protocols.length > 0) kinds.push('protos')
  if (entry.metadata.size > 0) kinds.push('meta')
  if (entry.tags.size > 0) kinds.push('tags')
  if (entry.pins.size > 0) kinds.push('pins')
  if (entry.updated !== undefined) kinds.push('seen')
  return kinds
}

/**
 * Metadata values are bytes or JSON: anything else (functions, symbols, cycles, BigInt) is refused. The value
 * kept is the JSON round trip, which is exactly what a reopened store reads back (NaN and Infinity become null).
 */
function jsonCopy(value: unknown): JsonValue {
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
  return JSON.parse(text) as JsonValue
}

function checkTtl(ttl: number): void {
  if (typeof ttl !== 'number' || Number.isNaN(ttl)) {
    throw new PeerStoreError('ERR_INVALID_TTL', `TTL must be a number of ms, got ${String(ttl)}`)
  }
}

/** Opens (and loads) a peer store. Fails with `ERR_DB_LOCKED` if another process holds the LevelDB. */
export async function openPeerStore(init: OpenPeerStoreInit = {}): Promise<LevelPeerStore> {
  let db = init.db
  let mended: MendedTable[] = []
  if (db == null) {
    if (init.path == null) {
      throw new PeerStoreError('ERR_INVALID_ARGUMENT', 'openPeerStore needs `path` or `db`')
    }
    await assertNotOrphaned(init.path)
    // LevelDB must never parse a block that fails its checksum: it can abort the process (see table-file.ts).
    mended = (await mendDamagedTables(init.path)).mended
    const { Level } = await import('level')
    db = new Level<string, string>(init.path) as unknown as AnyLevel
  }
  try {
    await db.open()
  } catch (err) {
    const e = err as { code?: string; cause?: { code?: string } }
    const where = init.path ?? 'the given database'
    if (e.cause?.code === 'LEVEL_LOCKED' || e.code === 'LEVEL_LOCKED') {
      throw new PeerStoreError('ERR_DB_LOCKED', `peer store at ${where} is locked by another process`, {
        cause: err
      })
    }
    const corrupt = corruptOnOpen(err, where)
    if (corrupt != null) throw corrupt
    throw new PeerStoreError('ERR_DB_OPEN', `cannot open peer store at ${where}`, { cause: err })
  }
  // A database opened by path is ours alone (LevelDB's lock is held now), so it gets the write-ahead journal.
  let journal: Journal | undefined
  try {
    journal = init.db == null && init.path != null ? new Journal(init.path) : undefined
  } catch (err) {
    await db.close()
    throw new PeerStoreError('ERR_DB_OPEN', `cannot open the journal of the peer store at ${init.path}`, {
      cause: err
    })
  }
  const store = new LevelPeerStore(db, init, journal)
  try {
    await store.load(mended)
  } catch (err) {
    journal?.close()
    await db.close()
    throw err
  }
  return store
}

export class LevelPeerStore {
  readonly #db: AnyLevel
  readonly #subs: Record<RecordKind, Sub>
  readonly #quarantine: Sub
  readonly #index = new Map<string, PeerEntry>()
  readonly #clock: () => number
  readonly #maxProtocols: number
  readonly #maxAddrsPerPeer: number
  readonly #maxAddrs: number
  readonly #gcInterval: number
  readonly #gcSliceMs: number
  readonly #removeBarePeers: boolean
  #maxPeerAge: number
  /** Local peers of libp2p views on this store (by text), never removed by GC, as `selfId`. */
  readonly #localPeers = new Set<string>()
  readonly #selfId: PeerId | undefined
  readonly #privateKey: PrivateKey | undefined
  readonly #listeners = new Map<string, Set<AddrListener>>()
  readonly #changeListeners = new Set<(entry: PeerEntry) => void>()
  /** Records changed and not yet in LevelDB, by peer key. */
  #dirty = new Map<string, DirtyRecords>()
  #nextFlush: Flush | undefined
  #flushing = false
  /** The last flush loop started; settled once it ran out of work. */
  #flushLoopDone: Promise<void> | undefined
  readonly #journal: Journal | undefined
  #unconnected = 0
  #gcRun: Promise<GcStats> | undefined
  #gcTimer: ReturnType<typeof setInterval> | undefined
  #closed = false
  #report: OpenReport = { peers: 0, quarantined: [], downgraded: 0, unreadable: [], mended: [] }

  /** @internal Made by `openPeerStore`. */
  constructor(db: AnyLevel, init: OpenPeerStoreInit, journal?: Journal) {
    this.#db = db
    this.#journal = journal
    const subs = {} as Record<RecordKind, Sub>
    for (const kind of RECORD_KINDS) {
      subs[kind] = db.sublevel<string, string>(kind, { keyEncoding: 'utf8', valueEncoding: 'utf8' }) as Sub
    }
    this.#subs = subs
    this.#quarantine = db.sublevel<string, string>('quarantine', {
      keyEncoding: 'utf8',
      valueEncoding: 'utf8'
    }) as Sub
    this.#clock = init.clock ?? Date.now
    this.#maxProtocols = init.limits?.maxProtocols ?? DEFAULT_MAX_PROTOCOLS
    this.#maxAddrsPerPeer = init.limits?.maxAddrsPerPeer ?? DEFAULT_MAX_ADDRS_PER_PEER
    this.#maxAddrs = init.limits?.maxAddrs ?? DEFAULT_MAX_ADDRS
    this.#gcInterval = init.gc?.interval ?? DEFAULT_GC_INTERVAL
    this.#gcSliceMs = init.gc?.sliceMs ?? DEFAULT_GC_SLICE_MS
    this.#removeBarePeers = init.gc?.removeBarePeers ?? true
    const maxPeerAge = init.gc?.maxPeerAge ?? 0
    if (!isValidMaxPeerAge(maxPeerAge)) {
      throw new PeerStoreError(
        'ERR_INVALID_ARGUMENT',
        `gc.maxPeerAge must be a number of ms >= 0, got ${String(maxPeerAge)}`
      )
    }
    this.#maxPeerAge = maxPeerAge
    this.#privateKey = init.privateKey
    this.#selfId =
      init.peerId ?? (init.privateKey != null ? peerIdFromPrivateKey(init.privateKey) : undefined)
    if (init.privateKey != null && init.peerId != null && !init.peerId.equals(this.#selfId)) {
      throw new PeerStoreError('ERR_PRIVATE_KEY_NOT_ALLOWED', 'privateKey does not match peerId')
    }
  }

  /** What the last open found: peers loaded, records quarantined, Connected addrs downgraded. */
  get openReport(): OpenReport {
    return structuredClone(this.#report)
  }

  get selfId(): PeerId | undefined {
    return this.#selfId
  }

  /** How long a peer with no unexpired address is kept after its last write (ms; 0 = no ageing). */
  get maxPeerAge(): number {
    return this.#maxPeerAge
  }

  /**
   * @internal Raises `maxPeerAge` to at least `ms` (never lowers it), and exempts `localPeer` from GC as the
   * store's own `peerId` is: a libp2p view calls it with its own, so GC never deletes a peer that a view still
   * shows.
   */
  retainPeersFor(ms: number, localPeer?: PeerId): void {
    if (!isValidMaxPeerAge(ms)) {
      throw new PeerStoreError('ERR_INVALID_ARGUMENT', `maxPeerAge must be a number of ms >= 0, got ${ms}`)
    }
    this.#maxPeerAge = Math.max(this.#maxPeerAge, ms)
    if (localPeer != null) this.#localPeers.add(this.#key(localPeer))
  }

  /** @internal Loads every sublevel into the index; called once by `openPeerStore`. */
  async load(mended: MendedTable[] = []): Promise<void> {
    const now = this.#clock()
    const quarantined: OpenReport['quarantined'] = []
    const bad: Array<{ kind: RecordKind; key: string; value: string }> = []
    const unreadable: OpenReport['unreadable'] = []
    await this.#replayJournal()
    for (const kind of RECORD_KINDS) {
      // Read in chunks of 1000; a damaged table file costs only the records LevelDB cannot read.
      const damage = await readAll<string, string>(kind, this.#subs[kind], (chunk) => {
        for (const [key, value] of chunk) {
          let entry = this.#index.get(key)
          try {
            if (entry == null) entry = newEntry(peerIdFromKey(key))
            decodeRecord(kind, value, entry)
            this.#index.set(key, entry)
          } catch (err) {
            quarantined.push({ kind, key, reason: (err as Error).message })
            bad.push({ kind, key, value })
          }
        }
      })
      if (damage != null) unreadable.push(damage)
    }
    let downgraded = 0
    for (const [key, entry] of this.#index) {
      // Written before per-peer times were stored: it counts as written now, once (the time is saved).
      if (entry.updated === undefined) {
        entry.updated = now
        this.#markDirty(key, 'seen')
      }
      let changed = false
      for (const a of entry.addrs.values()) {
        // The connections died with the process that held them.
        if (a.ttl === ConnectedAddrTTL) {
          a.ttl = RecentlyConnectedAddrTTL
          a.expiresAt = now + RecentlyConnectedAddrTTL
          downgraded++
          changed = true
        }
        if (!neverExpires(a.ttl)) this.#unconnected++
      }
      if (changed) this.#markDirty(key, 'addrs')
    }
    if (bad.length > 0) {
      const ops = bad.flatMap(({ kind, key, value }) => [
        { type: 'put' as const, sublevel: this.#quarantine, key: `${kind}/${key}`, value },
        { type: 'del' as const, sublevel: this.#subs[kind], key }
      ])
      await this.#db.batch(ops)
    }
    this.#report = { peers: this.#index.size, quarantined, downgraded, unreadable, mended }
    if (this.#dirty.size > 0) await this.#requestFlush()
    if (this.#gcInterval > 0) {
      this.#gcTimer = setInterval(() => {
        this.gc().catch(() => {})
      }, this.#gcInterval)
      this.#gcTimer.unref()
    }
  }

  /** Raw values moved aside by `load` because they could not be decoded, keyed `<kind>/<peer>`. */
  async quarantined(): Promise<Array<{ key: string; value: string }>> {
    const out: Array<{ key: string; value: string }> = []
    for await (const [key, value] of this.#quarantine.iterator()) out.push({ key, value })
    return out
  }

  // --- write path -------------------------------------------------------------------------------

  #markDirty(key: string, ...kinds: RecordKind[]): void {
    let dirty = this.#dirty.get(key)
    if (dirty == null) {
      dirty = { mask: 0, encoded: {} }
      this.#dirty.set(key, dirty)
    }
    for (const kind of kinds) {
      dirty.mask |= KIND_BIT[kind]
      dirty.encoded[kind] = undefined
    }
    // Every persisted change passes here, so it is the one place read caches learn of it.
    if (this.#changeListeners.size > 0) {
      const entry = this.#index.get(key)
      if (entry != null) for (const fn of this.#changeListeners) fn(entry)
    }
  }

  /** Writes what the journal holds (writes acknowledged before a crash) into LevelDB, then empties it. */
  async #replayJournal(): Promise<void> {
    const journal = this.#journal
    if (journal == null) return
    const ops = journal
      .pending()
      .map(({ kind, key, value }) =>
        value == null
          ? { type: 'del' as const, sublevel: this.#subs[kind], key }
          : { type: 'put' as const, sublevel: this.#subs[kind], key, value }
      )
    if (ops.length > 0) await this.#db.batch(ops)
    journal.clear()
  }

  #requestFlush(): Promise<void> {
    const pending = this.#nextFlush
    if (pending != null) return pending.promise
    const flush = Promise.withResolvers<void>()
    this.#nextFlush = flush
    if (!this.#flushing) {
      this.#flushing = true
      this.#flushLoopDone = this.#flushLoop()
    }
    return flush.promise
  }

  async #flushLoop(): Promise<void> {
    while (this.#nextFlush != null) {
      const flush = this.#nextFlush
      this.#nextFlush = undefined
      // Everything journaled so far is in `#dirty`: once it is all in LevelDB, its journal file can go.
      const release = this.#journal?.rotate()
      const dirty = this.#dirty
      this.#dirty = new Map()
      const pending = dirty.entries()
      try {
        // A bounded batch at a time, so a large backlog is never encoded in one long block of the event loop;
        // all records of one peer stay in one batch.
        for (;;) {
          const ops = []
          const batchPeers: string[] = []
          for (let next = pending.next(); !next.done; next = pending.next()) {
            const [key, { mask, encoded }] = next.value
            const entry = this.#index.get(key)
            for (const kind of RECORD_KINDS) {
              if ((mask & KIND_BIT[kind]) === 0) continue
              const journaled = encoded[kind]
              const value =
                journaled !== undefined ? journaled : entry == null ? undefined : encodeRecord(kind, entry)
              ops.push(
                value == null
                  ? { type: 'del' as const, sublevel: this.#subs[kind], key }
                  : { type: 'put' as const, sublevel: this.#subs[kind], key, value }
              )
            }
            batchPeers.push(key)
            if (batchPeers.length === FLUSH_PEERS_PER_BATCH) break
          }
          if (ops.length === 0) break
          await this.#db.batch(ops)
          for (const key of batchPeers) dirty.delete(key)
        }
        release?.()
        flush.resolve()
      } catch (err) {
        // The journal still holds what did not land: write it again with the next batch (or on the next open).
        if (this.#journal != null) this.#markDirtyAgain(dirty)
        flush.reject(err)
      }
    }
    this.#flushing = false
  }

  /** Puts back the dirty marks a failed flush did not write (`failed` loses each batch's peers once it landed). */
  #markDirtyAgain(failed: Map<string, DirtyRecords>): void {
    for (const [key, { mask }] of failed) {
      // Encoded again by the next flush: simpler than deciding which of two encodings is the newer.
      const kinds = RECORD_KINDS.filter((kind) => (mask & KIND_BIT[kind]) !== 0)
      this.#markDirty(key, ...kinds)
    }
  }

  /** A change to the peer: its `updated` time moves to now (once per step, saved with it), then `#persist`. */
  #commit(key: string, ...kinds: RecordKind[]): Promise<void> {
    const entry = this.#index.get(key)
    if (entry != null) {
      const now = this.#clock()
      if (stampMoves(entry.updated, now, stampStep(this.#maxPeerAge))) {
        entry.updated = now
        if (!kinds.includes('seen')) kinds.push('seen')
      }
    }
    return this.#persist(key, ...kinds)
  }

  /** An entry holding nothing, not even a recent write time: it leaves the index. */
  #droppable(entry: PeerEntry): boolean {
    return isBare(entry) && !keptByAge(entry, this.#clock(), this.#maxPeerAge)
  }

  /** After a write that changed nothing: an entry left holding nothing leaves the index, its saved time too. */
  #settleUnchanged(key: string, entry: PeerEntry): Promise<void> {
    if (!this.#droppable(entry)) return Promise.resolve()
    if (entry.updated !== undefined) return this.#persist(key)
    this.#index.delete(key)
    return Promise.resolve()
  }

  /**
   * Marks records dirty, drops the peer from the index if it holds nothing, and makes the change durable: in
   * the journal at once when there is one (LevelDB follows in the background), else by awaiting the batch.
   */
  #persist(key: string, ...kinds: RecordKind[]): Promise<void> {
    const entry = this.#index.get(key)
    if (entry != null && this.#droppable(entry)) {
      this.#index.delete(key)
      // Its saved write time goes with it (it may not be among the kinds this change wrote).
      if (entry.updated !== undefined && !kinds.includes('seen')) kinds.push('seen')
    }
    this.#markDirty(key, ...kinds)
    const journal = this.#journal
    if (journal == null) return this.#requestFlush()
    const live = this.#index.get(key)
    const dirty = this.#dirty.get(key) as DirtyRecords
    const records = kinds.map((kind) => {
      const value = live == null ? undefined : encodeRecord(kind, live)
      dirty.encoded[kind] = value ?? null
      return { kind, key, value }
    })
    journal.append(records)
    const flushed = this.#requestFlush()
    if (journal.backlog > JOURNAL_BACKLOG_LIMIT) return flushed
    // Durable already; a failed batch keeps its records in the journal and is retried by the next flush.
    flushed.catch(() => {})
    return Promise.resolve()
  }

  // --- validation helpers -----------------------------------------------------------------------

  #open(): void {
    if (this.#closed) throw new PeerStoreError('ERR_CLOSED', 'the peer store is closed')
  }

  #key(peer: PeerId): string {
    if (!isPeerId(peer)) throw new PeerStoreError('ERR_INVALID_PEER_ID', 'expected a PeerId object')
    return peer.toString()
  }

  #entry(peer: PeerId): PeerEntry {
    const key = this.#key(peer)
    let entry = this.#index.get(key)
    if (entry == null) {
      entry = newEntry(peer)
      this.#index.set(key, entry)
    }
    return entry
  }

  /** Strips our own `/p2p/<id>` suffix; undefined for nil addrs or addrs naming another peer. */
  #normalize(peer: PeerId, ma: Multiaddr | null | undefined): Multiaddr | undefined {
    if (ma == null) return undefined
    if (!isMultiaddr(ma)) throw new PeerStoreError('ERR_INVALID_MULTIADDR', `not a multiaddr: ${String(ma)}`)
    const components = ma.getComponents()
    const last = components[components.length - 1]
    if (last?.name !== 'p2p') return ma
    if (last.value !== peer.toString()) return undefined
    return ma.decapsulateCode(421)
  }

  #alive(a: AddrInfo, now: number): boolean {
    return now < a.expiresAt
  }

  #deleteAddr(entry: PeerEntry, key: string): void {
    const a = entry.addrs.get(key)
    if (a == null) return
    if (!neverExpires(a.ttl)) this.#unconnected--
    entry.addrs.delete(key)
  }

  #setAddr(entry: PeerEntry, key: string, a: AddrInfo): void {
    const old = entry.addrs.get(key)
    if (old != null && !neverExpires(old.ttl)) this.#unconnected--
    if (!neverExpires(a.ttl)) this.#unconnected++
    entry.addrs.set(key, a)
    if (old == null) keepAddrOrder(entry.addrs)
  }

  #expiry(now: number, ttl: number): number {
    return neverExpires(ttl) ? Number.POSITIVE_INFINITY : now + ttl
  }

  /** Makes room under the per-peer cap; false when the new address must be dropped. */
  #makeRoom(entry: PeerEntry, now: number): boolean {
    if (this.#maxAddrsPerPeer <= 0) return true
    let count = 0
    let victim: string | undefined
    let victimExpiry = Number.POSITIVE_INFINITY
    for (const [key, a] of entry.addrs) {
      if (neverExpires(a.ttl)) continue
      if (!this.#alive(a, now)) {
        this.#deleteAddr(entry, key)
        continue
      }
      count++
      if (a.expiresAt < victimExpiry) {
        victimExpiry = a.expiresAt
        victim = key
      }
    }
    if (count < this.#maxAddrsPerPeer) return true
    if (victim == null) return false
    this.#deleteAddr(entry, victim)
    return true
  }

  #afterAddrChange(entry: PeerEntry): void {
    // A peer that loses its last address loses its signed record too (go's rule).
    if (entry.addrs.size === 0) entry.record = undefined
  }

  #announce(key: string, ma: Multiaddr): void {
    const set = this.#listeners.get(key)
    if (set != null) for (const fn of set) fn(ma)
  }

  #normalizeAll(peer: PeerId, addrs: ReadonlyArray<Multiaddr | null | undefined>): Multiaddr[] {
    if (!Array.isArray(addrs)) throw new PeerStoreError('ERR_INVALID_MULTIADDR', 'addrs must be an array')
    const out: Multiaddr[] = []
    for (const ma of addrs) {
      const n = this.#normalize(peer, ma)
      if (n != null) out.push(n)
    }
    return out
  }

  // --- AddrBook ---------------------------------------------------------------------------------

  /** go `AddAddrs`: never lowers a stored TTL or expiry; `ttl <= 0` is a no-op. */
  async addAddrs(
    peer: PeerId,
    addrs: ReadonlyArray<Multiaddr | null | undefined>,
    ttl: number
  ): Promise<void> {
    this.#open()
    const key = this.#key(peer)
    checkTtl(ttl)
    const list = this.#normalizeAll(peer, addrs)
    if (ttl <= 0 || list.length === 0) return Promise.resolve()
    return this.#addAddrs(key, peer, list, ttl, false)
  }

  #addAddrs(key: string, peer: PeerId, list: Multiaddr[], ttl: number, certified: boolean): Promise<void> {
    const now = this.#clock()
    const existing = this.#index.get(key)
    if (!neverExpires(ttl)) {
      let fresh = 0
      for (const ma of list) if (existing?.addrs.has(ma.toString()) !== true) fresh++
      if (this.#unconnected + fresh > this.#maxAddrs) {
        throw new PeerStoreError('ERR_TOO_MANY_ADDRS', `the store holds its limit of ${this.#maxAddrs} addrs`)
      }
    }
    const entry = this.#entry(peer)
    const expiresAt = this.#expiry(now, ttl)
    let changed = false
    for (const ma of list) {
      const k = ma.toString()
      const old = entry.addrs.get(k)
      if (old != null && this.#alive(old, now)) {
        const next = Math.max(old.ttl, ttl)
        const nextExpiry = Math.max(old.expiresAt, expiresAt)
        if (next !== old.ttl || nextExpiry !== old.expiresAt || (certified && !old.certified)) {
          this.#setAddr(entry, k, {
            multiaddr: old.multiaddr,
            ttl: next,
            expiresAt: nextExpiry,
            certified: old.certified || certified
          })
          changed = true
        }
        continue
      }
      if (old != null) this.#deleteAddr(entry, k)
      if (!neverExpires(ttl) && !this.#makeRoom(entry, now)) continue
      this.#setAddr(entry, k, { multiaddr: ma, ttl, expiresAt, certified })
      changed = true
      this.#announce(key, ma)
    }
    if (!changed) return this.#settleUnchanged(key, entry)
    return this.#commit(key, 'addrs')
  }

  /** go `SetAddrs`: overwrites TTL and expiry (may lower them); `ttl <= 0` deletes the addrs. */
  async setAddrs(
    peer: PeerId,
    addrs: ReadonlyArray<Multiaddr | null | undefined>,
    ttl: number
  ): Promise<void> {
    this.#open()
    const key = this.#key(peer)
    checkTtl(ttl)
    const list = this.#normalizeAll(peer, addrs)
    if (list.length === 0) return Promise.resolve()
    const now = this.#clock()
    const entry = this.#entry(peer)
    for (const ma of list) {
      const k = ma.toString()
      const old = entry.addrs.get(k)
      if (ttl <= 0) {
        this.#deleteAddr(entry, k)
        continue
      }
      if (old == null && !neverExpires(ttl) && !this.#makeRoom(entry, now)) continue
      this.#setAddr(entry, k, {
        multiaddr: old?.multiaddr ?? ma,
        ttl,
        expiresAt: this.#expiry(now, ttl),
        certified: old?.certified ?? false
      })
      if (old == null || !this.#alive(old, now)) this.#announce(key, ma)
    }
    this.#afterAddrChange(entry)
    return this.#commit(key, 'addrs')
  }

  /** go `UpdateAddrs`: only addrs whose stored TTL equals `oldTtl`; `newTtl <= 0` deletes them. */
  async updateAddrs(peer: PeerId, oldTtl: number, newTtl: number): Promise<void> {
    this.#open()
    const key = this.#key(peer)
    checkTtl(oldTtl)
    checkTtl(newTtl)
    const entry = this.#index.get(key)
    if (entry == null) return Promise.resolve()
    const now = this.#clock()
    let changed = false
    for (const [k, a] of [...entry.addrs]) {
      if (a.ttl !== oldTtl) continue
      changed = true
      if (newTtl <= 0) this.#deleteAddr(entry, k)
      else this.#setAddr(entry, k, { ...a, ttl: newTtl, expiresAt: this.#expiry(now, newTtl) })
    }
    if (!changed) return Promise.resolve()
    this.#afterAddrChange(entry)
    return this.#commit(key, 'addrs')
  }

  /** Deletes every address of the peer and its signed record. */
  async clearAddrs(peer: PeerId): Promise<void> {
    this.#open()
    const key = this.#key(peer)
    const entry = this.#index.get(key)
    if (entry == null || (entry.addrs.size === 0 && entry.record == null)) return Promise.resolve()
    for (const k of [...entry.addrs.keys()]) this.#deleteAddr(entry, k)
    entry.record = undefined
    return this.#commit(key, 'addrs')
  }

  /** Unexpired addresses with their TTL, expiry and certified flag, in insertion order. */
  addrInfos(peer: PeerId): AddrInfo[] {
    const entry = this.#index.get(this.#key(peer))
    if (entry == null) return []
    const now = this.#clock()
    const out: AddrInfo[] = []
    for (const a of entry.addrs.values()) if (this.#alive(a, now)) out.push({ ...a })
    return out
  }

  /** Unexpired addresses, in insertion order. */
  addrs(peer: PeerId): Multiaddr[] {
    return this.addrInfos(peer).map((a) => a.multiaddr)
  }

  /** Peers with at least one unexpired address. */
  peersWithAddrs(): PeerId[] {
    const now = this.#clock()
    const out: PeerId[] = []
    for (const entry of this.#index.values()) {
      for (const a of entry.addrs.values()) {
        if (this.#alive(a, now)) {
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
  async *addrStream(peer: PeerId, options: { signal?: AbortSignal } = {}): AsyncGenerator<Multiaddr> {
    const key = this.#key(peer)
    const { signal } = options
    const aborted = (): boolean => signal?.aborted === true
    if (aborted()) return
    const seen = new Set<string>()
    const queue: Multiaddr[] = []
    let wake: (() => void) | undefined
    const listener: AddrListener = (ma) => {
      if (ma != null) queue.push(ma)
      wake?.()
    }
    const onAbort = (): void => wake?.()
    let set = this.#listeners.get(key)
    if (set == null) {
      set = new Set()
      this.#listeners.set(key, set)
    }
    set.add(listener)
    signal?.addEventListener('abort', onAbort, { once: true })
    const rank = (ma: Multiaddr): number => {
      const names = ma.getComponents().map((c) => c.name)
      const host = ma.getComponents()[0]?.value ?? ''
      if (host === '127.0.0.1' || host === '::1' || host.startsWith('127.')) return 0
      return names.includes('tcp') ? 2 : 1
    }
    const current = this.addrs(peer).sort((a, b) => rank(a) - rank(b))
    queue.unshift(...current)
    try {
      while (!aborted() && !this.#closed) {
        const ma = queue.shift()
        if (ma == null) {
          await new Promise<void>((resolve) => {
            wake = resolve
          })
          wake = undefined
          continue
        }
        const k = ma.toString()
        if (seen.has(k)) continue
        seen.add(k)
        yield ma
      }
    } finally {
      set.delete(listener)
      if (set.size === 0) this.#listeners.delete(key)
      signal?.removeEventListener('abort', onAbort)
    }
  }

  /**
   * Verifies a signed peer record envelope and stores its addresses as certified at `ttl`. A lower
   * sequence number than the stored one returns false; an equal one is accepted (it refreshes the TTL).
   * Certified addrs missing from a newer record are dropped unless connected (go-libp2p master, #3487).
   */
  async consumePeerRecord(envelope: Uint8Array, ttl: number, expectedPeer?: PeerId): Promise<boolean> {
    this.#open()
    checkTtl(ttl)
    let record: PeerRecord
    let signer: PeerId
    try {
      const env = await RecordEnvelope.openAndCertify(envelope, PeerRecord.DOMAIN)
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
    const key = signer.toString()
    const stored = this.#index.get(key)?.record
    if (stored != null && stored.seq > record.seqNumber) return false
    const entry = this.#entry(signer)
    const list = record.multiaddrs.map((ma) => this.#normalize(signer, ma)).filter((ma) => ma != null)
    const wanted = new Set(list.map((ma) => ma.toString()))
    for (const [k, a] of [...entry.addrs]) {
      if (a.certified && !wanted.has(k) && !neverExpires(a.ttl)) this.#deleteAddr(entry, k)
    }
    entry.record = { seq: record.seqNumber, envelope: envelope.slice() }
    if (ttl > 0) await this.#addAddrs(key, signer, list, ttl, true)
    this.#afterAddrChange(entry)
    await this.#commit(key, 'addrs')
    return true
  }

  /** The stored signed envelope, or undefined when the peer has no unexpired address. */
  peerRecord(peer: PeerId): Uint8Array | undefined {
    const entry = this.#index.get(this.#key(peer))
    if (entry?.record == null) return undefined
    return this.addrs(peer).length === 0 ? undefined : entry.record.envelope.slice()
  }

  /** The stored record's sequence number. */
  peerRecordSeq(peer: PeerId): bigint | undefined {
    return this.#index.get(this.#key(peer))?.record?.seq
  }

  // --- KeyBook ----------------------------------------------------------------------------------

  /** Stores a public key after checking it matches the peer id (`ERR_INVALID_PUBLIC_KEY` otherwise). */
  async addPubKey(peer: PeerId, key: PublicKey): Promise<void> {
    this.#open()
    const k = this.#key(peer)
    let matches = false
    try {
      matches = peerIdFromPublicKey(key).equals(peer)
    } catch {}
    if (!matches) throw new PeerStoreError('ERR_INVALID_PUBLIC_KEY', 'ID does not match PublicKey')
    const entry = this.#entry(peer)
    if (entry.publicKey?.equals(key) === true) return Promise.resolve()
    entry.publicKey = key
    return this.#commit(k, 'keys')
  }

  /** The stored key, else the key inlined in an identity peer id (cached, as go does). */
  pubKey(peer: PeerId): PublicKey | undefined {
    const k = this.#key(peer)
    const entry = this.#index.get(k)
    if (entry?.publicKey != null) return entry.publicKey
    const inline = peer.publicKey
    if (inline == null || this.#closed) return undefined
    this.#entry(peer).publicKey = inline
    // A cache fill, not a write about the peer: its `updated` time stays.
    this.#persist(k, 'keys').catch(() => {})
    return inline
  }

  peersWithKeys(): PeerId[] {
    const out: PeerId[] = []
    let selfListed = false
    for (const entry of this.#index.values()) {
      const isSelf = this.#privateKey != null && entry.id.equals(this.#selfId)
      if (entry.publicKey != null || isSelf) out.push(entry.id)
      selfListed ||= isSelf
    }
    // As in go-libp2p, the local peer has a key (its private key) even when nothing else is stored for it.
    if (this.#privateKey != null && this.#selfId != null && !selfListed) out.push(this.#selfId)
    return out
  }

  /** Only the local peer's private key, and only in memory: it is never written or exported. */
  privKey(peer: PeerId): PrivateKey | undefined {
    this.#key(peer)
    return this.#selfId?.equals(peer) === true ? this.#privateKey : undefined
  }

  // --- ProtoBook --------------------------------------------------------------------------------

  getProtocols(peer: PeerId): string[] {
    return [...(this.#index.get(this.#key(peer))?.protocols ?? [])]
  }

  #checkProtocols(protocols: readonly string[]): void {
    if (!Array.isArray(protocols) || !protocols.every((p) => typeof p === 'string')) {
      throw new PeerStoreError('ERR_INVALID_ARGUMENT', 'protocols must be strings')
    }
  }

  /** Replaces the peer's protocols; more than the limit (duplicates counted) throws `ERR_TOO_MANY_PROTOCOLS`. */
  async setProtocols(peer: PeerId, protocols: readonly string[]): Promise<void> {
    this.#open()
    const key = this.#key(peer)
    this.#checkProtocols(protocols)
    if (protocols.length > this.#maxProtocols) {
      throw new PeerStoreError('ERR_TOO_MANY_PROTOCOLS', `too many protocols (limit ${this.#maxProtocols})`)
    }
    const entry = this.#index.get(key)
    const next = [...new Set(protocols)]
    if (entry == null && next.length === 0) return Promise.resolve()
    const e = entry ?? this.#entry(peer)
    if (sameList(e.protocols, next)) return Promise.resolve()
    e.protocols = internNames(next)
    return this.#commit(key, 'protos')
  }

  /** Adds protocols; fails when stored + given (duplicates counted, as go) exceeds the limit. */
  async addProtocols(peer: PeerId, protocols: readonly string[]): Promise<void> {
    this.#open()
    const key = this.#key(peer)
    this.#checkProtocols(protocols)
    const current = this.#index.get(key)?.protocols ?? []
    if (current.length + protocols.length > this.#maxProtocols) {
      throw new PeerStoreError('ERR_TOO_MANY_PROTOCOLS', `too many protocols (limit ${this.#maxProtocols})`)
    }
    const next = [...new Set([...current, ...protocols])]
    if (next.length === current.length) return Promise.resolve()
    this.#entry(peer).protocols = internNames(next)
    return this.#commit(key, 'protos')
  }

  async removeProtocols(peer: PeerId, protocols: readonly string[]): Promise<void> {
    this.#open()
    const key = this.#key(peer)
    this.#checkProtocols(protocols)
    const entry = this.#index.get(key)
    if (entry == null) return Promise.resolve()
    const drop = new Set(protocols)
    const next = entry.protocols.filter((p) => !drop.has(p))
    if (next.length === entry.protocols.length) return Promise.resolve()
    entry.protocols = next
    return this.#commit(key, 'protos')
  }

  /** The given protocols the peer supports, in query order. */
  supportsProtocols(peer: PeerId, protocols: readonly string[]): string[] {
    const have = new Set(this.#index.get(this.#key(peer))?.protocols ?? [])
    return protocols.filter((p) => have.has(p))
  }

  /** The first given protocol the peer supports, or undefined (go returns ""). */
  firstSupportedProtocol(peer: PeerId, protocols: readonly string[]): string | undefined {
    return this.supportsProtocols(peer, protocols)[0]
  }

  // --- metadata and latency ---------------------------------------------------------------------

  getMetadata(peer: PeerId, key: string): MetadataValue | undefined {
    const v = this.#index.get(this.#key(peer))?.metadata.get(key)
    return v instanceof Uint8Array ? v.slice() : v === undefined ? undefined : structuredClone(v)
  }

  /** The metadata keys stored for a peer, sorted; empty for an unknown peer. */
  metadataKeys(peer: PeerId): string[] {
    const metadata = this.#index.get(this.#key(peer))?.metadata
    return metadata == null ? [] : [...metadata.keys()].sort()
  }

  /** Stores a value as given (bytes or any JSON value). */
  async putMetadata(peer: PeerId, key: string, value: MetadataValue): Promise<void> {
    this.#open()
    const k = this.#key(peer)
    if (typeof key !== 'string')
      throw new PeerStoreError('ERR_INVALID_ARGUMENT', 'metadata key must be a string')
    if (value === undefined) throw new PeerStoreError('ERR_INVALID_ARGUMENT', 'metadata value is undefined')
    editMetadata(this.#entry(peer)).set(key, value instanceof Uint8Array ? value.slice() : jsonCopy(value))
    return this.#commit(k, 'meta')
  }

  async deleteMetadata(peer: PeerId, key: string): Promise<void> {
    this.#open()
    const k = this.#key(peer)
    const entry = this.#index.get(k)
    if (entry == null || !entry.metadata.has(key)) return Promise.resolve()
    editMetadata(entry).delete(key)
    return this.#commit(k, 'meta')
  }

  /** Feeds an RTT sample (ms) into the EWMA (smoothing 0.1). Latency lives in memory only. */
  recordLatency(peer: PeerId, ms: number): void {
    this.#key(peer)
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      throw new PeerStoreError('ERR_INVALID_ARGUMENT', `latency must be a non-negative number, got ${ms}`)
    }
    const entry = this.#entry(peer)
    entry.latency =
      entry.latency == null ? ms : (1 - LatencyEWMASmoothing) * entry.latency + LatencyEWMASmoothing * ms
  }

  /** The latency EWMA in ms; 0 for an unknown peer. */
  latencyEWMA(peer: PeerId): number {
    return this.#index.get(this.#key(peer))?.latency ?? 0
  }

  // --- tags (used by the js-libp2p adapter) -----------------------------------------------------

  /** Live tags: expired ones are filtered at read. */
  getTags(peer: PeerId): Map<string, { value: number; expiresAt: number }> {
    const now = this.#clock()
    const out = new Map<string, TagEntry>()
    for (const [name, t] of this.#index.get(this.#key(peer))?.tags ?? []) {
      if (now < t.expiresAt) out.set(name, { ...t })
    }
    return out
  }

  // --- pins -------------------------------------------------------------------------------------

  /** Pins a peer for `reason`: a pinned peer survives GC. Pinning a peer not yet stored creates it. */
  async pin(peer: PeerId, reason: string): Promise<void> {
    this.#open()
    const key = this.#key(peer)
    if (typeof reason !== 'string' || reason === '') {
      throw new PeerStoreError('ERR_INVALID_ARGUMENT', 'a pin needs a non-empty reason')
    }
    const entry = this.#entry(peer)
    if (entry.pins.has(reason)) return Promise.resolve()
    editPins(entry).add(reason)
    return this.#commit(key, 'pins')
  }

  async unpin(peer: PeerId, reason: string): Promise<void> {
    this.#open()
    const key = this.#key(peer)
    const entry = this.#index.get(key)
    if (entry == null || !entry.pins.has(reason)) return Promise.resolve()
    editPins(entry).delete(reason)
    return this.#commit(key, 'pins')
  }

  pins(peer: PeerId): string[] {
    return [...(this.#index.get(this.#key(peer))?.pins ?? [])].sort()
  }

  // --- peers ------------------------------------------------------------------------------------

  /**
   * Every peer holding any record (addresses, key, protocols, metadata, tags, pins or latency), or written
   * within `maxPeerAge` (until GC removes it).
   */
  peers(): PeerId[] {
    return [...this.#index.values()].map((e) => e.id)
  }

  /** go `RemovePeer`: clears keys, protocols, metadata and latency, but not addrs (nor pins or tags). */
  async removePeer(peer: PeerId): Promise<void> {
    this.#open()
    const key = this.#key(peer)
    const entry = this.#index.get(key)
    if (entry == null) return Promise.resolve()
    entry.publicKey = undefined
    entry.protocols = []
    entry.metadata = noEntries()
    entry.latency = undefined
    return this.#commit(key, 'keys', 'protos', 'meta')
  }

  /** Removes everything stored about the peer, in one atomic batch. */
  async deletePeer(peer: PeerId): Promise<void> {
    this.#open()
    const key = this.#key(peer)
    const entry = this.#index.get(key)
    if (entry == null) return Promise.resolve()
    const kinds = presentKinds(entry)
    for (const k of [...entry.addrs.keys()]) this.#deleteAddr(entry, k)
    this.#index.delete(key)
    return this.#commit(key, ...kinds)
  }

  /** @internal Direct access for the adapter and import: a snapshot-free view of one entry. */
  entryFor(peer: PeerId): PeerEntry | undefined {
    return this.#index.get(this.#key(peer))
  }

  /**
   * @internal Calls `fn` with an entry whenever one of its persisted records changes (before the
   * write resolves); the adapter drops its cached `Peer` then. Returns the unsubscribe function.
   */
  onEntryChange(fn: (entry: PeerEntry) => void): () => void {
    this.#changeListeners.add(fn)
    return () => this.#changeListeners.delete(fn)
  }

  /** @internal Every entry, for the adapter's `all()` and for export. */
  entries(): IterableIterator<PeerEntry> {
    return this.#index.values()
  }

  /**
   * @internal Replaces parts of one entry in one atomic write; used by the adapter and import.
   * `mutate` runs synchronously on the live entry and returns the kinds it touched.
   */
  async mutate(peer: PeerId, mutate: (entry: PeerEntry, now: number) => RecordKind[]): Promise<void> {
    this.#open()
    const key = this.#key(peer)
    const entry = this.#entry(peer)
    const before = new Map(entry.addrs)
    const kinds = mutate(entry, this.#clock())
    keepAddrOrder(entry.addrs)
    // Keep the unconnected-address count exact whatever the mutation did.
    for (const [k, a] of before) if (entry.addrs.get(k) !== a && !neverExpires(a.ttl)) this.#unconnected--
    for (const [k, a] of entry.addrs) if (before.get(k) !== a && !neverExpires(a.ttl)) this.#unconnected++
    for (const [k, a] of entry.addrs) if (before.get(k) !== a) this.#announce(key, a.multiaddr)
    this.#afterAddrChange(entry)
    if (kinds.length === 0) return this.#settleUnchanged(key, entry)
    return this.#commit(key, ...kinds)
  }

  /** @internal Replaces whole entries (import) in one atomic batch. */
  async replaceEntries(entries: PeerEntry[]): Promise<void> {
    this.#open()
    for (const entry of entries) {
      const key = entry.id.toString()
      const old = this.#index.get(key)
      for (const a of old?.addrs.values() ?? []) if (!neverExpires(a.ttl)) this.#unconnected--
      for (const a of entry.addrs.values()) if (!neverExpires(a.ttl)) this.#unconnected++
      entry.latency = old?.latency
      // An export made before per-peer times were stored: imported now.
      entry.updated ??= this.#clock()
      this.#index.set(key, entry)
      this.#markDirty(key, ...RECORD_KINDS)
    }
    return this.#requestFlush()
  }

  /**
   * Resolves once every change made so far is in the database itself, not only in the journal (writes are
   * durable when they resolve either way; this is for tools that read the LevelDB directory, and benchmarks).
   */
  flush(): Promise<void> {
    this.#open()
    return this.#requestFlush()
  }

  /** The store's clock, epoch ms. */
  now(): number {
    return this.#clock()
  }

  /** A versioned JSON document of every peer (never a private key; latency is not included). */
  async export(): Promise<PeerStoreExport> {
    return exportStore(this)
  }

  /** Imports a document made by `export()`, replacing the peers it lists. Returns the peer count. */
  async import(data: unknown): Promise<number> {
    this.#open()
    return importStore(this, data)
  }

  /** Imports libp2p-rs `ds_addr_book.txt` text. Returns the peer count. */
  async importRustAddrBook(text: string): Promise<number> {
    this.#open()
    return importRustAddrBook(this, text)
  }

  // --- GC ---------------------------------------------------------------------------------------

  /**
   * Removes expired addresses and tags, then (unless `removeBarePeers` is off) every peer that has aged out
   * (src/peer-age.ts: not the local peer, not pinned, no unexpired address, not written within `maxPeerAge`).
   * Pinned peers are not touched.
   * Runs in slices of at most `sliceMs`, yielding to the event loop between them.
   */
  async gc(): Promise<GcStats> {
    this.#open()
    this.#gcRun ??= this.#gc().finally(() => {
      this.#gcRun = undefined
    })
    return this.#gcRun
  }

  async #gc(): Promise<GcStats> {
    const started = performance.now()
    const stats: GcStats = {
      peersScanned: 0,
      addrsRemoved: 0,
      tagsRemoved: 0,
      peersRemoved: 0,
      slices: 0,
      longestSliceMs: 0,
      durationMs: 0
    }
    const keys = [...this.#index.keys()]
    let i = 0
    while (i < keys.length) {
      const sliceStart = performance.now()
      stats.slices++
      while (i < keys.length) {
        const key = keys[i++]!
        this.#gcPeer(key, stats)
        // Bound both the scan and the batch it produces, which is encoded synchronously on flush.
        if (
          (i & 31) === 0 &&
          (this.#dirty.size >= GC_MAX_DIRTY || performance.now() - sliceStart >= this.#gcSliceMs)
        ) {
          break
        }
      }
      stats.longestSliceMs = Math.max(stats.longestSliceMs, performance.now() - sliceStart)
      await yieldToLoop()
      if (this.#closed) break
      // One slice's batch at a time, so a slow disk cannot let batches (and their encode time) pile up.
      if (this.#dirty.size > 0) {
        const flushStart = performance.now()
        const written = this.#requestFlush()
        stats.longestSliceMs = Math.max(stats.longestSliceMs, performance.now() - flushStart)
        await written
      }
    }
    stats.durationMs = performance.now() - started
    return stats
  }

  #gcPeer(key: string, stats: GcStats): void {
    const entry = this.#index.get(key)
    if (entry == null) return
    stats.peersScanned++
    if (entry.pins.size > 0) return
    const now = this.#clock()
    let addrsChanged = false
    for (const [k, a] of entry.addrs) {
      if (!this.#alive(a, now)) {
        this.#deleteAddr(entry, k)
        stats.addrsRemoved++
        addrsChanged = true
      }
    }
    let tagsChanged = false
    for (const [name, t] of entry.tags) {
      if (now >= t.expiresAt) {
        editTags(entry).delete(name)
        stats.tagsRemoved++
        tagsChanged = true
      }
    }
    if (addrsChanged) {
      this.#afterAddrChange(entry)
      this.#markDirty(key, 'addrs')
    }
    if (tagsChanged) this.#markDirty(key, 'tags')
    const isSelf = this.#selfId?.equals(entry.id) === true || this.#localPeers.has(key)
    if (this.#removeBarePeers && agedOut(entry, now, this.#maxPeerAge, isSelf)) {
      this.#markDirty(key, ...presentKinds(entry))
      this.#index.delete(key)
      stats.peersRemoved++
    } else if (this.#droppable(entry)) {
      this.#markDirty(key, ...presentKinds(entry))
      this.#index.delete(key)
    }
  }

  // --- lifecycle --------------------------------------------------------------------------------

  /** Stops the GC timer, waits for pending writes, and closes the database. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#gcTimer != null) clearInterval(this.#gcTimer)
    for (const set of this.#listeners.values()) for (const fn of set) fn()
    await this.#gcRun?.catch(() => {})
    if (this.#dirty.size > 0) await this.#requestFlush().catch(() => {})
    await this.#flushLoopDone
    if (this.#journal != null) {
      // Keep the journal when a batch failed: the next open writes it into LevelDB.
      if (this.#dirty.size === 0) this.#journal.clear()
      this.#journal.close()
    }
    await this.#db.close()
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}
