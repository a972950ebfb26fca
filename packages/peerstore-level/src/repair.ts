// `verifyPeerStore` and `repairPeerStore`: find and recover damage in a LevelDB peer store directory.
//
// LevelDB does not check block checksums here (see @peerscope/leveldb-mend), so verify checks every block of every table
// file itself, then mends and reads every record through LevelDB on a copy, so the directory it is given is never
// written (opening a LevelDB writes: it replays its log into a new table).

import { execFile } from 'node:child_process'
import { cp, mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TableFileCheck } from '@peerscope/leveldb-mend'
import { PeerStoreError } from './errors.ts'
import { openPeerStore } from './node-open.ts'
import { decodeRecord } from './persistence/codec.ts'
import { JOURNAL_FILES } from './persistence/journal.ts'
import { peerIdFromKey } from './persistence/peer-key.ts'
import { assertNotLocked, mendDamagedTables, readAll } from './scan.ts'
import {
  newEntry,
  type QuarantinedRecord,
  RECORD_KINDS,
  type RecordKind,
  type UnreadableRecords
} from './types.ts'

export interface VerifyReport {
  path: string
  /** No damage found: every table checksum matched, every record was read and decoded. */
  clean: boolean
  /** Why LevelDB could not open the database at all (nothing could be read then). */
  openError?: string
  tables: TableFileCheck[]
  records: {
    good: number
    undecodable: number
    byKind: Record<RecordKind, { good: number; undecodable: number }>
  }
  /** Distinct peers among the good records. */
  peers: number
  /** Records moved aside by an earlier open (kept, not damage). */
  quarantined: number
  /** The first 100 undecodable records. */
  undecodable: QuarantinedRecord[]
  /** Kinds LevelDB could not read completely. */
  unreadable: UnreadableRecords[]
  /** One line per problem, for people. */
  problems: string[]
}

export interface RepairReport {
  path: string
  /** The copy taken before anything was changed. */
  backup: string
  before: VerifyReport
  /** What LevelDB's RepairDB logged (only run when LevelDB could not open the directory). */
  leveldb: string[]
  /** Raw LevelDB entries copied into the rebuilt database. */
  copied: number
  /** Records that failed to decode after repair, now in the `quarantine` sublevel. */
  quarantined: QuarantinedRecord[]
  after: VerifyReport
  /** Good records and peers after repair. */
  recovered: { records: number; peers: number }
  /** What could not be recovered, for people (LevelDB keeps no index of what a damaged block held). */
  lost: string[]
}

// --- helpers -------------------------------------------------------------------------------------

const LEVELDB_FILE = /^(CURRENT|MANIFEST-\d+|\d+\.(ldb|sst|log))$/

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}

async function levelFiles(path: string): Promise<string[]> {
  let names: string[]
  try {
    names = await readdir(path)
  } catch (err) {
    throw new PeerStoreError('ERR_DB_OPEN', `no peer store at ${path}`, { cause: err })
  }
  const files = names.filter((n) => LEVELDB_FILE.test(n)).sort()
  if (files.length === 0) throw new PeerStoreError('ERR_DB_OPEN', `no LevelDB database at ${path}`)
  return files
}

interface RawLevel {
  open(options?: { createIfMissing?: boolean }): Promise<void>
  close(): Promise<void>
  // biome-ignore lint/suspicious/noExplicitAny: sublevel types differ per backend; readAll only needs iterators
  sublevel(name: string, options: object): any
}

async function levelClass(): Promise<new (location: string, options?: object) => RawLevel> {
  return (await import('level')).Level as unknown as new (
    location: string,
    options?: object
  ) => RawLevel
}

function emptyByKind(): VerifyReport['records']['byKind'] {
  const out = {} as VerifyReport['records']['byKind']
  for (const kind of RECORD_KINDS) out[kind] = { good: 0, undecodable: 0 }
  return out
}

function causeMessage(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string } }
  return e.cause?.message ?? e.message ?? String(err)
}

// --- verify --------------------------------------------------------------------------------------

