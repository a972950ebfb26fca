// Reading every record of a LevelDB (sub)level that may hold damage LevelDB reports while reading (a truncated table
// file): an iterator skips a block it cannot read and reports the error only when it reaches the end, and the
// `nextv` call that reports it drops the records it had already gathered (measured on classic-level 3, LevelDB
// 1.20; README "Corruption and repair"). The repair's salvage child process loads this module on its own, by
// plain `node`, so it imports no workspace package.

import type { UnreadableRecords } from './types.ts'

interface Iter<K, V> {
  nextv(size: number): Promise<Array<[K, V]>>
  close(): Promise<void>
}

interface Readable<K, V> {
  iterator(options: { gt?: K; highWaterMarkBytes?: number }): Iter<K, V>
}

/** True for the errors LevelDB raises on a damaged or truncated file (not for closed/locked/aborted). */
export function isStorageDamage(err: unknown): err is Error & { code: string } {
  const code = (err as { code?: unknown } | null)?.code
  return code === 'LEVEL_CORRUPTION' || code === 'LEVEL_IO_ERROR'
}

// classic-level ends a `nextv` at 16 KiB by default: about 100 records, so a store of 10,000 peers took ~500 round
// trips to LevelDB's thread pool at open. With 1 MiB each call returns its full chunk (other backends ignore it).
const CHUNK_BYTES = 1 << 20

/**
 * Hands every readable record of `sub` to `onChunk`, in key order. Returns what could not be read, if
 * anything. When a chunk fails, the tail after the last record handed over is read again one record at a
 * time, so only the records LevelDB itself cannot read are missing. The next chunk is read while `onChunk`
 * works on the current one.
 */
export async function readAll<K, V>(
  kind: string,
  sub: Readable<K, V>,
  onChunk: (chunk: Array<[K, V]>) => void | Promise<void>
): Promise<UnreadableRecords | undefined> {
  let damage: UnreadableRecords | undefined
  let last: K | undefined
  let size = 1000
  let it = sub.iterator({ highWaterMarkBytes: CHUNK_BYTES })
  let next = read(it, size)
  try {
    for (;;) {
      let chunk: Array<[K, V]>
      try {
        chunk = await next
      } catch (err) {
        if (!isStorageDamage(err)) throw err
        damage ??= { kind, code: err.code, message: err.message }
        if (size === 1) break
        await it.close()
        it = sub.iterator(last === undefined ? {} : { gt: last })
        size = 1
        next = read(it, size)
        continue
      }
      if (chunk.length === 0) break
      next = read(it, size)
      await onChunk(chunk)
      last = chunk[chunk.length - 1]![0]
    }
  } finally {
    await it.close()
  }
  return damage
}

/** `it.nextv(size)`, marked handled: if `onChunk` throws meanwhile, its rejection is not an unhandled one. */
function read<K, V>(it: Iter<K, V>, size: number): Promise<Array<[K, V]>> {
  const chunk = it.nextv(size)
  chunk.catch(() => {})
  return chunk
}
