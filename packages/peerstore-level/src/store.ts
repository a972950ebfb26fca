// The peer store's API in one place, composed as go-libp2p's peerstore is composed of its books. Reads are served
// from the in-memory peer index; a write changes it and resolves once the change is durable. The parts:
//   books/               one module per book: addresses (with the address stream and signed records), keys,
//                        protocols, metadata and latency, tags and pins
//   peer-index.ts        the entries the books share; peer-index-access.ts is the narrow interface the libp2p
//                        view, import/export and migration use
//   persistence/         open (mend, open, replay, load), the write path (dirty records, batches, journal), codec
//   gc.ts                garbage collection and its timer
//   peer-age.ts          when a peer stops existing; stamps each change with the peer's write time
// This class wires them together. Its own rules are the composite ones: go's `RemovePeer`, `deletePeer`, the
// index-level edits, the order things stop in on `close`, and putting an entry back when its write fails
// (entry-undo.ts takes the snapshot). It is about 650 lines because it is the whole public API in one place: one
// short delegating method per call, each with the doc users read.

import type { Logger, PeerId, PrivateKey, PublicKey } from '@libp2p/interface'
import { isPeerId, TypedEventEmitter } from '@libp2p/interface'
import { defaultLogger } from '@libp2p/logger'
import type { Multiaddr } from '@multiformats/multiaddr'
import { AddrBook } from './books/addr-book.ts'
import type { BookContext } from './books/context.ts'
import { KeyBook, type LocalIdentity, localIdentity } from './books/key-book.ts'
import { MetadataBook } from './books/metadata-book.ts'
import { ProtoBook } from './books/proto-book.ts'
import { TagBook } from './books/tag-book.ts'
import { DEFAULT_GC_INTERVAL, DEFAULT_GC_RUN_AFTER_ADDRS, DEFAULT_GC_SLICE_MS } from './constants.ts'
import {
  type EntrySnapshot,
  restoreEntry,
  snapshotEntry,
  UNDO_ADDRS,
  UNDO_ALL,
  UNDO_METADATA,
  UNDO_PINS
} from './entry-undo.ts'
import { PeerStoreError } from './errors.ts'
import { GarbageCollector } from './gc.ts'
import { checkEntryLimits, resolveLimits, type StoreLimits } from './limits.ts'
import type { OpenPeerStoreInit } from './options.ts'
import { checkMaxPeerAge, PeerAgeing } from './peer-age.ts'
import { type PeerIndex, peerKey, presentKinds } from './peer-index.ts'
import type { Libp2pViewAccess } from './peer-index-access.ts'
import { encodeRecord, storedForm } from './persistence/codec.ts'
import type { JournaledRecord } from './persistence/journal.ts'
import {
  abandonStorage,
  closeStorage,
  type DirectoryStorage,
  type OpenedStorage,
  openStorage,
  type Sub
} from './persistence/open.ts'
import { WritePath } from './persistence/write-path.ts'
import { exportStore, importRustAddrBook, importStore, type PeerStoreExport } from './transfer.ts'
import {
  type AddrInfo,
  type BatchFailure,
  type GcStats,
  type LastGc,
  type LevelPeerStoreEvents,
  type MetadataValue,
  type OpenReport,
  type PeerEntry,
  RECORD_KINDS,
  type RecordKind,
  type StorageStatus
} from './types.ts'

/** What go's `RemovePeer` clears: keys, protocols, metadata (latency too, which is not persisted). */
const REMOVE_PEER_KINDS: readonly RecordKind[] = ['keys', 'protos', 'meta']

/**
 * Opens (and loads) a peer store on an abstract-level database (`db`). This is the platform-neutral entry's;
 * the Node entry's (node-open.ts) also opens a LevelDB directory (`path`).
 */
export function openPeerStore(init: OpenPeerStoreInit = {}): Promise<LevelPeerStore> {
  return openPeerStoreOn(undefined, init)
}

