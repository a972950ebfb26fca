// The write path: how a change in the peer index becomes durable. A write marks the records it touched dirty (per
// peer, a bit per record kind) and resolves once they are durable: at once when the store has a journal (the new
// values are appended to it synchronously, LevelDB follows in the background), else once a LevelDB batch holding
// them is written. Dirty records are coalesced into one flush, so concurrent writers share batches and one change
// is always atomic.
//
// With a journal, a write is encoded and appended first and only then marked dirty: an append that fails (disk
// full, I/O error) rejects with a typed error, leaves nothing dirty, and tells the store (`onCommitFailed`), which
// puts the entry back as it was. Nothing in memory changes for a call that rejects.
//
// A flush writes batches of at most `peersPerBatch` peers, so a large backlog is never encoded in one long block of
// the event loop; all records of one peer stay in one batch. A batch that fails is reported at once
// (`onBatchError`). With a journal, its records stay there and are marked dirty again, and the flush is retried
// on a timer (1 s, doubling to 1 min) as well as by the next write. Without one, the writes waiting on it reject.
//
// After a failed LevelDB write the log LevelDB was appending to may hold a torn record, and LevelDB keeps
// appending after it; on its next open it drops everything from the tear on. So from the first failure on the
// journal is never emptied, until LevelDB has written its memtable (every batch it took) to a table file
// (`forceFlush`, LevelDB's compaction of the memtable, which also starts a new log) or the store is reopened and the
// journal replayed. Writes go on meanwhile, into the journal; past `backlogLimit` journal bytes while LevelDB keeps
// failing they are refused before anything changes (`assertWritable`). Past the limit while LevelDB works, writes
// wait for LevelDB again: a writer that never yields to the event loop would otherwise grow the journal without
// bound. Before that, past `paceAbove` bytes, each write resolves one turn of the event loop later, so LevelDB keeps
// up with a writer that awaits one write after another (such a writer never lets LevelDB's callbacks run
// otherwise): a burst then costs LevelDB's share as it goes, instead of one stall of seconds at the limit.

import { PeerStoreError } from '../errors.ts'
import { ShardedMap } from '../sharded-map.ts'
import {
  type BatchFailure,
  kindsOf,
  type PeerEntry,
  RECORD_KIND_BIT,
  RECORD_KINDS,
  type RecordKind
} from '../types.ts'
import { yieldToLoop } from '../yield.ts'
import { encodeRecord } from './codec.ts'
import type { JournaledRecord } from './journal.ts'
import { journalWriteError, levelWriteError } from './storage-errors.ts'

/**
 * Past this many journal bytes not yet in LevelDB, writes wait for LevelDB again (a writer that never yields to
 * the event loop would otherwise grow the journal without bound).
 */
export const JOURNAL_BACKLOG_LIMIT = 32 * 1024 * 1024

/** Past this many journal bytes not yet in LevelDB, each write gives the event loop a turn before it resolves. */
export const JOURNAL_PACE_ABOVE = 8 * 1024 * 1024

/** One put or delete of a LevelDB batch; `sublevel` is where the record kind lives (opaque here). */
export type RecordOp<S> =
  | { type: 'put'; sublevel: S; key: string; value: string }
  | { type: 'del'; sublevel: S; key: string }

/** What the write path needs of the database: where each record kind lives, and atomic batches. */
export interface RecordDatabase<S = unknown> {
  readonly sublevels: Readonly<Record<RecordKind, S>>
  batch(ops: Array<RecordOp<S>>): Promise<void>
  /**
   * Makes every batch LevelDB took so far independent of its log: writes its memtable to a table file and starts
   * a new log. A LevelDB opened by path has it; without it a successful batch is trusted again.
   */
  forceFlush?(): Promise<void>
}

/** What the write path needs of the write-ahead journal (`Journal`). */
export interface WriteJournal {
  /** Appends the new state of some records as one append; crash-safe when it returns, nothing of it if it throws. */
  append(records: readonly JournaledRecord[]): void
  /** Appends the removal of whole peers (every record of each) as one append. */
  appendRemoved(keys: readonly string[]): void
  /** As `append`, for many records (an import): replayed all or nothing. */
  appendGroup(records: readonly JournaledRecord[]): void
  /** Bytes appended and not yet known to be durably in LevelDB. */
  readonly backlog: number
  /** Starts a new file for later appends; the returned function drops the files the current batch covers. */
  rotate(): () => void
}

