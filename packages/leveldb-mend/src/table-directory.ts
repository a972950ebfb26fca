// Checking and mending every table file of a LevelDB directory, before LevelDB opens it.

import { cp, mkdir, open, readdir, readFile, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { LevelDbMendError } from './errors.ts'
import { lockHeld } from './lock.ts'
import { mendTableFile } from './mend-table.ts'
import { inspectTableFile, type TableFileCheck, tableFileCheck } from './table-file.ts'

/**
 * A table file with blocks that failed their checksum, mended before LevelDB read it: each damaged data block
 * became an empty one (its records are gone), or the whole file reads as empty when its index was damaged.
 */
export interface MendedTable {
  file: string
  /** Blocks in the file, and how many failed their checksum. */
  blocks: number
  badBlocks: number
  /** Data blocks replaced by empty ones. */
  blankedBlocks: number
  /** The index or footer was damaged: the file now holds no records. */
  emptied: boolean
  /** The bloom filter was damaged and dropped (lookups read the file without it). */
  filterDropped: boolean
  /** The file as it was, kept under the directory's `lost/` folder. */
  original: string
}

export interface MendTablesResult {
  /** Every table file, checked before anything was mended. */
  checks: TableFileCheck[]
  /** The files that were mended. */
  mended: MendedTable[]
}

const TABLE_FILE = /^\d+\.(ldb|sst)$/

function assertDir(dir: unknown, fn: string): asserts dir is string {
  if (typeof dir !== 'string' || dir === '') {
    throw new LevelDbMendError('ERR_INVALID_ARGUMENT', `${fn}: dir must be a LevelDB directory's path`)
  }
}

/** The table files of `dir` in name order; none when it cannot be listed (no directory yet: a new database). */
async function tableFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => TABLE_FILE.test(n)).sort()
  } catch {
    return []
  }
}

/** Checks every block checksum of every table file (`*.ldb`, `*.sst`) in `dir`. Writes nothing. */
export async function checkTables(dir: string): Promise<TableFileCheck[]> {
  assertDir(dir, 'checkTables')
  const checks: TableFileCheck[] = []
  for (const file of await tableFiles(dir)) {
    checks.push(tableFileCheck(inspectTableFile(file, await readFile(join(dir, file)))))
  }
  return checks
}

/**
 * Checks every block checksum of every table file in `dir`, and mends the files with damaged blocks (see
 * `mendTableFile`) so LevelDB never reads one: each original goes to `lost/<file>.damaged` first, then the mended
 * bytes replace the file. Call it while the database is closed. Fails with `ERR_DB_LOCKED` when there is
 * something to mend and a running process holds the database (seen on Linux only); nothing is written then.
 * `options.lockHeld`: the caller holds LevelDB's lock on `dir` itself (and keeps LevelDB closed meanwhile), so the
 * lock it sees is its own.
 */
export async function mendTables(
  dir: string,
  options: { lockHeld?: boolean } = {}
): Promise<MendTablesResult> {
  assertDir(dir, 'mendTables')
  const checks: TableFileCheck[] = []
  const mended: MendedTable[] = []
  for (const file of await tableFiles(dir)) {
    const buf = await readFile(join(dir, file))
    const inspection = inspectTableFile(file, buf)
    const check = tableFileCheck(inspection)
    checks.push(check)
    // Mended in memory; the file on disk is still the original. A table another process is still writing has no
    // footer yet, and a file without one is never mended, so even where the lock cannot be seen (no /proc/locks)
    // no file a running LevelDB is writing gets replaced.
    const mend = mendTableFile(buf, inspection)
    if (mend === undefined) continue
    if (mended.length === 0 && options.lockHeld !== true && (await lockHeld(dir)) === true) {
      throw new LevelDbMendError(
        'ERR_DB_LOCKED',
        `${dir} is in use by a running process; close it before mending ${file}`
      )
    }
    const lost = join(dir, 'lost')
    const original = join(lost, `${file}.damaged`)
    await mkdir(lost, { recursive: true })
    await cp(join(dir, file), original, { force: false })
    // Written beside the original and renamed over it, so a crash leaves either file whole.
    const temp = join(lost, `${file}.mending`)
    const fh = await open(temp, 'w')
    try {
      await fh.writeFile(buf)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(temp, join(dir, file))
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
