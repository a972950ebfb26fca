// The write-ahead journal of a LevelDB peer store opened by path. A write is durable against a process crash
// once it is in the kernel's page cache; LevelDB's own asynchronous batch takes a round trip through its thread
// pool (about 100 µs here) before it gets there, and one awaited write at a time pays that round trip every
// time. The journal gets there with one synchronous write(2) of a few hundred bytes, so a write resolves at
// once, and LevelDB batches are written behind it, many writes at a time. On open, whatever the journal holds
// is written into LevelDB before the store loads.
//
// Files. The journal is a run of numbered segment files, `peerscope-journal-<n>`, oldest first. Appends go to
// the newest. A flush seals the newest (later appends start a new one) and, once its batch is durably in LevelDB,
// deletes every segment older than the seal: a prefix of the run, never a segment newer than one it keeps, so an
// older state of a record is never kept without its newer states.
//
// Lines. `<crc>\t<i>/<n>\t<kind>\t<peer>\t<record JSON>` (a put) or without the JSON (a delete). `<crc>` is the
// CRC-32 (8 hex digits) of everything after its tab; JSON escapes tabs and newlines, so neither appears inside a
// field (a peer text holding either, or starting with `"`, is written as a JSON string). `<i>/<n>`: the line is
// record i of the n records of one append (one write's records, or a whole import), which is replayed all or
// nothing. A line that fails its checksum is reported and its whole append is dropped, never replayed as a phantom
// record; the next `1/<n>` line starts the next append. An append cut short by a crash (fewer than n lines) was
// never acknowledged: it is dropped silently.
//
// A line of kind `gone`, `<crc>\t<i>/<n>\tgone\t<peer>\t<peer>...`, removes whole peers (GC's removals): every
// record of each peer it lists is deleted, whatever kinds it held; a later line for one of them writes it again.
// One such line stands for a thousand peers where a delete line per record took four. Code older than this line
// kind reports it as damaged (an unknown kind) and replays nothing of its append, the others as written: at worst
// peers GC removed come back from LevelDB, and the next GC removes them again.
import {
  closeSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync
} from 'node:fs'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { type JournalDamage, RECORD_KINDS, type RecordKind } from '../types.ts'
import { JournalLines, REMOVED_KIND } from './journal-lines.ts'

export const JOURNAL_PREFIX = 'peerscope-journal-'
const SEGMENT = /^peerscope-journal-(\d+)$/
/** The two alternating files of the journal's first format (no checksums); read once, then removed. */
const LEGACY = ['peerscope-journal-a', 'peerscope-journal-b'] as const

/** The last journaled state of one record: its JSON, or `undefined` when it was deleted. */
export interface JournaledRecord {
  kind: RecordKind
  key: string
  value: string | undefined
}

export interface JournalContents {
  /** The journal's files, oldest first. */
  files: string[]
  bytes: number
  /** The latest journaled state per record, over every complete append. */
  records: JournaledRecord[]
  /**
   * Peers a `gone` line removed whole: every record kind of each is deleted on replay, before `records` are
   * written (which hold only what was journaled for them after their removal).
   */
  removed: string[]
  damage: JournalDamage[]
}

/** The journal files in `dir`, oldest first (the first format's two files before every segment). */
export function journalFiles(dir: string): string[] {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return []
  }
  const segments = names
    .map((name) => ({ name, n: SEGMENT.exec(name)?.[1] }))
    .filter((s): s is { name: string; n: string } => s.n !== undefined)
    .sort((a, b) => Number(a.n) - Number(b.n))
    .map((s) => s.name)
  return [...LEGACY.filter((name) => names.includes(name)), ...segments]
}

/** The journal lines of one append (replayed all or nothing), as written. */
export function journalText(records: readonly JournaledRecord[]): string {
  const lines = new JournalLines()
  lines.begin(records.length)
  for (const record of records) lines.add(record.kind, record.key, record.value)
  return lines.take().toString('utf8')
}

/** The line of one append that removes the peers `keys` whole (`Journal.appendRemoved`), as written. */
export function removedText(keys: readonly string[]): string {
  const lines = new JournalLines()
  lines.begin(1)
  lines.addRemoved(keys)
  return lines.take().toString('utf8')
}

/** A line's content: one record, or (a `gone` line) the peers it removes whole. */
type LineItem = JournaledRecord | { removed: string[] }

type Parsed = { item: LineItem; i: number; n: number } | { damage: string }