export interface WritePathInit<S> {
  db: RecordDatabase<S>
  journal?: WriteJournal | undefined
  /** The live entries, encoded when their dirty records are written (a peer missing here is deleted). */
  index: { get(key: string): PeerEntry | undefined }
  /** Called with the key each time records of that peer are marked dirty: read caches drop it then. */
  onMarked?: ((key: string) => void) | undefined
  /** Called once per failed batch, when it fails. */
  onBatchError?: ((failure: BatchFailure) => void) | undefined
  /** Called when a journal append for `key` failed, before the commit rejects: the store undoes the change. */
  onCommitFailed?: ((key: string) => void) | undefined
  /** The store's path, for error messages. */
  location?: string
  /** Peers per LevelDB batch when a flush has more to write (default 500). */
  peersPerBatch?: number
  /** Peers removed whole per LevelDB batch of their deletes (default 1000). */
  removedPerBatch?: number
  /** Journal bytes not yet in LevelDB past which writes wait for LevelDB (default `JOURNAL_BACKLOG_LIMIT`). */
  backlogLimit?: number
  /** Journal bytes not yet in LevelDB past which writes resolve a turn later (default `JOURNAL_PACE_ABOVE`). */
  paceAbove?: number
}

const DEFAULT_PEERS_PER_BATCH = 500

/**
 * Removed peers per batch of deletes: a delete is encoded without reading an entry, so a batch of these takes
 * about the turn a batch of `DEFAULT_PEERS_PER_BATCH` written peers takes.
 */
const DEFAULT_REMOVED_PER_BATCH = 1000

/** Retries of a failed flush: 1 s, doubling, at most a minute apart. */
const RETRY_FIRST_MS = 1000
const RETRY_MAX_MS = 60_000

/** For a flush promise nobody may await: its failure is reported by the flush loop (`onBatchError`). */
function reportedByFlushLoop(): void {}

function noMarks(): void {}

export class WritePath<S = unknown> {
  readonly #db: RecordDatabase<S>
  readonly #journal: WriteJournal | undefined
  readonly #index: { get(key: string): PeerEntry | undefined }
  readonly #onMarked: (key: string) => void
  readonly #onBatchError: ((failure: BatchFailure) => void) | undefined
  readonly #onCommitFailed: ((key: string) => void) | undefined
  readonly #location: string
  readonly #peersPerBatch: number
  readonly #removedPerBatch: number
  readonly #backlogLimit: number
  readonly #paceAbove: number
  /**
   * Records changed and not yet in LevelDB: by peer key, the `RECORD_KIND_BIT`s of the changed kinds. A flush encodes them
   * from the live entry; the text given to the journal is not kept, so a burst that outruns LevelDB holds a number
   * per peer, not its encoded records (~0.5 KB per peer, all of it promoted by the garbage collector).
   */
  // Sharded: after a GC of a million peers, one Map of their marks rehashed them all in one call as it grew.
  #dirty = new ShardedMap<number>()
  /**
   * Peers removed whole (GC's), in the order removed, and the mask of the kinds each held: a list, not marks in
   * `#dirty`, since a removal needs no lookup. A flush deletes them before it writes `#dirty`, so a peer written
   * again after its removal ends as written (a mark is always encoded from the live entry).
   */
  #removedKeys: string[] = []
  #removedMasks: number[] = []
  #nextFlush: PromiseWithResolvers<void> | undefined
  #flushing = false
  /** The last flush loop started; settled once it ran out of work. */
  #flushLoopDone: Promise<void> | undefined
  /** False from a failed LevelDB write until LevelDB's memtable is in a table file (see the top of this file). */
  #logTrusted = true
  /** The error of the last flush, until one succeeds. */
  #lastFailure: PeerStoreError | undefined
  #failures = 0
  #retryTimer: ReturnType<typeof setTimeout> | undefined
  #stopped = false
  /** The next flush writes everything in one batch (an import without a journal). */
  #oneBatch = false

