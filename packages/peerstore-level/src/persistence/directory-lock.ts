// Holding a LevelDB directory before LevelDB opens it, so that nothing reads, mends or opens a directory another
// store holds (Node only).
//
// LevelDB's lock is a POSIX (fcntl) lock on the directory's `LOCK` file. Such a lock belongs to the process, not
// to a file descriptor, and closing any descriptor of the file drops it. LevelDB opens `LOCK` before it checks its
// own in-process table of held locks, and closes it again when it finds the path held: so a second open of a held
// directory in the same process silently releases the first one's lock. Two things prevent that here:
//
// - An in-process registry of the directories this process holds, by real path, checked before anything else
//   touches the path: a second open in the same process fails with `ERR_DB_LOCKED` and nothing opens `LOCK`.
// - Before mending and LevelDB's open, the directory is locked through a guard: a tiny LevelDB in a fresh temporary
//   directory (`<tmp>/peerscope-locks/<pid>-<n>`) whose `LOCK` is a symbolic link to the store's `LOCK`. Its lock is LevelDB's lock on the store's
//   `LOCK` file (the same inode), so another process (any LevelDB, or `peerscope`) cannot open the store from then
//   on; the store's own LevelDB then takes the lock this process already holds. Nothing is written in the store's
//   directory (verify takes the lock too, and must not write). The guard stays open until the store's LevelDB has
//   closed: unlocking either one unlocks both.
import { closeSync, mkdirSync, openSync, realpathSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { PeerStoreError } from '../errors.ts'

const held = new Set<string>()

/** Where guards live: `<tmp>/peerscope-locks/<pid>-<n>`, so one left by a killed process can be told and removed. */
const GUARDS = join(tmpdir(), 'peerscope-locks')
let guardsMade = 0
let sweep: Promise<void> | undefined

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM' // another user's process
  }
}

/** Removes, once per process, the guards of processes that are gone (a SIGKILL leaves its guard behind). */
function sweepGuards(): Promise<void> {
  sweep ??= (async () => {
    for (const name of await readdir(GUARDS).catch(() => [] as string[])) {
      const pid = Number(name.split('-')[0])
      if (Number.isSafeInteger(pid) && pid !== process.pid && !alive(pid)) {
        await rm(join(GUARDS, name), { recursive: true, force: true }).catch(() => {})
      }
    }
  })()
  return sweep
}

/** A fresh directory for a guard: under GUARDS, or a temporary one where that cannot be made (another user's). */
async function guardDir(): Promise<string> {
  try {
    await mkdir(GUARDS, { recursive: true, mode: 0o700 })
    await sweepGuards()
    const dir = join(GUARDS, `${process.pid}-${guardsMade++}`)
    await mkdir(dir)
    return dir
  } catch {
    return mkdtemp(join(tmpdir(), 'peerscope-lock-'))
  }
}

/** The real path of a directory (made when missing and `create`, as LevelDB would make it; its parent must exist). */
function realDirectory(path: string, create: boolean): string {
  try {
    return realpathSync(path)
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOENT') throw openError(path, err)
    if (!create) throw new PeerStoreError('ERR_DB_OPEN', `no peer store at ${path}`, { cause: err })
  }
  try {
    mkdirSync(path)
  } catch (err) {
    if ((err as { code?: string }).code !== 'EEXIST') throw openError(path, err)
  }
  return realpathSync(path)
}

function openError(path: string, err: unknown): PeerStoreError {
  const code = (err as { code?: string }).code
  const why =
    code === 'ENOENT'
      ? 'its parent directory does not exist; create it first'
      : code === 'ENOTDIR'
        ? 'it is not a directory'
        : (err as Error).message
  return new PeerStoreError('ERR_DB_OPEN', `cannot open peer store at ${path}: ${why}`, { cause: err })
}

export function lockedError(path: string, where: 'process' | 'other', cause?: unknown): PeerStoreError {
  return new PeerStoreError(
    'ERR_DB_LOCKED',
    where === 'process'
      ? `peer store at ${path} is already open in this process; close that store first (one store per directory)`
      : `peer store at ${path} is locked by another process; stop it first`,
    cause === undefined ? undefined : { cause }
  )
}

/** A directory claimed in this process; `release()` gives it back. */
export interface DirectoryClaim {
  /** The directory's real path. */
  readonly path: string
  release(): void
}

/**
 * Claims `path` in this process's registry, or fails with `ERR_DB_LOCKED` having touched nothing in it. A missing
 * directory is made when `create`, else it is `ERR_DB_OPEN`.
 */
export function claimDirectory(path: string, create = true): DirectoryClaim {
  const real = realDirectory(resolve(path), create)
  if (held.has(real)) throw lockedError(path, 'process')
  held.add(real)
  let released = false
  return {
    path: real,
    release() {
      if (!released) held.delete(real)
      released = true
    }
  }
}

interface GuardLevel {
  open(options?: object): Promise<void>
  close(): Promise<void>
}

/** The guard of a claimed directory: LevelDB's lock on its `LOCK` file, held by this process. */
export interface DirectoryGuard {
  close(): Promise<void>
}

/**
 * Takes LevelDB's lock on the claimed directory through the guard; `ERR_DB_LOCKED` when another process holds
 * it. Call only with a claim held (a second guard in one process would release the first's lock). The store's
 * `LOCK` file is made (empty, as LevelDB makes it) when missing and `create`; without it and without `create` no
 * LevelDB can hold the directory, and there is nothing to lock.
 */
export async function guardDirectory(
  claim: DirectoryClaim,
  shownPath: string,
  create = true
): Promise<DirectoryGuard> {
  const lock = join(claim.path, 'LOCK')
  try {
    closeSync(openSync(lock, create ? 'a' : 'r'))
  } catch (err) {
    if (!create && (err as { code?: string }).code === 'ENOENT') return { close: async () => {} }
    throw openError(shownPath, err)
  }
  const dir = await guardDir()
  const removeDir = () => rm(dir, { recursive: true, force: true })
  try {
    await symlink(lock, join(dir, 'LOCK'))
  } catch (err) {
    await removeDir()
    throw openError(shownPath, err)
  }
  const { Level } = await import('level')
  const guard = new Level(dir) as unknown as GuardLevel
  try {
    await guard.open()
  } catch (err) {
    await removeDir()
    const e = err as { code?: string; cause?: { code?: string; message?: string } }
    if (
      e.code === 'LEVEL_LOCKED' ||
      e.cause?.code === 'LEVEL_LOCKED' ||
      /temporarily unavailable/.test(e.cause?.message ?? '')
    ) {
      throw lockedError(shownPath, 'other', err)
    }
    throw openError(shownPath, err)
  }
  return {
    async close() {
      try {
        await guard.close()
      } finally {
        await removeDir()
      }
    }
  }
}

/**
 * Claims and guards `path` (`ERR_DB_LOCKED` when this or another process holds it); `release` undoes both. With
 * `create` false nothing is written: a missing directory is `ERR_DB_OPEN`.
 */
export async function holdDirectory(
  path: string,
  options: { create?: boolean } = {}
): Promise<{ path: string; release(): Promise<void> }> {
  const create = options.create ?? true
  const claim = claimDirectory(path, create)
  let guard: DirectoryGuard
  try {
    guard = await guardDirectory(claim, path, create)
  } catch (err) {
    claim.release()
    throw err
  }
  return {
    path: claim.path,
    async release() {
      try {
        await guard.close()
      } finally {
        claim.release()
      }
    }
  }
}