/** A peer field as written (`keyField`): JSON when quoted; undefined when it is unreadable or empty. */
function readKeyField(text: string): string | undefined {
  let key = text
  if (key.startsWith('"')) {
    try {
      key = JSON.parse(key) as string
    } catch {
      return undefined
    }
  }
  return typeof key !== 'string' || key === '' ? undefined : key
}

const POSITION = /^(\d{1,9})\/(\d{1,9})$/

function parseLine(text: string): Parsed {
  if (text.length < 10 || text.charCodeAt(8) !== 9) return { damage: 'not a journal line' }
  const body = text.slice(9)
  const stored = Number.parseInt(text.slice(0, 8), 16)
  if (!/^[0-9a-f]{8}$/.test(text.slice(0, 8)) || crc32(body) >>> 0 !== stored) {
    return { damage: 'checksum mismatch' }
  }
  const fields = body.split('\t')
  if (fields[1] === REMOVED_KIND) return parseRemoved(fields)
  if (fields.length !== 3 && fields.length !== 4) return { damage: 'wrong number of fields' }
  const [position, kind, keyText, value] = fields as [string, string, string, string | undefined]
  const at = POSITION.exec(position)
  const i = Number(at?.[1])
  const n = Number(at?.[2])
  if (at == null || i < 1 || i > n || !(RECORD_KINDS as readonly string[]).includes(kind)) {
    return { damage: 'unknown field value' }
  }
  const key = readKeyField(keyText)
  if (key === undefined) return { damage: keyText === '' ? 'empty peer field' : 'unreadable peer field' }
  return { item: { kind: kind as RecordKind, key, value }, i, n }
}

/** A `gone` line's fields after its checksum: position, kind, then one peer field per peer removed. */
function parseRemoved(fields: string[]): Parsed {
  const at = POSITION.exec(fields[0] as string)
  const i = Number(at?.[1])
  const n = Number(at?.[2])
  if (at == null || i < 1 || i > n || fields.length < 3) return { damage: 'unknown field value' }
  const removed: string[] = []
  for (let f = 2; f < fields.length; f++) {
    const key = readKeyField(fields[f] as string)
    if (key === undefined) return { damage: fields[f] === '' ? 'empty peer field' : 'unreadable peer field' }
    removed.push(key)
  }
  return { item: { removed }, i, n }
}

/** Applies one complete append's items to the latest state per record and the peers removed whole. */
function applyItems(
  items: readonly LineItem[],
  latest: Map<string, JournaledRecord>,
  removed: Set<string>
): void {
  for (const item of items) {
    if ('removed' in item) {
      for (const key of item.removed) {
        // What was journaled for the peer before its removal is deleted with it.
        for (const kind of RECORD_KINDS) latest.delete(`${kind}\u0000${key}`)
        removed.add(key)
      }
    } else latest.set(`${item.kind}\u0000${item.key}`, item)
  }
}

/** The first format: `<seq>\t<kind>\t<peer>[\t<JSON>]`, one record per line, the highest seq winning. */
function readLegacy(texts: string[], latest: Map<string, JournaledRecord>): void {
  const lines: Array<{ seq: number; record: JournaledRecord }> = []
  for (const text of texts) {
    const end = text.lastIndexOf('\n')
    if (end < 0) continue
    for (const l of text.slice(0, end).split('\n')) {
      const [seqText, kind, key, value] = l.split('\t') as [string, string, string, string | undefined]
      const seq = Number(seqText)
      if (Number.isSafeInteger(seq) && (RECORD_KINDS as readonly string[]).includes(kind) && key) {
        lines.push({ seq, record: { kind: kind as RecordKind, key, value } })
      }
    }
  }
  lines.sort((a, b) => a.seq - b.seq)
  for (const { record } of lines) latest.set(`${record.kind}\u0000${record.key}`, record)
}