/**
 * Checks a peer store directory without writing to it: every table block checksum, then every record
 * read (by LevelDB, on a temporary copy) and decoded as `openPeerStore` would. Fails with `ERR_DB_OPEN`
 * when there is no LevelDB database at `path`, `ERR_DB_LOCKED` when a running process holds it (Linux).
 */
export async function verifyPeerStore(path: string): Promise<VerifyReport> {
  const files = await levelFiles(path)
  await assertNotLocked(path)
  const report: VerifyReport = {
    path,
    clean: false,
    tables: [],
    records: { good: 0, undecodable: 0, byKind: emptyByKind() },
    peers: 0,
    quarantined: 0,
    undecodable: [],
    unreadable: [],
    problems: []
  }
  const scratch = await mkdtemp(join(tmpdir(), 'peerscope-verify-'))
  try {
    const copy = join(scratch, 'db')
    await cp(path, copy, { recursive: true, filter: (src) => src === path || !src.endsWith('/lost') })
    // The copy is mended as an open would mend the directory, so the records counted are the ones it loads.
    report.tables = (await mendDamagedTables(copy)).checks
    for (const check of report.tables) {
      if (check.error !== undefined) report.problems.push(`table ${check.file}: ${check.error}`)
      else if (check.badBlocks > 0) {
        report.problems.push(
          `table ${check.file}: ${check.badBlocks} of ${check.blocks} blocks fail their checksum`
        )
      }
    }
    if (!files.includes('CURRENT')) {
      report.openError = 'CURRENT is missing, so LevelDB cannot find its tables'
    } else {
      const Level = await levelClass()
      const db = new Level(copy, { keyEncoding: 'utf8', valueEncoding: 'utf8' })
      try {
        await db.open({ createIfMissing: false })
      } catch (err) {
        report.openError = causeMessage(err)
      }
      if (report.openError === undefined) {
        try {
          await readRecords(db, report)
        } finally {
          await db.close()
        }
      }
    }
    // LevelDB's messages name the copy's files: name the user's instead.
    if (report.openError !== undefined) report.openError = report.openError.replaceAll(copy, path)
    for (const u of report.unreadable) u.message = u.message.replaceAll(copy, path)
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
  if (report.openError !== undefined) report.problems.unshift(`LevelDB cannot open it: ${report.openError}`)
  if (report.records.undecodable > 0) {
    report.problems.push(`${report.records.undecodable} record(s) do not decode`)
  }
  for (const u of report.unreadable)
    report.problems.push(`${u.kind}: some records are unreadable (${u.message})`)
  report.clean = report.problems.length === 0
  return report
}

async function readRecords(db: RawLevel, report: VerifyReport): Promise<void> {
  const peers = new Set<string>()
  const opts = { keyEncoding: 'utf8', valueEncoding: 'utf8' }
  for (const kind of RECORD_KINDS) {
    const counts = report.records.byKind[kind]
    const damage = await readAll<string, string>(kind, db.sublevel(kind, opts), (chunk) => {
      for (const [key, value] of chunk) {
        try {
          decodeRecord(kind, value, newEntry(peerIdFromKey(key)))
          counts.good++
          peers.add(key)
        } catch (err) {
          counts.undecodable++
          if (report.undecodable.length < 100) {
            report.undecodable.push({ kind, key, reason: (err as Error).message })
          }
        }
      }
    })
    if (damage !== undefined) report.unreadable.push(damage)
    report.records.good += counts.good
    report.records.undecodable += counts.undecodable
  }
  await readAll<string, string>('quarantine', db.sublevel('quarantine', opts), (chunk) => {
    report.quarantined += chunk.length
  })
  report.peers = peers.size
}

// --- repair ---------------------------------------------------------------------------------------

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-')
}

/** What the salvage child process reports on stdout. */
export interface Salvage {
  repaired: boolean
  copied: number
  error?: string
}

// The salvage runs in a child process: LevelDB asserts key order when it builds a table (RepairDB's table
// rewrite, compactions), and a table whose keys were garbled trips that assertion and aborts the whole process.
// Source in development (type stripping), compiled JavaScript once built.
const SALVAGE_SCRIPT = new URL(
  import.meta.url.endsWith('.ts') ? './salvage.ts' : './salvage.js',
  import.meta.url
)

