// The write path: how a change in the peer index becomes durable. A write marks the records it touched dirty (per
// peer, a bit per record kind) and resolves once they are durable: at once when the store has a journal (the new
// values are appended to it synchronously, LevelDB follows in the background), else once a LevelDB batch holding
// them is written. Dirty records are coalesced into one flush, so concurrent writers share batches and one change
// is always atomic.
//
// A flush writes batches of at most `peersPerBatch` peers, so a large backlog is never encoded in one long block of
// the event loop; all records of one peer stay in one batch. A batch that fails is reported at once
// (`onBatchError`). With a journal, its records stay there and are marked dirty again: the next flush writes them
// (and after a crash, the next open does, from the journal). Without one, the writes waiting on it reject. Past
// `backlogLimit` journal bytes not yet in LevelDB, writes wait for LevelDB again: a writer that never yields to
// the event loop would otherwise grow the journal without bound. Before that, past `paceAbove` bytes, each write
// resolves one turn of the event loop later, so LevelDB keeps up with a writer that awaits one write after another
// (such a writer never lets LevelDB's callbacks run otherwise): a burst then costs LevelDB's share as it goes,
// instead of one stall of seconds at the limit.

import { type BatchFailure, type PeerEntry, RECORD_KINDS, type RecordKind } from '../types.ts'
import { yieldToLoop } from '../yield.ts'
import { encodeRecord } from './codec.ts'
import type { JournaledRecord } from './journal.ts'

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
}

/** What the write path needs of the write-ahead journal (`Journal`). */
export interface WriteJournal {
  /** Appends the new state of some records; crash-safe when it returns. */
  append(records: readonly JournaledRecord[]): void
  /** Bytes appended and not yet known to be in LevelDB. */
  readonly backlog: number
  /** Switches appends to the other file; the returned function empties the file the current batch covers. */
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
  /** Peers per LevelDB batch when a flush has more to write (default 500). */
  peersPerBatch?: number
  /** Journal bytes not yet in LevelDB past which writes wait for LevelDB (default `JOURNAL_BACKLOG_LIMIT`). */
  backlogLimit?: number
  /** Journal bytes not yet in LevelDB past which writes resolve a turn later (default `JOURNAL_PACE_ABOVE`). */
  paceAbove?: number
}

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

const DEFAULT_PEERS_PER_BATCH = 500

/** For a flush promise nobody may await: its failure is reported by the flush loop (`onBatchError`). */
function reportedByFlushLoop(): void {}

function noMarks(): void {}

export class WritePath<S = unknown> {
  readonly #db: RecordDatabase<S>
  readonly #journal: WriteJournal | undefined
  readonly #index: { get(key: string): PeerEntry | undefined }
  readonly #onMarked: (key: string) => void
  readonly #onBatchError: ((failure: BatchFailure) => void) | undefined
  readonly #peersPerBatch: number
  readonly #backlogLimit: number
  readonly #paceAbove: number
  /**
   * Records changed and not yet in LevelDB: by peer key, the `KIND_BIT`s of the changed kinds. A flush encodes them
   * from the live entry; the text given to the journal is not kept, so a burst that outruns LevelDB holds a number
   * per peer, not its encoded records (~0.5 KB per peer, all of it promoted by the garbage collector).
   */
  #dirty = new Map<string, number>()
  #nextFlush: PromiseWithResolvers<void> | undefined
  #flushing = false
  /** The last flush loop started; settled once it ran out of work. */
  #flushLoopDone: Promise<void> | undefined

  constructor(init: WritePathInit<S>) {
    this.#db = init.db
    this.#journal = init.journal
    this.#index = init.index
    this.#onMarked = init.onMarked ?? noMarks
    this.#onBatchError = init.onBatchError
    this.#peersPerBatch = init.peersPerBatch ?? DEFAULT_PEERS_PER_BATCH
    this.#backlogLimit = init.backlogLimit ?? JOURNAL_BACKLOG_LIMIT
    this.#paceAbove = init.paceAbove ?? JOURNAL_PACE_ABOVE
  }

  /** Peers with records not yet in LevelDB. */
  get pendingPeers(): number {
    return this.#dirty.size
  }

  /** Marks records of `key` changed; the next flush writes them. */
  markDirty(key: string, kinds: readonly RecordKind[]): void {
    let mask = this.#dirty.get(key) ?? 0
    for (const kind of kinds) mask |= KIND_BIT[kind]
    this.#dirty.set(key, mask)
    // Every persisted change passes here, so it is the one place read caches learn of it.
    this.#onMarked(key)
  }

  /**
   * Marks records dirty and makes the change durable: in the journal at once when there is one (LevelDB follows
   * in the background), else by awaiting the batch.
   */
  commit(key: string, kinds: readonly RecordKind[]): Promise<void> {
    this.markDirty(key, kinds)
    const journal = this.#journal
    if (journal == null) return this.flush()
    const live = this.#index.get(key)
    const records = kinds.map((kind) => ({
      kind,
      key,
      value: live == null ? undefined : encodeRecord(kind, live)
    }))
    journal.append(records)
    return this.#afterAppend(journal)
  }