/** Reads every journal file in `dir` (writes nothing): the records to replay and the damage found. */
export function readJournal(dir: string): JournalContents {
  const files = journalFiles(dir)
  const latest = new Map<string, JournaledRecord>()
  const removed = new Set<string>()
  const damage: JournalDamage[] = []
  let bytes = 0
  const legacy: string[] = []
  for (const file of files) {
    const text = readFileSync(join(dir, file), 'utf8')
    bytes += Buffer.byteLength(text)
    if ((LEGACY as readonly string[]).includes(file)) {
      legacy.push(text)
      continue
    }
    if (legacy.length > 0) readLegacy(legacy.splice(0), latest)
    const end = text.lastIndexOf('\n')
    if (end < 0) continue
    // The append being read: its records so far, and how many it has.
    let group: LineItem[] = []
    let size = 0
    // The damage whose append is being skipped (its lines up to the next append's first).
    let skipping: JournalDamage | undefined
    let n = 0
    for (const l of text.slice(0, end).split('\n')) {
      n++
      const parsed = parseLine(l)
      if ('damage' in parsed) {
        const d: JournalDamage = { file, line: n, reason: parsed.damage, dropped: group.length }
        damage.push(d)
        group = []
        skipping = d
        continue
      }
      if (parsed.i === 1) {
        // A new append. One left unfinished before it lost lines without a damaged line to show for it.
        if (group.length > 0) {
          damage.push({ file, line: n - 1, reason: 'an append is missing records', dropped: group.length })
        }
        group = []
        size = parsed.n
        skipping = undefined
      } else if (skipping !== undefined || parsed.i !== group.length + 1 || parsed.n !== size) {
        if (skipping !== undefined) skipping.dropped++
        else {
          skipping = { file, line: n, reason: 'a record out of its append', dropped: group.length + 1 }
          damage.push(skipping)
          group = []
        }
        continue
      }
      group.push(parsed.item)
      if (parsed.i < parsed.n) continue
      applyItems(group, latest, removed)
      group = []
    }
    // An append left with fewer records than it has was cut short by a crash and never acknowledged.
  }
  if (legacy.length > 0) readLegacy(legacy, latest)
  return { files, bytes, records: [...latest.values()], removed: [...removed], damage }
}

interface Segment {
  n: number
  name: string
  fd: number | undefined
  bytes: number
}

/** What an append that failed leaves: nothing of it (its bytes are cut off again) and the error of the write. */
export class JournalAppendError extends Error {
  readonly file: string

  constructor(file: string, cause: unknown) {
    super(`cannot append to ${file}: ${(cause as Error).message}`, { cause })
    this.name = 'JournalAppendError'
    this.file = file
  }
}

/** Bytes of journal lines written per write(2) for a large append (an import). */
const CHUNK = 1 << 20

/** Writes all of `bytes` at `position` of `fd`; the position after them. */
function writeAll(fd: number, bytes: Buffer, position: number): number {
  let at = position
  for (let done = 0; done < bytes.length; ) {
    const n = writeSync(fd, bytes, done, bytes.length - done, at)
    done += n
    at += n
  }
  return at
}

export class Journal {
  readonly #dir: string
  /** Live segments, oldest first; the last takes appends unless sealed. */
  #segments: Segment[] = []
  #next = 1
  /** Later appends start a new segment: a flush took what this one holds, or an append left its tail unknown. */
  #sealed = false
  /** Encodes each append's lines, into one buffer reused from append to append. */
  readonly #lines = new JournalLines()

  /** The journal files in `dir`, which must be the LevelDB directory whose lock the caller holds. */
  constructor(dir: string) {
    this.#dir = dir
    for (const name of journalFiles(dir)) {
      const n = Number(SEGMENT.exec(name)?.[1] ?? 0)
      this.#segments.push({ n, name, fd: undefined, bytes: statSync(join(dir, name)).size })
      this.#next = Math.max(this.#next, n + 1)
    }
    this.#sealed = true
  }

