// `verifyPeerStore` and `repairPeerStore`: find and recover damage in a LevelDB peer store directory.
//
// LevelDB does not check block checksums here (see @peerscope/leveldb-mend), so verify checks every block of every table
// file itself, then mends and reads every record through LevelDB on a copy, so the directory it is given is never
// written (opening a LevelDB writes: it replays its log into a new table). It also checks the write-ahead journal
// (every line's checksum) and LevelDB's logs (what LevelDB will drop on its next open).
//
// Both take the directory first (persistence/directory-lock.ts: this process's registry, then LevelDB's lock), so
// neither ever runs on a live store nor reads a directory another process is changing: verify holds it while it
// copies it, repair while it works on a copy and puts the repaired database in place.

import { execFile } from 'node:child_process'
import { cp, mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { checkLogs, type LogFileCheck, type TableFileCheck } from '@peerscope/leveldb-mend'
import { PeerStoreError } from './errors.ts'
import { openPeerStore } from './node-open.ts'
import { decodeRecord } from './persistence/codec.ts'
import { holdDirectory } from './persistence/directory-lock.ts'
import { journalFiles, readJournal } from './persistence/journal.ts'
import { peerIdFromKey } from './persistence/peer-key.ts'
import { currentProblem, mendDamagedTables, readAll } from './scan.ts'
import {
  type JournalDamage,
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
  /**
   * The write-ahead journal: records the next open writes into LevelDB (acknowledged writes LevelDB may lack; a
   * peer removed whole counts as one), and damaged lines (their appends are dropped, never replayed).
   */
  journal: { files: string[]; records: number; damage: JournalDamage[] }
  /** LevelDB's log files; `damageAt` set on one whose tail LevelDB will drop when it opens. */
  logs: LogFileCheck[]
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
 * Checks a peer store directory without writing to it: every table block checksum, the journal's line checksums,
 * LevelDB's logs, then every record read (by LevelDB, on a temporary copy) and decoded as `openPeerStore` would.
 * Fails with `ERR_DB_OPEN` when there is no LevelDB database at `path`, `ERR_DB_LOCKED` when a store is open on it
 * (in this process, or in another: LevelDB's lock).
 */
export async function verifyPeerStore(path: string): Promise<VerifyReport> {
  const scratch = await mkdtemp(join(tmpdir(), 'peerscope-verify-'))
  try {
    const copy = join(scratch, 'db')
    const held = await holdDirectory(path, { create: false })
    try {
      await levelFiles(path)
      await copyStore(path, copy)
    } finally {
      await held.release()
    }
    return await verifyCopy(path, copy)
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
}

/** Copies the store's files (not `lost/`, which holds what earlier opens moved aside). */
async function copyStore(path: string, to: string): Promise<void> {
  await cp(path, to, { recursive: true, filter: (src) => src === path || !src.endsWith('/lost') })
}

/** Verifies `copy`, a copy of the store at `path` (named in the report). Mends and opens the copy. */
async function verifyCopy(path: string, copy: string): Promise<VerifyReport> {
  const files = await levelFiles(copy)
  const journal = readJournal(copy)
  const report: VerifyReport = {
    path,
    clean: false,
    tables: [],
    records: { good: 0, undecodable: 0, byKind: emptyByKind() },
    peers: 0,
    quarantined: 0,
    undecodable: [],
    unreadable: [],
    journal: {
      files: journal.files,
      records: journal.records.length + journal.removed.length,
      damage: journal.damage
    },
    logs: await checkLogs(copy),
    problems: []
  }
  for (const d of journal.damage) {
    report.problems.push(
      `journal ${d.file} line ${d.line}: ${d.reason}; that append (${d.dropped} more record(s)) will not be ` +
        'replayed (the next open moves the file to lost/)'
    )
  }
  for (const log of report.logs) {
    if (log.damageAt === undefined) continue
    report.problems.push(
      `LevelDB log ${log.file} is damaged at byte ${log.damageAt} (${log.reason}): LevelDB will drop ` +
        `${log.droppedBytes} bytes of writes from it when it opens; those the journal holds (${journal.records.length} ` +
        'record(s)) are written again by the next open, others are lost'
    )
  }
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
  const current = files.includes('CURRENT') ? await currentProblem(copy) : undefined
  if (!files.includes('CURRENT')) {
    report.openError = 'CURRENT is missing, so LevelDB cannot find its tables'
  } else if (current !== undefined) {
    report.openError = current.replace(/^its /, '')
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
  if (report.openError !== undefined) {
    report.problems.unshift(`LevelDB cannot open it: ${report.openError}; run \`peerscope repair ${path}\``)
  }
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
 * Repairs a peer store directory: copies it to `<path>.backup-<timestamp>` first, then works on a copy: mends its
 * table files and (in a child process) opens it, running LevelDB's RepairDB only if it cannot be opened (damaged
 * or missing MANIFEST, CURRENT or table file), and copies every record LevelDB can read into a fresh database,
 * which then replaces the directory. All of that while holding the directory (`ERR_DB_LOCKED` if a store is open
 * on it, here or in another process). Then opens the store so undecodable records are quarantined and the journal
 * is replayed, and verifies the result. If LevelDB fails, the directory is left as it was and `ERR_DB_CORRUPT` is
 * thrown.
 */
export async function repairPeerStore(path: string): Promise<RepairReport> {
  const held = await holdDirectory(path, { create: false })
  const scratch = await mkdtemp(join(tmpdir(), 'peerscope-repair-'))
  let before: VerifyReport
  let backup: string
  let result: Salvage
  let log: string
  try {
    await levelFiles(path)
    const work = join(scratch, 'db')
    await copyStore(path, work)
    // Verifying the copy mends its table files as the open would (LevelDB must never parse a block that fails its
    // checksum, see @peerscope/leveldb-mend) and lets LevelDB replay its log.
    before = await verifyCopy(path, work)
    const stamp = timestamp()
    backup = `${path}.backup-${stamp}`
    const fresh = `${path}.repair-${stamp}`
    await cp(path, backup, { recursive: true, errorOnExist: true, force: false })
    try {
      result = await salvage(work, fresh)
    } catch (err) {
      await rm(fresh, { recursive: true, force: true })
      throw new PeerStoreError(
        'ERR_DB_CORRUPT',
        `could not repair ${path}: ${(err as Error).message}; it is as it was, backup at ${backup}`,
        { cause: err }
      )
    }
    log = result.repaired ? await readFile(join(work, 'LOG.old'), 'utf8').catch(() => '') : ''
    // Writes acknowledged just before a crash may be only in the journal: carry it over, so the open below
    // replays it into the repaired database.
    for (const name of journalFiles(path)) await cp(join(path, name), join(fresh, name))
    await rm(path, { recursive: true, force: true })
    await rename(fresh, path)
  } finally {
    await held.release()
    await rm(scratch, { recursive: true, force: true })
  }
  // RepairDB's log: the open that followed it moved it to LOG.old.
  const leveldb = log
    .split('\n')
    .map((line) => line.replace(/^\S+ \S+ /, ''))
    .filter((line) => /^(Table #|Log #|Archiving|\*\*\*\* Repaired)/.test(line))
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
