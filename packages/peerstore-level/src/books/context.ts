// What every book works on. The books (addresses, keys, protocols, metadata and latency, tags and pins) hold the
// rules of their part of the API; they share one peer index and one write path, which the store owns.

import type { PeerIndex } from '../peer-index.ts'
import type { PeerEntry, RecordKind } from '../types.ts'

export interface BookContext {
  readonly index: PeerIndex
  /** The store's clock, epoch ms. */
  now(): number
  /** True once the store is closed. */
  isClosed(): boolean
  /**
   * Throws `ERR_CLOSED` once the store is closed, and a storage error while it refuses writes (LevelDB failing
   * with a full journal): every write checks it first, before it changes anything.
   */
  assertOpen(): void
  /**
   * Saves the peer's entry as it is now, to be put back if the next commit's journal append fails. The store takes
   * one before each call; a book whose write starts after an await takes its own.
   */
  undoPoint(key: string): void
  /**
   * A change to the peer: stamps its write time, drops its entry if nothing keeps it (peer-age.ts), marks `kinds`
   * dirty and makes the change durable (persistence/write-path.ts). Rejects only when a LevelDB batch fails,
   * which the store has reported then.
   */
  commit(key: string, kinds: readonly RecordKind[]): Promise<void>
  /** As `commit`, without stamping the write time: for a cache fill, which is not a write about the peer. */
  persist(key: string, kinds: readonly RecordKind[]): Promise<void>
  /** After a call that changed nothing: an entry left holding nothing leaves the index (its saved time too). */
  settleUnchanged(key: string, entry: PeerEntry): Promise<void>
}

/** For a write nobody waits on: a failed batch is reported by the store when it fails (`flush-error`). */
export function reportedByStore(): void {}