  constructor(init: WritePathInit<S>) {
    this.#db = init.db
    this.#journal = init.journal
    this.#index = init.index
    this.#onMarked = init.onMarked ?? noMarks
    this.#onBatchError = init.onBatchError
    this.#onCommitFailed = init.onCommitFailed
    this.#location = init.location ?? 'the given database'
    this.#peersPerBatch = init.peersPerBatch ?? DEFAULT_PEERS_PER_BATCH
    this.#removedPerBatch = init.removedPerBatch ?? DEFAULT_REMOVED_PER_BATCH
    this.#backlogLimit = init.backlogLimit ?? JOURNAL_BACKLOG_LIMIT
    this.#paceAbove = init.paceAbove ?? JOURNAL_PACE_ABOVE
  }

  /** Peers with records not yet in LevelDB (a peer removed and written again since may count twice). */
  get pendingPeers(): number {
    return this.#dirty.size + this.#removedKeys.length
  }

  /** Whether the journal is needed for what LevelDB took since its last failure (and is kept until it is not). */
  get logTrusted(): boolean {
    return this.#logTrusted
  }

  /** The error of the last flush that failed, until a flush succeeds. */
  get lastFailure(): PeerStoreError | undefined {
    return this.#lastFailure
  }

  /** Journal bytes not yet known to be durably in LevelDB. */
  get journalBytes(): number {
    return this.#journal?.backlog ?? 0
  }

