// Opening and reading a LevelDB that may hold damaged table files: mending them first, reading every record, and the
// checks that refuse a directory LevelDB would mistreat. Facts measured on classic-level 3 (LevelDB 1.20), see
// README "Corruption and repair": an iterator skips a block it cannot read and reports the error only when it
// reaches the end, and the `nextv` call that reports it drops the records it had already gathered.

import { cp, mkdir, open, readdir, readFile, rename, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { PeerStoreError } from './errors.ts'
import { inspectTableFile, mendTableFile, type TableFileCheck, tableFileCheck } from './table-file.ts'
import type { MendedTable, UnreadableRecords } from './types.ts'

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

/**
 * LevelDB's lock is an fcntl lock on `LOCK`; Linux lists those in /proc/locks. Verify must not read a
 * database a running node is writing, and RepairDB takes no lock of its own. Elsewhere this cannot tell.
 */
export async function assertNotLocked(path: string): Promise<void> {
  let locks: string
  let st: Awaited<ReturnType<typeof stat>>
  try {
    locks = await readFile('/proc/locks', 'utf8')
    st = await stat(join(path, 'LOCK'))
  } catch {
    return
  }
  const dev = Number(st.dev)
  const major = (dev >>> 8) & 0xfff
  const minor = (dev & 0xff) | ((dev >>> 12) & 0xfff00)
  for (const line of locks.split('\n')) {
    const id = line.trim().split(/\s+/)[5]
    const [ma, mi, ino] = id?.split(':') ?? []
    if (
      ino !== undefined &&
      Number(ino) === Number(st.ino) &&
      Number.parseInt(ma!, 16) === major &&
      Number.parseInt(mi!, 16) === minor
    ) {
      throw new PeerStoreError('ERR_DB_LOCKED', `peer store at ${path} is in use by a running process`)
    }
  }
}

const TABLE_FILE = /^\d+\.(ldb|sst)$/

/**
 * Checks every block checksum of every table file in `path`, and mends the files with damaged blocks before
 * LevelDB reads them (see table-file.ts for why): each original goes to `lost/<file>.damaged` first, then the
 * mended bytes replace the file. Fails with `ERR_DB_LOCKED` when there is something to mend and a running
 * process holds the database (Linux).
 */
export async function mendDamagedTables(
  path: string
): Promise<{ checks: TableFileCheck[]; mended: MendedTable[] }> {
  let names: string[]
  try {
    names = (await readdir(path)).filter((n) => TABLE_FILE.test(n)).sort()
  } catch {
    return { checks: [], mended: [] } // no directory yet: a new store
  }
  const checks: TableFileCheck[] = []
  const mended: MendedTable[] = []
  for (const file of names) {
    const buf = await readFile(join(path, file))
    const inspection = inspectTableFile(file, buf)
    const check = tableFileCheck(inspection)
    checks.push(check)
    // Mended in memory; the file on disk is still the original. A table another process is still writing has no
    // footer yet, and a file without one is never mended, so even where the lock cannot be seen (no /proc/locks)
    // no file a running LevelDB is writing gets replaced.
    const mend = mendTableFile(buf, inspection)
    if (mend === undefined) continue
    if (mended.length === 0) await assertNotLocked(path)
    const lost = join(path, 'lost')
    const original = join(lost, `${file}.damaged`)
    await mkdir(lost, { recursive: true })
    await cp(join(path, file), original, { force: false })
    // Written beside the original and renamed over it, so a crash leaves either file whole.
    const temp = join(lost, `${file}.mending`)
    const fh = await open(temp, 'w')
    try {
      await fh.writeFile(buf)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(temp, join(path, file))
    mended.push({
      file,
      blocks: check.blocks,
      badBlocks: check.badBlocks,
      blankedBlocks: mend.blankedBlocks,
      emptied: mend.emptied,
      filterDropped: mend.filterDropped,
      original
    })
  }
  return { checks, mended }
}