  /**
   * Journals the deletion of peers gone from the index (GC's), all in one append, and marks their records dirty.
   * Not for a crash's sake alone (the next GC would delete them again) but for a peer written again afterwards: its
   * new records are journaled, and without these lines a crash would bring back beside them the records GC deleted.
   */
  journalRemoved(removed: ReadonlyArray<readonly [string, readonly RecordKind[]]>): void {
    if (removed.length === 0) return
    const records: JournaledRecord[] = []
    for (const [key, kinds] of removed) {
      this.markDirty(key, kinds)
      for (const kind of kinds) records.push({ kind, key, value: undefined })
    }
    this.#journal?.append(records)
  }

  /**
   * For changes marked dirty that need no journal: starts a flush (with a journal, only past `startAbove` peers
   * marked) and resolves at once when the store has a journal (LevelDB follows in the background; GC's changes are
   * so, since a crash before they land only leaves them for the next GC to make again), else once LevelDB has them
   * (so batches cannot pile up).
   */
  settleMarked(startAbove = 0): Promise<void> {
    if (this.#dirty.size === 0) return Promise.resolve()
    if (this.#journal == null) return this.flush()
    // With a journal, LevelDB need not start yet: a caller marking many peers in turns (GC) starts it past a bound.
    if (this.#dirty.size > startAbove) void this.flush()
    return Promise.resolve()
  }

  /** After a journal append: LevelDB follows in the background, unless the journal holds too much already. */
  #afterAppend(journal: WriteJournal): Promise<void> {
    const flushed = this.flush()
    // Durable already; a failed batch keeps its records in the journal and is retried by the next flush.
    const backlog = journal.backlog
    if (backlog > this.#backlogLimit) return flushed
    if (backlog > this.#paceAbove) return yieldToLoop()
    return Promise.resolve()
  }

  /** Resolves once everything marked so far is in LevelDB (one flush serves every caller until it starts). */
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
   * Writes whatever is dirty and waits for the flush loop to stop. True when nothing is left unwritten (a failed
   * batch has been reported by then; with a journal its records are still dirty, and the journal must be kept).
   */
  async drain(): Promise<boolean> {
    if (this.#dirty.size > 0) await this.flush().catch(reportedByFlushLoop)
    await this.#flushLoopDone
    return this.#dirty.size === 0
  }

  async #flushLoop(): Promise<void> {
    // With a journal the writes have resolved already: the flush starts in a turn of its own (each batch is encoded
    // and handed to LevelDB in a turn of its own), so no caller's turn grows by a batch. Without one, the caller
    // waits for this flush: it starts at once.
    if (this.#journal != null) await yieldToLoop()
    while (this.#nextFlush != null) {
      const flush = this.#nextFlush
      this.#nextFlush = undefined
      // Everything journaled so far is in `#dirty`: once it is all in LevelDB, its journal file can go.
      const release = this.#journal?.rotate()
      const dirty = this.#dirty
      this.#dirty = new Map()
      const pending = dirty.entries()
      let batchPeers: string[] = []
      try {
        for (;;) {
          const ops: Array<RecordOp<S>> = []
          batchPeers = []
          for (let next = pending.next(); !next.done; next = pending.next()) {
            const [key, mask] = next.value
            const entry = this.#index.get(key)
            for (const kind of RECORD_KINDS) {
              if ((mask & KIND_BIT[kind]) === 0) continue
              const value = entry == null ? undefined : encodeRecord(kind, entry)
              const sublevel = this.#db.sublevels[kind]
              ops.push(value == null ? { type: 'del', sublevel, key } : { type: 'put', sublevel, key, value })
            }
            batchPeers.push(key)
            if (batchPeers.length === this.#peersPerBatch) break
          }
          if (ops.length === 0) break
          await this.#db.batch(ops)
          for (const key of batchPeers) dirty.delete(key)
        }
        release?.()
        flush.resolve()
      } catch (err) {
        const retried = this.#journal != null
        // The journal still holds what did not land: write it again with the next batch (or on the next open).
        if (retried) this.#markDirtyAgain(dirty)
        this.#onBatchError?.({ error: err, peers: batchPeers.length, retried })
        flush.reject(err)
      }
    }
    this.#flushing = false
  }

  /** Puts back the dirty marks a failed flush did not write (`failed` loses each batch's peers once it landed). */
  #markDirtyAgain(failed: Map<string, number>): void {
    for (const [key, mask] of failed) {
      const kinds = RECORD_KINDS.filter((kind) => (mask & KIND_BIT[kind]) !== 0)
      this.markDirty(key, kinds)
    }
  }
}