/** @internal `openPeerStore`, opening `path` with `directory` when one is given. */
export async function openPeerStoreOn(
  directory: DirectoryStorage | undefined,
  init: OpenPeerStoreInit = {}
): Promise<LevelPeerStore> {
  if (init.db == null && init.path == null) {
    throw new PeerStoreError('ERR_INVALID_ARGUMENT', 'openPeerStore needs `path` or `db`')
  }
  const self = localIdentity(init)
  checkMaxPeerAge(init.gc?.maxPeerAge ?? 0, 'gc.maxPeerAge')
  const runAfterAddrs = init.gc?.runAfterAddrs
  if (runAfterAddrs !== undefined && (!Number.isSafeInteger(runAfterAddrs) || runAfterAddrs < 0)) {
    throw new PeerStoreError(
      'ERR_INVALID_ARGUMENT',
      `gc.runAfterAddrs must be an integer >= 0 (0 = off), got ${String(runAfterAddrs)}`
    )
  }
  const limits = resolveLimits(init.limits)
  const clock = init.clock ?? Date.now
  const storage = await openStorage({ path: init.path, db: init.db, directory, clock })
  const store = new LevelPeerStore(storage, init, self, clock, limits)
  try {
    await store.start()
  } catch (err) {
    await abandonStorage(storage)
    throw err
  }
  return store
}

export class LevelPeerStore extends TypedEventEmitter<LevelPeerStoreEvents> implements Libp2pViewAccess {
  readonly #storage: OpenedStorage
  readonly #clock: () => number
  readonly #log: Logger
  readonly #self: LocalIdentity
  readonly #index: PeerIndex
  readonly #writes: WritePath<Sub>
  readonly #gc: GarbageCollector
  readonly #ageing: PeerAgeing
  readonly #gcInterval: number
  readonly #addrBook: AddrBook
  readonly #keyBook: KeyBook
  readonly #protoBook: ProtoBook
  readonly #metadataBook: MetadataBook
  readonly #tagBook: TagBook
  /** The size limits every write path checks (limits.ts). */
  readonly limits: StoreLimits
  #changedOnLoad: Map<string, RecordKind[]>
  #closed = false
  /** The entry as it was before the write in progress: put back if its journal append fails (entry-undo.ts). */
  #undo: EntrySnapshot | undefined