function salvage(src: string, dest: string): Promise<Salvage> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [fileURLToPath(SALVAGE_SCRIPT), JSON.stringify([src, dest])],
      { maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        if (err == null) resolve(JSON.parse(stdout) as Salvage)
        else {
          const how = err.signal != null ? `it was killed by ${err.signal}` : `exit code ${err.code}`
          reject(new Error(`LevelDB failed (${how}): ${stderr.trim().split('\n').slice(-3).join(' ')}`))
        }
      }
    )
  })
}

/**
 * Repairs a peer store directory: copies it to `<path>.backup-<timestamp>` first, then (in a child
 * process) opens it, running LevelDB's RepairDB only if it cannot be opened (damaged or missing MANIFEST,
 * CURRENT or table file), and copies every record LevelDB can read into a fresh database that replaces the
 * directory. Then opens the store so undecodable records are quarantined, and verifies the result. The node
 * must not be running (`ERR_DB_LOCKED` on Linux if it is). If LevelDB fails, the directory is restored from
 * the backup and `ERR_DB_CORRUPT` is thrown.
 */
export async function repairPeerStore(path: string): Promise<RepairReport> {
  await levelFiles(path)
  await assertNotLocked(path)
  const before = await verifyPeerStore(path)
  const stamp = timestamp()
  const backup = `${path}.backup-${stamp}`
  const fresh = `${path}.repair-${stamp}`
  await cp(path, backup, { recursive: true, errorOnExist: true, force: false })
  // LevelDB must never parse a block that fails its checksum (see @peerscope/leveldb-mend): mend them first.
  await mendDamagedTables(path)

  let result: Salvage
  try {
    result = await salvage(path, fresh)
  } catch (err) {
    await rm(fresh, { recursive: true, force: true })
    await rm(path, { recursive: true, force: true })
    await cp(backup, path, { recursive: true })
    throw new PeerStoreError(
      'ERR_DB_CORRUPT',
      `could not repair ${path}: ${(err as Error).message}; it is as it was, backup at ${backup}`,
      { cause: err }
    )
  }
  // RepairDB's log: the open that followed it moved it to LOG.old.
  const log = result.repaired ? await readFile(join(path, 'LOG.old'), 'utf8').catch(() => '') : ''
  const leveldb = log
    .split('\n')
    .map((line) => line.replace(/^\S+ \S+ /, ''))
    .filter((line) => /^(Table #|Log #|Archiving|\*\*\*\* Repaired)/.test(line))
  // Writes acknowledged just before a crash may be only in the journal: carry it over, so the open below
  // replays it into the repaired database.
  for (const name of JOURNAL_FILES) {
    const journal = join(path, name)
    if (await exists(journal)) await cp(journal, join(fresh, name))
  }
  await rm(path, { recursive: true, force: true })
  await rename(fresh, path)

  const store = await openPeerStore({ path, gc: { interval: 0 } })
  const { quarantined } = store.openReport
  await store.close()
  const after = await verifyPeerStore(path)

  const lost: string[] = []
  for (const t of before.tables) {
    if (t.error !== undefined)
      lost.push(`table ${t.file} (${t.bytes} bytes): ${t.error}; its records are lost`)
    else if (t.badBlocks > 0) {
      lost.push(
        `table ${t.file}: ${t.badBlocks} damaged block(s); records LevelDB could not read in them are lost, ` +
          'records it could read were kept if they decode'
      )
    }
  }
  const missing = /(\d+) missing files/.exec(before.openError ?? '')?.[1]
  if (missing !== undefined) lost.push(`${missing} table file(s) were missing; their records are lost`)
  if (quarantined.length > 0) lost.push(`${quarantined.length} undecodable record(s) moved to the quarantine`)
  if (result.error !== undefined && lost.length === 0)
    lost.push(`LevelDB could not read some records (${result.error})`)
  return {
    path,
    backup,
    before,
    leveldb,
    copied: result.copied,
    quarantined,
    after,
    recovered: { records: after.records.good, peers: after.peers },
    lost
  }
}
