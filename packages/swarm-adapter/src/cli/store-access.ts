// How the CLI opens a stored database. Reading commands never change it: they refuse a path that holds no store
// (rather than create an empty one there), and read a private snapshot of it, so neither LevelDB's own open
// (it replays its log into a new table) nor the store's open (mending, quarantine, TTL downgrades) touches the
// user's directory. Writing commands (`gc`, `import`) open the directory itself but refuse damaged table files:
// mending is `peerscope repair`'s job, which backs the directory up first.

import { chmod, copyFile, link, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { checkTables, lockHeld } from '@peerscope/leveldb-mend'
import {
  DEFAULT_MAX_PEER_AGE,
  type LevelPeerStore,
  openPeerStore,
  openReportWarnings,
  PeerStoreError
} from '@peerscope/peerstore-level'
import { CliError, fileError } from './cli-error.ts'

const TABLE_FILE = /^\d+\.(ldb|sst)$/
const LEVELDB_FILE = /^(MANIFEST-\d+|\d+\.(ldb|sst|log))$/
/** Not copied into a snapshot: LevelDB's lock and its text logs, and the folder of files mended earlier. */
const NOT_COPIED = new Set(['LOCK', 'LOG', 'LOG.old', 'lost'])

export interface OpenedStore {
  store: LevelPeerStore
  /** Lines to print as warnings (damage seen while loading); empty for a clean store. */
  warnings: string[]
  close(): Promise<void>
}

function noStore(path: string, why: string): CliError {
  return new CliError(
    'ERR_NO_PEER_STORE',
    `no peer store at ${path}: ${why}; check the path (the node's peerStore.path)`
  )
}

/**
 * Refuses a path that holds no peer store: missing, a file, or a directory without LevelDB's CURRENT (a directory
 * whose CURRENT is gone but whose tables remain is damage, `ERR_DB_CORRUPT`).
 */
export async function assertPeerStore(path: string): Promise<void> {
  let names: string[]
  try {
    if (!(await stat(path)).isDirectory()) throw noStore(path, 'it is a file, not a directory')
    names = await readdir(path)
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') throw noStore(path, 'the directory does not exist')
    throw fileError(err, 'read the peer store', path)
  }
  if (names.includes('CURRENT')) return
  const data = names.filter((n) => LEVELDB_FILE.test(n))
  if (data.length > 0) {
    throw new PeerStoreError(
      'ERR_DB_CORRUPT',
      `peer store at ${path} is damaged: its CURRENT file is missing but ${data.length} LevelDB file(s) remain; ` +
        `run \`peerscope repair ${path}\``
    )
  }
  throw noStore(
    path,
    names.length === 0 ? 'the directory is empty' : 'the directory holds no LevelDB database'
  )
}

async function assertNotInUse(path: string): Promise<void> {
  if ((await lockHeld(path)) === true) {
    throw new PeerStoreError('ERR_DB_LOCKED', `peer store at ${path} is in use by a running process`)
  }
}

/** Copies the store's files into `to`; table files (never rewritten by LevelDB) are hard-linked when possible. */
async function snapshot(path: string, to: string): Promise<void> {
  for (const name of await readdir(path)) {
    if (NOT_COPIED.has(name)) continue
    const from = join(path, name)
    if (!(await stat(from)).isFile()) continue
    if (TABLE_FILE.test(name)) {
      try {
        await link(from, join(to, name))
        continue
      } catch {
        // Another file system (EXDEV) or links not allowed: copy it.
      }
    }
    await copyFile(from, join(to, name))
    // The copy is ours to write (the journal, LevelDB's files) even when the user's files are read-only.
    await chmod(join(to, name), 0o600)
  }
}

/** Damage the snapshot's open found, said about the user's directory, which is unchanged. */
function snapshotWarnings(store: LevelPeerStore, path: string): string[] {
  const report = store.openReport
  const repair = `the store on disk is unchanged: run \`peerscope repair ${path}\` to recover it`
  const lines: string[] = []
  for (const m of report.mended) {
    lines.push(
      `damaged table file ${m.file} in ${path}: ${m.badBlocks} of ${m.blocks} blocks fail their checksum and ` +
        `their records are not shown; ${repair}`
    )
  }
  if (report.quarantined.length > 0) {
    lines.push(`${report.quarantined.length} record(s) in ${path} do not decode and are not shown; ${repair}`)
  }
  if (report.unreadable.length > 0) {
    lines.push(
      `some ${report.unreadable.map((u) => u.kind).join(', ')} records in ${path} could not be read and are ` +
        `not shown; ${repair}`
    )
  }
  return lines
}

/** Names the user's directory instead of the snapshot's in an error from opening the snapshot. */
function renamed(err: unknown, copy: string, path: string): unknown {
  if (!(err instanceof PeerStoreError)) return err
  return new PeerStoreError(err.code, err.message.replaceAll(copy, path), { cause: err })
}

/** Opens a read-only view of the store at `path`: a snapshot, removed again by `close()`. */
export async function openForReading(path: string): Promise<OpenedStore> {
  await assertPeerStore(path)
  await assertNotInUse(path)
  const scratch = await mkdtemp(join(tmpdir(), 'peerscope-read-'))
  const copy = join(scratch, 'db')
  const remove = () => rm(scratch, { recursive: true, force: true })
  try {
    await mkdir(copy)
    try {
      await snapshot(path, copy)
    } catch (err) {
      throw fileError(err, 'read the peer store', path)
    }
    const store = await openPeerStore({ path: copy, gc: { interval: 0 } }).catch((err: unknown) => {
      throw renamed(err, copy, path)
    })
    return {
      store,
      warnings: snapshotWarnings(store, path),
      close: async () => {
        await store.close()
        await remove()
      }
    }
  } catch (err) {
    await remove()
    throw err
  }
}

/** `ERR_DB_CORRUPT` when a table file of `path` is damaged: a writing command must not mend it unasked. */
async function assertTablesIntact(path: string, command: string): Promise<void> {
  let checks: Awaited<ReturnType<typeof checkTables>>
  try {
    checks = await checkTables(path)
  } catch (err) {
    throw fileError(err, 'read the peer store', path)
  }
  const damaged = checks.filter((c) => c.error !== undefined || c.badBlocks > 0)
  if (damaged.length === 0) return
  const what = damaged
    .map((c) =>
      c.error !== undefined
        ? `${c.file}: ${c.error}`
        : `${c.file}: ${c.badBlocks} of ${c.blocks} blocks fail their checksum`
    )
    .join('; ')
  throw new PeerStoreError(
    'ERR_DB_CORRUPT',
    `peer store at ${path} has damaged table files (${what}); \`peerscope ${command}\` does not mend: ` +
      `run \`peerscope repair ${path}\` first (it backs the directory up)`
  )
}

/**
 * Opens the store at `path` to change it. With `create`, a missing or empty directory becomes a new store (a
 * missing one is made; its parent must exist) and `discard()` takes that back when the command fails, so a failed
 * import leaves nothing behind.
 */
export async function openForWriting(
  path: string,
  command: string,
  options: { create?: boolean } = {}
): Promise<OpenedStore & { created: boolean; discard(): Promise<void> }> {
  let created: 'no' | 'directory' | 'contents' = 'no'
  try {
    await assertPeerStore(path)
  } catch (err) {
    if (options.create !== true || (err as CliError).code !== 'ERR_NO_PEER_STORE') throw err
    // Only a missing path or an empty directory may become a new store.
    const names = await readdir(path).catch((readErr: { code?: string }) => {
      if (readErr.code === 'ENOENT') return undefined
      throw err
    })
    if (names === undefined) {
      try {
        await mkdir(path)
      } catch (mkdirErr) {
        if ((mkdirErr as { code?: string }).code === 'ENOENT') {
          throw new CliError(
            'ERR_NO_SUCH_FILE',
            `cannot create the peer store ${path}: its parent directory ${dirname(path)} does not exist; create it first`
          )
        }
        throw fileError(mkdirErr, 'create the peer store', path)
      }
      created = 'directory'
    } else if (names.length === 0) {
      created = 'contents'
    } else {
      throw err // a directory with other files in it: not ours to fill
    }
  }
  // What a failed command leaves: nothing it made.
  const discard = async (): Promise<void> => {
    if (created === 'directory') await rm(path, { recursive: true, force: true })
    else if (created === 'contents') {
      for (const name of await readdir(path)) await rm(join(path, name), { recursive: true, force: true })
    }
  }
  if (created === 'no') {
    await assertNotInUse(path)
    await assertTablesIntact(path, command)
  }
  let store: LevelPeerStore
  try {
    // As a node configured with the defaults: peers that aged out (6 h unwritten, no live address) go in `gc`.
    store = await openPeerStore({ path, gc: { interval: 0, maxPeerAge: DEFAULT_MAX_PEER_AGE } })
  } catch (err) {
    await discard()
    throw err
  }
  return {
    store,
    created: created !== 'no',
    warnings: openReportWarnings(store.openReport, path),
    close: () => store.close(),
    discard
  }
}
