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
// the event loop would otherwise grow the journal without bound.

import { type BatchFailure, type PeerEntry, RECORD_KINDS, type RecordKind } from '../types.ts'
import { encodeRecord } from './codec.ts'
import type { JournaledRecord } from './journal.ts'

/**
 * Past this many journal bytes not yet in LevelDB, writes wait for LevelDB again (a writer that never yields to
 * the event loop would otherwise grow the journal without bound).
 */
export const JOURNAL_BACKLOG_LIMIT = 32 * 1024 * 1024

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
  /** Records changed and not yet in LevelDB, by peer key. */
  #dirty = new Map<string, DirtyRecords>()
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
  }

  /** Peers with records not yet in LevelDB. */
  get pendingPeers(): number {
    return this.#dirty.size
  }

  /** Marks records of `key` changed; the next flush writes them. */
  markDirty(key: string, kinds: readonly RecordKind[]): void {
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
    const dirty = this.#dirty.get(key) as DirtyRecords
    const records = kinds.map((kind) => {
      const value = live == null ? undefined : encodeRecord(kind, live)
      dirty.encoded[kind] = value ?? null
      return { kind, key, value }
    })
    journal.append(records)
    const flushed = this.flush()
    if (journal.backlog > this.#backlogLimit) return flushed
    // Durable already; a failed batch keeps its records in the journal and is retried by the next flush.
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
            const [key, { mask, encoded }] = next.value
            const entry = this.#index.get(key)
            for (const kind of RECORD_KINDS) {
              if ((mask & KIND_BIT[kind]) === 0) continue
              const journaled = encoded[kind]
              const value =
                journaled !== undefined ? journaled : entry == null ? undefined : encodeRecord(kind, entry)
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
  #markDirtyAgain(failed: Map<string, DirtyRecords>): void {
    for (const [key, { mask }] of failed) {
      // Encoded again by the next flush: simpler than deciding which of two encodings is the newer.
      const kinds = RECORD_KINDS.filter((kind) => (mask & KIND_BIT[kind]) !== 0)
      this.markDirty(key, kinds)
    }
  }
}
