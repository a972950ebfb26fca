// `verifyPeerStore` and `repairPeerStore`: find and recover damage in a LevelDB peer store directory.
//
// classic-level gives no way to turn on LevelDB's checksum verification (`verify_checksums`,
// `paranoid_checks`), so a flipped byte in an uncompressed block is read back silently. Verify therefore
// checks every block checksum of every table file itself (the sstable format: 48-byte footer, index block,
// block trailer = type byte + masked CRC32C), then reads every record through LevelDB on a copy, so the
// directory it is given is never written (opening a LevelDB writes: it replays its log into a new table).

import { execFile } from 'node:child_process'
import { cp, mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { decodeRecord } from './codec.ts'
import { PeerStoreError } from './errors.ts'
import { JOURNAL_FILES } from './journal.ts'
import { peerIdFromKey } from './peer-key.ts'
import { readAll } from './scan.ts'
import { openPeerStore } from './store.ts'
import {
  newEntry,
  type QuarantinedRecord,
  RECORD_KINDS,
  type RecordKind,
  type UnreadableRecords
} from './types.ts'

/** The checksum scan of one table file (`*.ldb` / `*.sst`). */
export interface TableFileCheck {
  file: string
  bytes: number
  /** Blocks whose checksum was checked: data, index, meta-index and filter blocks. */
  blocks: number
  /** Blocks whose checksum did not match, or that lie past the end of the file. */
  badBlocks: number
  /** Set when the file could not be checked past its footer or index: every record in it is unreadable. */
  error?: string
}

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

// --- table checksum scan -------------------------------------------------------------------------

const TABLE_MAGIC = [0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb] // 0xdb4775248b80fb57, little-endian
const FOOTER = 48
const TRAILER = 5

const CRC_TABLE = (() => {
  const t = new Uint32Array(256)
  for (let i = 0; i < 256; i++) {
    let c = i
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
    t[i] = c >>> 0
  }
  return t
})()

/** CRC32C (Castagnoli), as LevelDB uses. */
function crc32c(data: Uint8Array, start: number, end: number): number {
  let c = 0xffffffff
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

/** LevelDB stores CRCs masked (rotated and offset) so a CRC of data holding CRCs stays strong. */
function unmask(masked: number): number {
  const rot = (masked - 0xa282ead8) >>> 0
  return ((rot >>> 17) | (rot << 15)) >>> 0
}

class FormatError extends Error {}

function varint(buf: Uint8Array, pos: number): [number, number] {
  let value = 0
  for (let shift = 0; shift < 64; shift += 7) {
    const b = buf[pos++]
    if (b === undefined) throw new FormatError('varint past end')
    value += (b & 0x7f) * 2 ** shift
    if (b < 0x80) return [value, pos]
  }
  throw new FormatError('varint too long')
}

interface Handle {
  offset: number
  size: number
}

function handleAt(buf: Uint8Array, pos: number): [Handle, number] {
  const [offset, p1] = varint(buf, pos)
  const [size, p2] = varint(buf, p1)
  return [{ offset, size }, p2]
}

/** Snappy block decompression (index and meta-index blocks may be compressed). */
function unsnappy(src: Uint8Array): Uint8Array {
  const [length, start] = varint(src, 0)
  let pos = start
  if (length > 64 * 1024 * 1024) throw new FormatError('snappy length')
  const out = new Uint8Array(length)
  let o = 0
  const byte = (): number => {
    const b = src[pos++]
    if (b === undefined) throw new FormatError('snappy past end')
    return b
  }
  while (pos < src.length) {
    const tag = byte()
    if ((tag & 3) === 0) {
      let n = tag >>> 2
      if (n >= 60) {
        const bytes = n - 59
        n = 0
        for (let i = 0; i < bytes; i++) n += byte() * 2 ** (8 * i)
      }
      n += 1
      if (pos + n > src.length || o + n > length) throw new FormatError('snappy literal')
      out.set(src.subarray(pos, pos + n), o)
      pos += n
      o += n
      continue
    }
    let n: number
    let offset: number
    if ((tag & 3) === 1) {
      n = ((tag >>> 2) & 7) + 4
      offset = ((tag >>> 5) << 8) | byte()
    } else if ((tag & 3) === 2) {
      n = (tag >>> 2) + 1
      offset = byte() | (byte() << 8)
    } else {
      n = (tag >>> 2) + 1
      offset = byte() + byte() * 2 ** 8 + byte() * 2 ** 16 + byte() * 2 ** 24
    }
    if (offset === 0 || offset > o || o + n > length) throw new FormatError('snappy copy')
    // Copies may overlap their own output, so byte by byte.
    for (let i = 0; i < n; i++) out[o + i] = out[o - offset + i]!
    o += n
  }
  if (o !== length) throw new FormatError('snappy length mismatch')
  return out
}

/** True when the block's stored checksum matches; throws FormatError when it lies past the file's end. */
function blockOk(file: Uint8Array, h: Handle): boolean {
  const end = h.offset + h.size
  if (end + TRAILER > file.length) throw new FormatError('block past end of file')
  const stored =
    (file[end + 1]! | (file[end + 2]! << 8) | (file[end + 3]! << 16) | (file[end + 4]! << 24)) >>> 0
  return crc32c(file, h.offset, end + 1) === unmask(stored)
}

function blockContents(file: Uint8Array, h: Handle): Uint8Array {
  const raw = file.subarray(h.offset, h.offset + h.size)
  const type = file[h.offset + h.size]
  if (type === 0) return raw
  if (type === 1) return unsnappy(raw)
  throw new FormatError(`unknown block type ${type}`)
}

/** The values of a block's entries (for index and meta-index blocks: handles of other blocks). */
function blockHandles(block: Uint8Array): Handle[] {
  if (block.length < 4) throw new FormatError('block too short')
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength)
  const restarts = view.getUint32(block.length - 4, true)
  const end = block.length - 4 - restarts * 4
  if (end < 0) throw new FormatError('bad restart count')
  const out: Handle[] = []
  let p = 0
  while (p < end) {
    const [, p1] = varint(block, p) // shared key bytes
    const [unshared, p2] = varint(block, p1)
    const [valueLength, p3] = varint(block, p2)
    const valueStart = p3 + unshared
    if (valueStart + valueLength > end) throw new FormatError('entry past end of block')
    out.push(handleAt(block, valueStart)[0])
    p = valueStart + valueLength
  }
  return out
}

/** Checks every block checksum of one table file. Read-only. */
export function checkTableFile(file: string, buf: Uint8Array): TableFileCheck {
  const result: TableFileCheck = { file, bytes: buf.length, blocks: 0, badBlocks: 0 }
  if (buf.length < FOOTER) {
    result.error = `too short to be a table (${buf.length} bytes): truncated`
    return result
  }
  const footer = buf.subarray(buf.length - FOOTER)
  if (!TABLE_MAGIC.every((b, i) => footer[40 + i] === b)) {
    result.error = 'bad magic number: truncated or overwritten'
    return result
  }
  try {
    const [metaindex, p] = handleAt(footer, 0)
    const [index] = handleAt(footer, p)
    const inner: Handle[] = []
    for (const [what, h] of [
      ['index', index],
      ['meta-index', metaindex]
    ] as const) {
      result.blocks++
      if (!blockOk(buf, h)) {
        result.badBlocks++
        result.error = `${what} block checksum mismatch: no record in this file can be found`
        return result
      }
      inner.push(...blockHandles(blockContents(buf, h)))
    }
    for (const h of inner) {
      result.blocks++
      try {
        if (!blockOk(buf, h)) result.badBlocks++
      } catch (err) {
        if (!(err instanceof FormatError)) throw err
        result.badBlocks++
      }
    }
  } catch (err) {
    if (!(err instanceof FormatError)) throw err
    result.error = `unreadable table structure (${err.message})`
  }
  return result
}

// --- helpers -------------------------------------------------------------------------------------

const TABLE_FILE = /^\d+\.(ldb|sst)$/
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

/**
 * LevelDB's lock is an fcntl lock on `LOCK`; Linux lists those in /proc/locks. Verify must not read a
 * database a running node is writing, and RepairDB takes no lock of its own. Elsewhere this cannot tell.
 */
async function assertNotLocked(path: string): Promise<void> {
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
  for (const name of files.filter((n) => TABLE_FILE.test(n))) {
    const check = checkTableFile(name, await readFile(join(path, name)))
    report.tables.push(check)
    if (check.error !== undefined) report.problems.push(`table ${name}: ${check.error}`)
    else if (check.badBlocks > 0) {
      report.problems.push(`table ${name}: ${check.badBlocks} of ${check.blocks} blocks fail their checksum`)
    }
  }

  const scratch = await mkdtemp(join(tmpdir(), 'peerscope-verify-'))
  try {
    const copy = join(scratch, 'db')
    await cp(path, copy, { recursive: true, filter: (src) => src === path || !src.endsWith('/lost') })
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
