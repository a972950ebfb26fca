// Reading a LevelDB that may hold damaged table files. Facts measured on classic-level 3 (LevelDB 1.20), see
// README "Corruption and repair": an iterator skips a block it cannot read and reports the error only when it
// reaches the end, and the `nextv` call that reports it drops the records it had already gathered.

import { readdir } from 'node:fs/promises'
import { PeerStoreError } from './errors.ts'
import type { UnreadableRecords } from './types.ts'

interface Iter<K, V> {
  nextv(size: number): Promise<Array<[K, V]>>
  close(): Promise<void>
}

interface Readable<K, V> {
  iterator(options?: { gt: K }): Iter<K, V>
}

/** True for the errors LevelDB raises on a damaged or truncated file (not for closed/locked/aborted). */
export function isStorageDamage(err: unknown): err is Error & { code: string } {
  const code = (err as { code?: unknown } | null)?.code
  return code === 'LEVEL_CORRUPTION' || code === 'LEVEL_IO_ERROR'
}

/**
 * Hands every readable record of `sub` to `onChunk`, in key order. Returns what could not be read, if
 * anything. When a chunk fails, the tail after the last record handed over is read again one record at a
 * time, so only the records LevelDB itself cannot read are missing.
 */
export async function readAll<K, V>(
  kind: string,
  sub: Readable<K, V>,
  onChunk: (chunk: Array<[K, V]>) => void | Promise<void>
): Promise<UnreadableRecords | undefined> {
  let damage: UnreadableRecords | undefined
  let last: K | undefined
  let size = 1000
  let it = sub.iterator()
  try {
    for (;;) {
      let chunk: Array<[K, V]>
      try {
        chunk = await it.nextv(size)
      } catch (err) {
        if (!isStorageDamage(err)) throw err
        damage ??= { kind, code: err.code, message: err.message }
        if (size === 1) break
        await it.close()
        it = sub.iterator(last === undefined ? undefined : { gt: last })
        size = 1
        continue
      }
      if (chunk.length === 0) break
      await onChunk(chunk)
      last = chunk[chunk.length - 1]![0]
    }
  } finally {
    await it.close()
  }
  return damage
}

/**
 * LevelDB finds its tables through CURRENT. Without it LevelDB takes the directory for a new database and,
 * with `createIfMissing` (the default), deletes every table file as obsolete: refuse instead.
 */
export async function assertNotOrphaned(path: string): Promise<void> {
  let names: string[]
  try {
    names = await readdir(path)
  } catch {
    return // no directory yet: a new store
  }
  if (names.includes('CURRENT')) return
  const data = names.filter((n) => /^MANIFEST-\d+$|^\d+\.(ldb|sst|log)$/.test(n))
  if (data.length > 0) {
    throw new PeerStoreError(
      'ERR_DB_CORRUPT',
      `peer store at ${path} is damaged: its CURRENT file is missing but ${data.length} LevelDB file(s) remain; ` +
        `run \`peerscope repair ${path}\` (opening it as is would delete them)`
    )
  }
}

/** The typed error for a LevelDB open failure that means damage (missing table, bad MANIFEST or CURRENT). */
export function corruptOnOpen(err: unknown, where: string): PeerStoreError | undefined {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } }
  const cause = e.cause ?? e
  const message = cause.message ?? ''
  // A missing MANIFEST (CURRENT names one that is gone) surfaces as an IO error, not a corruption.
  if (
    cause.code === 'LEVEL_CORRUPTION' ||
    (cause.code === 'LEVEL_IO_ERROR' && /MANIFEST-\d+/.test(message))
  ) {
    return new PeerStoreError(
      'ERR_DB_CORRUPT',
      `peer store at ${where} is damaged (${message}); run \`peerscope repair ${where}\``,
      { cause: err }
    )
  }
  return undefined
}