  /**
   * Refuses a write before it changes anything when LevelDB keeps failing and the journal already holds
   * `backlogLimit` bytes it has not taken.
   */
  assertWritable(): void {
    const failure = this.#lastFailure
    const journal = this.#journal
    if (failure === undefined || journal === undefined || journal.backlog <= this.#backlogLimit) return
    const mib = (journal.backlog / 1048576).toFixed(1)
    throw new PeerStoreError(
      failure.code,
      `the peer store at ${this.#location} refuses writes: LevelDB has failed since its last write ` +
        `(${failure.message}) and the journal holds ${mib} MiB it has not taken; once the disk takes writes again ` +
        `they are written and writes are accepted, or close and reopen the store (the journal is replayed on open)`,
      { cause: failure }
    )
  }

  /** Marks records of `key` changed; the next flush writes them. */
  markDirty(key: string, kinds: readonly RecordKind[]): void {
    let mask = this.#dirty.get(key) ?? 0
    for (const kind of kinds) mask |= RECORD_KIND_BIT[kind]
    this.#dirty.set(key, mask)
    // Every persisted change passes here, so it is the one place read caches learn of it.
    this.#onMarked(key)
  }

  /**
   * Makes a change of `key`'s records `kinds` durable: in the journal at once when there is one (LevelDB follows
   * in the background), else by awaiting the batch. With a journal, a failed append rejects (typed) after
   * `onCommitFailed` and leaves nothing dirty.
   */
  commit(key: string, kinds: readonly RecordKind[]): Promise<void> {
    const journal = this.#journal
    if (journal == null) {
      this.markDirty(key, kinds)
      return this.flush()
    }
    const live = this.#index.get(key)
    const records: JournaledRecord[] = []
    for (const kind of kinds) {
      records.push({ kind, key, value: live == null ? undefined : encodeRecord(kind, live) })
    }
    try {
      journal.append(records)
    } catch (err) {
      this.#onCommitFailed?.(key)
      return Promise.reject(journalWriteError(err, this.#location))
    }
    this.markDirty(key, kinds)
    return this.#afterAppend(journal)
  }

  /**
   * Journals the removal of whole peers gone from the index (GC's) as one append, and queues the deletes of the
   * kinds each held (`masks[i]`, `RECORD_KIND_BIT`s, for `keys[i]`). Not for a crash's sake alone (the next GC
   * would delete them again) but for a peer written again afterwards: its new records are journaled, and without
   * this line a crash would bring back beside them the records GC deleted. An append that fails throws typed; the
   * deletes are queued all the same, so LevelDB still takes them. Read caches hear nothing: a removed peer has no
   * entry left to tell them of (`PeerIndex.changed` skips a key it does not hold).
   */
  journalRemoved(keys: readonly string[], masks: readonly number[]): void {
    if (keys.length === 0) return
    for (let i = 0; i < keys.length; i++) {
      this.#removedKeys.push(keys[i] as string)
      this.#removedMasks.push(masks[i] as number)
    }
    try {
      this.#journal?.appendRemoved(keys)
    } catch (err) {
      throw journalWriteError(err, this.#location)
    }
  }

  /**
   * For changes marked dirty that need no journal: starts a flush (with a journal, only past `startAbove` peers
   * marked) and resolves at once when the store has a journal (LevelDB follows in the background; GC's changes are
   * so, since a crash before they land only leaves them for the next GC to make again), else once LevelDB has them
   * (so batches cannot pile up).
   */
  settleMarked(startAbove = 0): Promise<void> {
    const pending = this.pendingPeers
    if (pending === 0) return Promise.resolve()
    if (this.#journal == null) return this.flush()
    // With a journal, LevelDB need not start yet: a caller marking many peers in turns (GC) starts it past a bound.
    if (pending > startAbove) this.flush().catch(reportedByFlushLoop)
    return Promise.resolve()
  }

  /** After a journal append: LevelDB follows in the background, unless the journal holds too much already. */
  #afterAppend(journal: WriteJournal): Promise<void> {
    const flushed = this.flush()
    // Durable already: waiting for LevelDB only slows a writer down, its failure is not this write's.
    const backlog = journal.backlog
    if (backlog > this.#backlogLimit) return flushed.catch(reportedByFlushLoop)
    if (backlog > this.#paceAbove) return yieldToLoop()
    return Promise.resolve()
  }

  /**
   * Makes many records durable as one: with a journal, one append replayed all or nothing (`apply` changes memory
   * only once it is written, so a failed append changes nothing); without one, a single LevelDB batch.
   */
  commitGroup(records: readonly JournaledRecord[], apply: () => void): Promise<void> {
    const journal = this.#journal
    try {
      journal?.appendGroup(records)
    } catch (err) {
      return Promise.reject(journalWriteError(err, this.#location))
    }
    apply()
    for (const { kind, key } of records) this.markDirty(key, [kind])
    if (journal != null) return this.flush().catch(reportedByFlushLoop)
    this.#oneBatch = true
    return this.flush()
  }

  /** Resolves once everything marked so far is durably in LevelDB (one flush serves every caller until it starts). */
  flush(): Promise<void> {
    const pending = this.#nextFlush
    if (pending != null) return pending.promise
    const flush = Promise.withResolvers<void>()
    flush.promise.catch(reportedByFlushLoop)
    this.#nextFlush = flush
    if (!this.#flushing) {
      this.#flushing = true
      this.#flushLoopDone = this.#flushLoop()
    }
    return flush.promise
  }

  /**
   * Writes whatever is dirty, waits for the flush loop to stop, and stops retrying. True when nothing is left
   * unwritten and LevelDB holds all of it durably; false means the journal must be kept for the next open.
   */
  async drain(): Promise<boolean> {
    this.#stopped = true
    this.#cancelRetry()
    if (this.pendingPeers > 0 || !this.#logTrusted) await this.flush().catch(reportedByFlushLoop)
    await this.#flushLoopDone
    this.#cancelRetry()
    return this.pendingPeers === 0 && this.#logTrusted
  }

  async #flushLoop(): Promise<void> {
    // With a journal the writes have resolved already: the flush starts in a turn of its own (each batch is encoded
    // and handed to LevelDB in a turn of its own), so no caller's turn grows by a batch. Without one, the caller
    // waits for this flush: it starts at once.
    if (this.#journal != null) await yieldToLoop()
    while (this.#nextFlush != null) {
      const flush = this.#nextFlush
      this.#nextFlush = undefined
      // Everything journaled so far is in `#dirty` (or durably in LevelDB): once it all is, its files can go.
      const release = this.#journal?.rotate()
      const dirty = this.#dirty
      this.#dirty = new ShardedMap<number>()
      const removedKeys = this.#removedKeys
      const removedMasks = this.#removedMasks
      this.#removedKeys = []
      this.#removedMasks = []
      /** Removals written so far: on failure, the rest are queued again. */
      let removedDone = 0
      const perBatch = this.#oneBatch ? Number.POSITIVE_INFINITY : this.#peersPerBatch
      this.#oneBatch = false
      const pending = dirty.entries()
      let batchPeers: string[] = []
      try {
        // Removals first, in their order (a peer removed, written again and removed again ends removed).
        while (removedDone < removedKeys.length) {
          const end = Math.min(removedKeys.length, removedDone + this.#removedPerBatch)
          const ops: Array<RecordOp<S>> = []
          for (let i = removedDone; i < end; i++) {
            const key = removedKeys[i] as string
            const mask = removedMasks[i] as number
            for (const kind of RECORD_KINDS) {
              if ((mask & RECORD_KIND_BIT[kind]) !== 0)
                ops.push({ type: 'del', sublevel: this.#db.sublevels[kind], key })
            }
          }
          batchPeers = removedKeys.slice(removedDone, end)
          if (ops.length > 0) await this.#db.batch(ops)
          removedDone = end
        }
        for (;;) {
          const ops: Array<RecordOp<S>> = []
          batchPeers = []
          for (let next = pending.next(); !next.done; next = pending.next()) {
            const [key, mask] = next.value
            const entry = this.#index.get(key)
            for (const kind of RECORD_KINDS) {
              if ((mask & RECORD_KIND_BIT[kind]) === 0) continue
              const value = entry == null ? undefined : encodeRecord(kind, entry)
              const sublevel = this.#db.sublevels[kind]
              ops.push(value == null ? { type: 'del', sublevel, key } : { type: 'put', sublevel, key, value })
            }
            batchPeers.push(key)
            if (batchPeers.length === perBatch) break
          }
          if (ops.length === 0) break
          await this.#db.batch(ops)
          for (const key of batchPeers) dirty.delete(key)
        }
        if (!this.#logTrusted && this.#db.forceFlush != null) {
          batchPeers = []
          await this.#db.forceFlush()
        }
        this.#logTrusted = true
        release?.()
        this.#succeeded()
        flush.resolve()
      } catch (err) {
        const journaled = this.#journal != null
        const error = err instanceof PeerStoreError ? err : levelWriteError(err, this.#location, journaled)
        if (journaled) {
          // The journal still holds what did not land: write it again (or the next open does, from the journal).
          this.#logTrusted = false
          this.#removeAgain(removedKeys, removedMasks, removedDone)
          this.#markDirtyAgain(dirty)
        }
        this.#lastFailure = error
        this.#onBatchError?.({ error, peers: batchPeers.length, retried: journaled })
        if (journaled) this.#scheduleRetry()
        flush.reject(error)
      }
    }
    this.#flushing = false
  }

  #succeeded(): void {
    this.#lastFailure = undefined
    this.#failures = 0
    this.#cancelRetry()
  }

  #scheduleRetry(): void {
    if (this.#stopped || this.#retryTimer !== undefined) return
    const delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** this.#failures)
    this.#failures++
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined
      if (!this.#stopped) this.flush().catch(reportedByFlushLoop)
    }, delay)
    // A number in browsers, with nothing to unref.
    ;(this.#retryTimer as { unref?: () => void }).unref?.()
  }

  #cancelRetry(): void {
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer)
    this.#retryTimer = undefined
  }

  /** Queues again, before any removal queued since, the removals from `from` on that a failed flush did not write. */
  #removeAgain(keys: string[], masks: number[], from: number): void {
    if (from >= keys.length) return
    this.#removedKeys = keys.slice(from).concat(this.#removedKeys)
    this.#removedMasks = masks.slice(from).concat(this.#removedMasks)
  }

  /** Puts back the dirty marks a failed flush did not write (`failed` loses each batch's peers once it landed). */
  #markDirtyAgain(failed: ShardedMap<number>): void {
    for (const [key, mask] of failed) {
      this.markDirty(key, kindsOf(mask))
    }
  }
}
