// Failures to write the store's files, as typed errors: `ERR_STORAGE_FULL` when the file system is full (free
// space there), `ERR_STORAGE_WRITE` for the rest (an I/O error). The message names the store's path and what to
// do next; the original error is the `cause`.
import { PeerStoreError } from '../errors.ts'

/** LevelDB reports errno only in its message text (`IO error: <file>: No space left on device`). */
const FULL_MESSAGE = /No space left on device|Disk quota exceeded|ENOSPC|EDQUOT/

/** True for a failure that means the file system is full. */
export function isStorageFull(err: unknown): boolean {
  for (
    let e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0;
    e != null && depth < 4;
    depth++
  ) {
    if (e.code === 'ENOSPC' || e.code === 'EDQUOT') return true
    if (typeof e.message === 'string' && FULL_MESSAGE.test(e.message)) return true
    e = e.cause as typeof e
  }
  return false
}

function reason(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string } }
  return e.cause?.message ?? e.message ?? String(err)
}

/** A journal append that failed: the write was not applied. */
export function journalWriteError(err: unknown, where: string): PeerStoreError {
  const full = isStorageFull(err)
  return new PeerStoreError(
    full ? 'ERR_STORAGE_FULL' : 'ERR_STORAGE_WRITE',
    `the peer store at ${where} cannot write its journal (${reason(err)}): this write was not applied and ` +
      (full
        ? 'nothing changed; free space on that file system, then write again'
        : 'nothing changed; check the disk'),
    { cause: err }
  )
}

/**
 * A LevelDB write that failed. With a journal the writes it held are safe there and written again; `next` says
 * what else to do.
 */
export function levelWriteError(err: unknown, where: string, journaled: boolean): PeerStoreError {
  const full = isStorageFull(err)
  const kept = journaled
    ? 'the writes it held are kept in the journal and written again once LevelDB takes writes'
    : 'the writes waiting on it were not stored'
  return new PeerStoreError(
    full ? 'ERR_STORAGE_FULL' : 'ERR_STORAGE_WRITE',
    `the peer store at ${where} could not write to LevelDB (${reason(err)}); ${kept}; ` +
      (full ? 'free space on that file system' : 'check the disk'),
    { cause: err }
  )
}