  /** @internal Made by `openPeerStore`. */
  constructor(
    storage: OpenedStorage,
    init: OpenPeerStoreInit,
    self: LocalIdentity,
    clock: () => number,
    limits: StoreLimits
  ) {
    super()
    this.limits = limits
    this.#storage = storage
    this.#changedOnLoad = storage.changedOnLoad
    this.#clock = clock
    this.#self = self
    this.#log = (init.logger ?? defaultLogger()).forComponent('peerscope:peer-store')
    const index = storage.index
    this.#index = index
    const writes = new WritePath<Sub>({
      db: storage.records,
      journal: storage.journal,
      index,
      onMarked: (key) => {
        index.changed(key)
        // Every persisted change passes here: GC counts the addresses it leaves (gc.ts).
        this.#gc.afterWrite()
      },
      onBatchError: (failure) => this.#batchFailed(failure),
      onCommitFailed: (key) => this.#commitFailed(key),
      location: storage.location
    })
    this.#writes = writes
    const ageing = new PeerAgeing({
      index,
      persist: (key, kinds) => writes.commit(key, kinds),
      now: clock,
      selfId: self.selfId,
      maxPeerAge: init.gc?.maxPeerAge ?? 0
    })
    this.#ageing = ageing
    const ctx: BookContext = {
      index,
      now: clock,
      isClosed: () => this.#closed,
      assertOpen: () => this.#assertWritable(),
      undoPoint: (key) => this.#undoPoint(key),
      commit: (key, kinds) => this.#committed(ageing.commit(key, kinds)),
      persist: (key, kinds) => this.#committed(ageing.commit(key, kinds, false)),
      settleUnchanged: (key, entry) => this.#committed(ageing.settleUnchanged(key, entry))
    }
    this.#addrBook = new AddrBook(ctx, limits)
    this.#keyBook = new KeyBook(ctx, self)
    this.#protoBook = new ProtoBook(ctx, limits)
    this.#metadataBook = new MetadataBook(ctx, limits)
    this.#tagBook = new TagBook(ctx, limits)
    this.#gcInterval = init.gc?.interval ?? DEFAULT_GC_INTERVAL
    this.#gc = new GarbageCollector({
      index,
      writes,
      now: clock,
      ageing,
      sliceMs: init.gc?.sliceMs ?? DEFAULT_GC_SLICE_MS,
      removeBarePeers: init.gc?.removeBarePeers ?? true,
      runAfterAddrs: init.gc?.runAfterAddrs ?? DEFAULT_GC_RUN_AFTER_ADDRS,
      isClosed: () => this.#closed,
      onTimerError: (err) => this.#log.error('background GC failed - %e', err)
    })
  }

  /** @internal Called once by `openPeerStore`: writes what the load changed, then starts the GC timer. */
  async start(): Promise<void> {
    for (const [key, kinds] of this.#changedOnLoad) this.#writes.markDirty(key, kinds)
    this.#changedOnLoad.clear()
    if (this.#writes.pendingPeers > 0) await this.#writes.flush()
    this.#gc.start(this.#gcInterval)
    this.#log('opened: %d peers', this.#storage.report.peers)
  }

  /** What the last open found: peers loaded, records quarantined, Connected addrs downgraded. */
  get openReport(): OpenReport {
    return structuredClone(this.#storage.report)
  }

  get selfId(): PeerId | undefined {
    return this.#self.selfId
  }

  /** How long a peer with no unexpired address is kept after its last write (ms; 0 = no ageing): peer-age.ts. */
  get maxPeerAge(): number {
    return this.#ageing.maxPeerAge
  }

  /** Raises `maxPeerAge` to `ms` at least and exempts `localPeer` from GC: a libp2p view asks for its own. */
  retainPeersFor(ms: number, localPeer?: PeerId): void {
    this.#ageing.retainFor(ms, localPeer)
  }

  /**
   * How writes reach LevelDB: `degraded` from a failed LevelDB write (disk full, I/O error) until LevelDB holds
   * every write in a table file again; writes go on into the journal meanwhile (refused before they change
   * anything once it holds `JOURNAL_BACKLOG_LIMIT` bytes), and the journal is kept until then, also through a
   * close. `lastError` is the last failure, until a flush succeeds.
   */
  get storageStatus(): StorageStatus {
    const failure = this.#writes.lastFailure
    return {
      degraded: !this.#writes.logTrusted,
      lastError: failure === undefined ? undefined : { code: failure.code, message: failure.message },
      journalBytes: this.#writes.journalBytes
    }
  }

  /** The last GC run that completed (by the timer or by `gc()`), or undefined before the first. */
  get lastGc(): LastGc | undefined {
    const last = this.#gc.last
    return last === undefined ? undefined : { ...last }
  }

  /** Raw values moved aside by an open because they could not be decoded, keyed `<kind>/<peer>`. */
  async quarantined(): Promise<Array<{ key: string; value: string }>> {
    const out: Array<{ key: string; value: string }> = []
    for await (const [key, value] of this.#storage.quarantine.iterator()) out.push({ key, value })
    return out
  }

  // --- AddrBook (books/addr-book.ts) ----------------------------------------------------------

  /** go `AddAddrs`: never lowers a stored TTL or expiry; `ttl <= 0` is a no-op. */
  addAddrs(peer: PeerId, addrs: ReadonlyArray<Multiaddr | null | undefined>, ttl: number): Promise<void> {
    return this.#guarded(peer, UNDO_ADDRS, () => this.#addrBook.addAddrs(peer, addrs, ttl))
  }

  /** go `SetAddrs`: overwrites TTL and expiry (may lower them); `ttl <= 0` deletes the addrs. */
  setAddrs(peer: PeerId, addrs: ReadonlyArray<Multiaddr | null | undefined>, ttl: number): Promise<void> {
    return this.#guarded(peer, UNDO_ADDRS, () => this.#addrBook.setAddrs(peer, addrs, ttl))
  }

  /** go `UpdateAddrs`: only addrs at `oldTtl`; `newTtl` 0 deletes them, a negative one expires them (kept to GC). */
  updateAddrs(peer: PeerId, oldTtl: number, newTtl: number): Promise<void> {
    return this.#guarded(peer, UNDO_ADDRS, () => this.#addrBook.updateAddrs(peer, oldTtl, newTtl))
  }

  /** Deletes every address of the peer and its signed record. */
  clearAddrs(peer: PeerId): Promise<void> {
    return this.#guarded(peer, UNDO_ADDRS, () => this.#addrBook.clearAddrs(peer))
  }

  /** Unexpired addresses with their TTL, expiry and certified flag, in insertion order. */
  addrInfos(peer: PeerId): AddrInfo[] {
    return this.#addrBook.addrInfos(peer)
  }

  /** Unexpired addresses, in insertion order. */
  addrs(peer: PeerId): Multiaddr[] {
    return this.#addrBook.addrs(peer)
  }

  /** Peers with at least one unexpired address. */
  peersWithAddrs(): PeerId[] {
    return this.#addrBook.peersWithAddrs()
  }

  /**
   * Current addrs (loopback, then non-TCP, then TCP), then each new one as it is added, each at most once, until
   * `signal` aborts or `return()`. Subscribes when called (as go), so no address added before the first read is missed.
   */
  addrStream(peer: PeerId, options: { signal?: AbortSignal } = {}): AsyncGenerator<Multiaddr> {
    return this.#addrBook.addrStream(peer, options)
  }

  /**
   * Verifies a signed peer record envelope and stores its addresses as certified at `ttl`. A lower
   * sequence number than the stored one returns false; an equal one is accepted (it refreshes the TTL).
   * The previous record's addrs missing from the new one are dropped unless connected (go-libp2p v0.52.0).
   */
  consumePeerRecord(envelope: Uint8Array, ttl: number, expectedPeer?: PeerId): Promise<boolean> {
    return this.#addrBook.consumePeerRecord(envelope, ttl, expectedPeer)
  }

  /** The stored signed envelope, or undefined when the peer has no unexpired address. */
  peerRecord(peer: PeerId): Uint8Array | undefined {
    return this.#addrBook.peerRecord(peer)
  }

  /** The stored record's sequence number. */
  peerRecordSeq(peer: PeerId): bigint | undefined {
    return this.#addrBook.peerRecordSeq(peer)
  }

  // --- KeyBook (books/key-book.ts) ------------------------------------------------------------

  /** Stores a public key after checking it matches the peer id (`ERR_INVALID_PUBLIC_KEY` otherwise). */
  addPubKey(peer: PeerId, key: PublicKey): Promise<void> {
    return this.#guarded(peer, 0, () => this.#keyBook.addPubKey(peer, key))
  }

  /** The stored key, else the key inlined in an identity peer id (cached, as go does). */
  pubKey(peer: PeerId): PublicKey | undefined {
    return this.#keyBook.pubKey(peer)
  }

  peersWithKeys(): PeerId[] {
    return this.#keyBook.peersWithKeys()
  }

  /** Only the local peer's private key, and only in memory: it is never written or exported. */
  privKey(peer: PeerId): PrivateKey | undefined {
    return this.#keyBook.privKey(peer)
  }

  // --- ProtoBook (books/proto-book.ts) --------------------------------------------------------

  getProtocols(peer: PeerId): string[] {
    return this.#protoBook.getProtocols(peer)
  }

  /** Replaces the peer's protocols; more than the limit (duplicates counted) throws `ERR_TOO_MANY_PROTOCOLS`. */
  setProtocols(peer: PeerId, protocols: readonly string[]): Promise<void> {
    return this.#guarded(peer, 0, () => this.#protoBook.setProtocols(peer, protocols))
  }

  /** Adds protocols; fails when stored + given (duplicates counted, as go) exceeds the limit. */
  addProtocols(peer: PeerId, protocols: readonly string[]): Promise<void> {
    return this.#guarded(peer, 0, () => this.#protoBook.addProtocols(peer, protocols))
  }

  removeProtocols(peer: PeerId, protocols: readonly string[]): Promise<void> {
    return this.#guarded(peer, 0, () => this.#protoBook.removeProtocols(peer, protocols))
  }

  /** The given protocols the peer supports, in query order. */
  supportsProtocols(peer: PeerId, protocols: readonly string[]): string[] {
    return this.#protoBook.supportsProtocols(peer, protocols)
  }

  /** The first given protocol the peer supports, or undefined (go returns ""). */
  firstSupportedProtocol(peer: PeerId, protocols: readonly string[]): string | undefined {
    return this.#protoBook.firstSupportedProtocol(peer, protocols)
  }

  // --- metadata and latency (books/metadata-book.ts) ------------------------------------------

  getMetadata(peer: PeerId, key: string): MetadataValue | undefined {
    return this.#metadataBook.getMetadata(peer, key)
  }

  /** The metadata keys stored for a peer, sorted; empty for an unknown peer. */
  metadataKeys(peer: PeerId): string[] {
    return this.#metadataBook.metadataKeys(peer)
  }

  /** Stores a value as given (bytes or any JSON value). */
  putMetadata(peer: PeerId, key: string, value: MetadataValue): Promise<void> {
    return this.#guarded(peer, UNDO_METADATA, () => this.#metadataBook.putMetadata(peer, key, value))
  }

  deleteMetadata(peer: PeerId, key: string): Promise<void> {
    return this.#guarded(peer, UNDO_METADATA, () => this.#metadataBook.deleteMetadata(peer, key))
  }

  /** Feeds an RTT sample (ms) into the EWMA (smoothing 0.1). Latency lives in memory only. */
  recordLatency(peer: PeerId, ms: number): void {
    this.#metadataBook.recordLatency(peer, ms)
  }

  /** The latency EWMA in ms; 0 for an unknown peer. */
  latencyEWMA(peer: PeerId): number {
    return this.#metadataBook.latencyEWMA(peer)
  }

  // --- tags and pins (books/tag-book.ts) ------------------------------------------------------

  /** Live tags: expired ones are filtered at read. */
  getTags(peer: PeerId): Map<string, { value: number; expiresAt: number }> {
    return this.#tagBook.getTags(peer)
  }

  /** Pins a peer for `reason`: a pinned peer survives GC. Pinning a peer not yet stored creates it. */
  pin(peer: PeerId, reason: string): Promise<void> {
    return this.#guarded(peer, UNDO_PINS, () => this.#tagBook.pin(peer, reason))
  }

  unpin(peer: PeerId, reason: string): Promise<void> {
    return this.#guarded(peer, UNDO_PINS, () => this.#tagBook.unpin(peer, reason))
  }

  pins(peer: PeerId): string[] {
    return this.#tagBook.pins(peer)
  }

  // --- peers ------------------------------------------------------------------------------------

  /**
   * Every peer holding any record (addrs, key, protocols, metadata, tags, pins, latency) or written within
   * `maxPeerAge` (until GC), and the local peer while it holds its private key (go's `Peers()`; DIFFERENCES.md).
   */
  peers(): PeerId[] {
    const out: PeerId[] = []
    for (const entry of this.#index.values()) out.push(entry.id)
    const self = this.#keyBook.localPeerWithKey()
    if (self != null && this.#index.get(self.toString()) == null) out.push(self)
    return out
  }

  /** go `RemovePeer`: clears keys (the local private key too), protocols, metadata, latency; not addrs, pins, tags. */
  removePeer(peer: PeerId): Promise<void> {
    return this.#guarded(peer, 0, () => this.#removePeer(peer))
  }

  async #removePeer(peer: PeerId): Promise<void> {
    this.#assertWritable()
    const key = this.#index.keyOf(peer)
    this.#keyBook.forgetPrivateKey(peer)
    const entry = this.#index.get(key)
    if (entry == null) return Promise.resolve()
    this.#keyBook.forget(entry)
    this.#protoBook.forget(entry)
    this.#metadataBook.forget(entry)
    return this.#ageing.commit(key, REMOVE_PEER_KINDS)
  }

  /** Removes everything stored about the peer, in one atomic batch. */
  deletePeer(peer: PeerId): Promise<void> {
    return this.#guarded(peer, UNDO_ADDRS, () => this.#deletePeer(peer))
  }

  async #deletePeer(peer: PeerId): Promise<void> {
    this.#assertWritable()
    const key = this.#index.keyOf(peer)
    const entry = this.#index.get(key)
    if (entry == null) return Promise.resolve()
    const kinds = presentKinds(entry)
    this.#addrBook.deleteAll(entry)
    this.#index.delete(key)
    return this.#ageing.commit(key, kinds)
  }

  // --- PeerIndexAccess (peer-index-access.ts): for the libp2p view, import and migration ---------

  /** The live entry of one peer (not a copy: read it, change it only inside `mutate`). */
  entryFor(peer: PeerId): PeerEntry | undefined {
    return this.#index.find(peer)
  }

  /**
   * Calls `fn` with an entry whenever one of its persisted records changes (before the write resolves); the
   * libp2p view drops its cached `Peer` then. Returns the unsubscribe function.
   */
  onEntryChange(fn: (entry: PeerEntry) => void): () => void {
    return this.#index.onChange(fn)
  }

  /** Every live entry, for the libp2p view's `all()` and for export. */
  entries(): IterableIterator<PeerEntry> {
    return this.#index.values()
  }

  /** How many entries `entries()` would give now (the libp2p view's `all()` sizes its list by it). */
  get entryCount(): number {
    return this.#index.size
  }

  /**
   * Replaces parts of one entry in one atomic write; used by the libp2p view. `mutate` runs synchronously on the
   * live entry and returns the kinds it touched.
   */
  mutate(peer: PeerId, mutate: (entry: PeerEntry, now: number) => RecordKind[]): Promise<void> {
    return this.#guarded(peer, UNDO_ALL, () => this.#mutate(peer, mutate))
  }

  async #mutate(peer: PeerId, mutate: (entry: PeerEntry, now: number) => RecordKind[]): Promise<void> {
    this.#assertWritable()
    const key = this.#index.keyOf(peer)
    const entry = this.#index.entry(key, peer)
    const before = entry.addrs.copy()
    const now = this.#clock()
    const kinds = mutate(entry, now)
    this.#addrBook.adoptEdited(key, entry, before, now)
    if (kinds.length === 0) return this.#ageing.settleUnchanged(key, entry)
    return this.#ageing.commit(key, kinds)
  }

  /**
   * Replaces whole entries (import, migration), all or nothing, also across a crash. Each entry is checked against
   * the limits and taken in as its stored form (encoded, then decoded), so memory holds exactly what a reopen
   * reads; one that fails changes nothing. With a journal, every record is appended as one append (replayed all or
   * nothing) before memory changes; without one, they are written in one LevelDB batch. Latency is kept.
   */
  async replaceEntries(entries: PeerEntry[]): Promise<void> {
    this.#assertWritable()
    if (!Array.isArray(entries)) throw new PeerStoreError('ERR_INVALID_ARGUMENT', 'entries must be an array')
    const stored = entries.map((given) => {
      const key = peerKey(given?.id)
      const entry = storedForm(key, given)
      checkEntryLimits(entry, this.limits)
      return { key, entry }
    })
    const now = this.#clock()
    const records: JournaledRecord[] = []
    for (const { key, entry } of stored) {
      // An export made before per-peer times were stored: imported now.
      entry.updated ??= now
      for (const kind of RECORD_KINDS) records.push({ kind, key, value: encodeRecord(kind, entry) })
    }
    await this.#writes.commitGroup(records, () => {
      for (const { key, entry } of stored) {
        const old = this.#index.replace(key, entry)
        entry.latency = old?.latency
      }
    })
  }

  /** The store's clock, epoch ms. */
  now(): number {
    return this.#clock()
  }

  // --- persistence, import and export ----------------------------------------------------------

  /**
   * Resolves once every change made so far is in the database itself, not only in the journal (writes are
   * durable when they resolve either way; this is for tools that read the LevelDB directory, and benchmarks).
   */
  flush(): Promise<void> {
    this.#assertOpen()
    return this.#writes.flush()
  }

  /** A versioned JSON document of every peer (never a private key; latency is not included). */
  async export(): Promise<PeerStoreExport> {
    return exportStore(this)
  }

  /** Imports a document made by `export()`, replacing the peers it lists. Returns the peer count. */
  async import(data: unknown): Promise<number> {
    this.#assertOpen()
    return importStore(this, data)
  }

  /** Imports libp2p-rs `ds_addr_book.txt` text. Returns the peer count. */
  async importRustAddrBook(text: string): Promise<number> {
    this.#assertOpen()
    return importRustAddrBook(this, text)
  }

  // --- GC (gc.ts) --------------------------------------------------------------------------------

  /**
   * Removes expired addresses and tags, then (unless `removeBarePeers` is off) every peer that aged out (peer-age.ts:
   * not a local peer, not pinned, no unexpired address, not written within `maxPeerAge`). Pinned peers are not
   * touched. Runs in slices of at most `sliceMs`, yielding to the event loop between them.
   */
  async gc(): Promise<GcStats> {
    this.#assertOpen()
    return this.#gc.run()
  }

  // --- lifecycle --------------------------------------------------------------------------------

  /** Stops the GC timer, waits for pending writes, and closes the database. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#gc.stop()
    this.#addrBook.closeStreams()
    await this.#gc.idle()
    await closeStorage(this.#storage, this.#writes, this.#log)
  }

  #assertOpen(): void {
    if (this.#closed) throw new PeerStoreError('ERR_CLOSED', 'the peer store is closed')
  }

  /** Before a write changes anything: the store is open and takes writes (write-path.ts `assertWritable`). */
  #assertWritable(): void {
    this.#assertOpen()
    this.#writes.assertWritable()
  }

  /**
   * Runs a write of one peer with the peer's entry saved first, so a failed journal append puts it back. Only a
   * store with a journal can fail that way (without one, a write's failure is its LevelDB batch's, later).
   * `parts`: the collections the write may edit in place (entry-undo.ts); removePeer replaces its fields,
   * deletePeer deletes addresses in place, the libp2p view's `mutate` may edit anything.
   */
  #guarded<T>(peer: PeerId, parts: number, write: () => Promise<T>): Promise<T> {
    if (this.#storage.journal === undefined || !isPeerId(peer)) return write()
    this.#undo = snapshotEntry(this.#index, peer.toString(), parts)
    try {
      return write()
    } finally {
      this.#undo = undefined
    }
  }

  /** A book's own undo point, taken where its write starts (after an await, which `#guarded` cannot see). */
  #undoPoint(key: string): void {
    if (this.#storage.journal !== undefined) this.#undo = snapshotEntry(this.#index, key, UNDO_ADDRS)
  }

  /** A commit returned: the undo point is spent either way (a later failure must not put back an old state). */
  #committed(done: Promise<void>): Promise<void> {
    this.#undo = undefined
    return done
  }

  #commitFailed(key: string): void {
    const undo = this.#undo
    this.#undo = undefined
    if (undo?.key === key) restoreEntry(this.#index, undo)
  }

  #batchFailed(failure: BatchFailure): void {
    this.#log.error(
      'a LevelDB batch of %d peer(s) failed; %s - %e',
      failure.peers,
      failure.retried
        ? 'the writes are kept in the journal and written again by the next flush or open'
        : 'the writes waiting on it were rejected',
      failure.error
    )
    this.safeDispatchEvent('flush-error', { detail: failure })
  }
}