  /** What the journal files hold (see `readJournal`). */
  read(): JournalContents {
    return readJournal(this.#dir)
  }

  /** Appends the new state of some records as one append (one write); crash-safe when it returns. */
  append(records: readonly JournaledRecord[]): void {
    this.#append(records, Number.POSITIVE_INFINITY)
  }

  /**
   * Appends the removal of whole peers (GC's) as one append of one line; crash-safe when it returns, nothing of it
   * if it throws.
   */
  appendRemoved(keys: readonly string[]): void {
    if (keys.length === 0) return
    this.#write((lines, write) => {
      lines.begin(1)
      lines.addRemoved(keys)
      write()
    })
  }

  /**
   * Appends many records (an import) as one append, replayed all or nothing, written in chunks so no single
   * buffer holds all of it.
   */
  appendGroup(records: readonly JournaledRecord[]): void {
    if (records.length === 0) return
    this.#append(records, CHUNK)
  }

  /**
   * Encodes `records` as one append and writes it, a write(2) each time `chunk` bytes are encoded and one at the
   * end.
   */
  #append(records: readonly JournaledRecord[], chunk: number): void {
    this.#write((lines, write) => {
      lines.begin(records.length)
      for (const record of records) {
        lines.add(record.kind, record.key, record.value)
        if (lines.length >= chunk) write()
      }
      write()
    })
  }

  /**
   * Runs `encode`, which encodes one append into the journal's lines and calls `write` to write what it encoded so
   * far. A failure leaves nothing of the append: what was written of it is cut off again.
   */
  #write(encode: (lines: JournalLines, write: () => void) => void): void {
    const segment = this.#current()
    const fd = segment.fd as number
    const lines = this.#lines
    const start = segment.bytes
    let at = start
    // Whether a write of this append started (then its bytes are cut off again on failure), and whether the
    // failure is the write's (an encoding failure is not a journal error).
    let wrote = false
    let writing = false
    try {
      encode(lines, () => {
        wrote = writing = true
        at = writeAll(fd, lines.take(), at)
        writing = false
      })
    } catch (err) {
      lines.take()
      if (wrote) {
        // Cut the partial append off again, so the next one does not start mid-line; if even that fails the
        // segment's tail is unknown, and the next append starts a new one.
        try {
          ftruncateSync(fd, start)
        } catch {
          this.#sealed = true
        }
      }
      throw writing ? new JournalAppendError(join(this.#dir, segment.name), err) : err
    }
    segment.bytes = at
  }

  #current(): Segment {
    const last = this.#segments.at(-1)
    if (last !== undefined && !this.#sealed) return last
    const n = this.#next
    const name = `${JOURNAL_PREFIX}${String(n).padStart(8, '0')}`
    let fd: number
    try {
      fd = openSync(join(this.#dir, name), 'w')
    } catch (err) {
      throw new JournalAppendError(join(this.#dir, name), err)
    }
    this.#next = n + 1
    const segment: Segment = { n, name, fd, bytes: 0 }
    this.#segments.push(segment)
    this.#sealed = false
    return segment
  }

  /** Bytes appended and not yet known to be in LevelDB. */
  get backlog(): number {
    let bytes = 0
    for (const s of this.#segments) bytes += s.bytes
    return bytes
  }

  /**
   * Called as a flush takes its batch: later appends go to a new segment. The returned function deletes every
   * segment the batch covers (and any older one); call it once the batch is durably in LevelDB.
   */
  rotate(): () => void {
    const last = this.#segments.at(-1)
    if (last === undefined) return noRelease
    // An empty newest segment holds nothing the batch covers: keep appending to it.
    const boundary = !this.#sealed && last.bytes === 0 ? last.n : this.#next
    if (boundary === this.#next) this.#sealed = true
    return () => this.#releaseBefore(boundary)
  }

  /** Deletes every journal file: everything they held is durably in LevelDB. */
  clear(): void {
    this.#sealed = true
    this.#releaseBefore(Number.POSITIVE_INFINITY)
  }

  /**
   * Moves the journal's files to `lost/` (kept, not replayed again): after an open replayed what could be read
   * of a damaged journal.
   */
  keepDamaged(files: readonly string[]): string[] {
    const lost = join(this.#dir, 'lost')
    const kept: string[] = []
    mkdirSync(lost, { recursive: true })
    for (const name of files) {
      const to = join(lost, `${name}.damaged-${Date.now()}`)
      renameSync(join(this.#dir, name), to)
      kept.push(to)
    }
    this.#segments = this.#segments.filter((s) => !files.includes(s.name))
    return kept
  }

  /** Oldest first; stops at the first that cannot go, so what stays is always the newest part of the run. */
  #releaseBefore(boundary: number): void {
    while (this.#segments.length > 0) {
      const segment = this.#segments[0] as Segment
      if (segment.n >= boundary) return
      try {
        if (segment.fd !== undefined) closeSync(segment.fd)
        segment.fd = undefined
        unlinkSync(join(this.#dir, segment.name))
      } catch (err) {
        if ((err as { code?: string }).code !== 'ENOENT') return
      }
      this.#segments.shift()
    }
  }

  close(): void {
    for (const s of this.#segments) {
      if (s.fd !== undefined) closeSync(s.fd)
      s.fd = undefined
    }
    this.#sealed = true
  }
}

function noRelease(): void {}
