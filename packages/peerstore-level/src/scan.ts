// Opening and reading a LevelDB that may hold damage: the hook onto `@peerscope/leveldb-mend`, which mends damaged
// table files before LevelDB opens the directory; reading every record despite the damage LevelDB itself reports
// (read-all.ts); and the checks that refuse a directory LevelDB would mistreat.

import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { LevelDbMendError, mendTables, type TableFileCheck } from '@peerscope/leveldb-mend'
import { PeerStoreError } from './errors.ts'
import type { MendedTable } from './types.ts'

export { readAll } from './read-all.ts'

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

/**
 * CURRENT names the MANIFEST LevelDB reads first. A damaged one makes LevelDB fail with whatever the damage
 * spells (a missing file, an I/O error): check it here, so every such store fails with `ERR_DB_CORRUPT` naming
 * `peerscope repair` (which rebuilds it). Returns the problem in words, or undefined when CURRENT is sound or absent.
 */
export async function currentProblem(path: string): Promise<string | undefined> {
  let text: string
  try {
    text = await readFile(join(path, 'CURRENT'), 'latin1')
  } catch {
    return undefined // absent: a new store, or assertNotOrphaned's case
  }
  const manifest = /^(MANIFEST-\d+)\n$/.exec(text)?.[1]
  if (manifest === undefined) return 'its CURRENT file is damaged (it does not name a MANIFEST)'
  try {
    if (!(await stat(join(path, manifest))).isFile())
      return `its CURRENT file names ${manifest}, which is not a file`
  } catch {
    return `its CURRENT file names ${manifest}, which does not exist`
  }
  return undefined
}

/** `ERR_DB_CORRUPT` naming `peerscope repair` when CURRENT is damaged (`currentProblem`). */
export async function assertCurrentSound(path: string): Promise<void> {
  const problem = await currentProblem(path)
  if (problem !== undefined) {
    throw new PeerStoreError(
      'ERR_DB_CORRUPT',
      `peer store at ${path} is damaged: ${problem}; run \`peerscope repair ${path}\``
    )
  }
}

function inUse(path: string, options?: ErrorOptions): PeerStoreError {
  return new PeerStoreError('ERR_DB_LOCKED', `peer store at ${path} is in use by a running process`, options)
}

/**
 * Checks every block checksum of every table file in `path`, and mends the files with damaged blocks before
 * LevelDB reads them (`mendTables` of `@peerscope/leveldb-mend`: LevelDB as classic-level builds it never checks
 * them, and a garbled key aborts the process): each original goes to `lost/<file>.damaged`. Fails with
 * `ERR_DB_LOCKED` when there is something to mend and a running process holds the database (Linux), unless
 * `lockHeld`: the caller holds the directory's lock itself (directory-lock.ts).
 */
export async function mendDamagedTables(
  path: string,
  options: { lockHeld?: boolean } = {}
): Promise<{ checks: TableFileCheck[]; mended: MendedTable[] }> {
  try {
    return await mendTables(path, options)
  } catch (err) {
    if (!(err instanceof LevelDbMendError)) throw err
    if (err.code === 'ERR_DB_LOCKED') throw inUse(path, { cause: err })
    throw new PeerStoreError('ERR_INVALID_ARGUMENT', `peer store path must be a directory's path`, {
      cause: err
    })
  }
}
