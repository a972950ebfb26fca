// The write-ahead journal of a LevelDB peer store opened by path. A write is durable against a process crash
// once it is in the kernel's page cache; LevelDB's own asynchronous batch takes a round trip through its thread
// pool (about 100 µs here) before it gets there, and one awaited write at a time pays that round trip every
// time. The journal gets there with one synchronous write(2) of a few hundred bytes, so a write resolves at
// once, and LevelDB batches are written behind it, many writes at a time. On open, whatever the journal holds
// is written into LevelDB before the store loads.
//
// Two files alternate. Each flush switches appends to the other file, then writes its batch; once the batch is
// in LevelDB, the file it covers is emptied. A batch that fails leaves its file in place for the next flush or
// the next open. Each line is `<seq>\t<kind>\t<peer>\t<record JSON>` (a put) or `<seq>\t<kind>\t<peer>` (a
// delete); JSON escapes tabs and newlines, so neither appears inside a field. A line cut short by a crash has no
// newline and was never acknowledged: it is ignored.
import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { RECORD_KINDS, type RecordKind } from '../types.ts'

export const JOURNAL_FILES = ['peerscope-journal-a', 'peerscope-journal-b'] as const

/** The last journaled state of one record: its JSON, or `undefined` when it was deleted. */
export interface JournaledRecord {
  kind: RecordKind
  key: string
  value: string | undefined
}

export class Journal {
  readonly #fds: [number, number]
  readonly #bytes: [number, number] = [0, 0]
  #current: 0 | 1 = 0
  #seq = 0
  readonly #scratch = Buffer.allocUnsafe(16 * 1024)

  /** Opens (creating) both files in `dir`, which must be the LevelDB directory the caller holds the lock of. */
  constructor(dir: string) {
    this.#fds = [openSync(join(dir, JOURNAL_FILES[0]), 'a+'), openSync(join(dir, JOURNAL_FILES[1]), 'a+')]
  }

  /** What both files hold, the latest state per record, in no particular order. */
  pending(): JournaledRecord[] {
    const latest = new Map<string, { seq: number; record: JournaledRecord }>()
    for (const fd of this.#fds) {
      const text = readFileSync(fd, 'utf8')
      const end = text.lastIndexOf('\n')
      if (end < 0) continue
      for (const line of text.slice(0, end).split('\n')) {
        const parsed = parseLine(line)
        if (parsed == null) continue
        const id = `${parsed.record.kind}\u0000${parsed.record.key}`
        const seen = latest.get(id)
        if (seen == null || seen.seq < parsed.seq) latest.set(id, parsed)
      }
    }
    return [...latest.values()].map((entry) => entry.record)
  }

  /** Appends the new state of some records in one write; it is crash-safe when this returns. */
  append(records: readonly JournaledRecord[]): void {
    let text = ''
    for (const { kind, key, value } of records) {
      const seq = this.#seq++
      text += value == null ? `${seq}\t${kind}\t${key}\n` : `${seq}\t${kind}\t${key}\t${value}\n`
    }
    // Most appends are a few hundred bytes: encoded into one buffer kept for them, not a new one each.
    const length = Buffer.byteLength(text, 'utf8')
    const buffer = length <= this.#scratch.length ? this.#scratch : Buffer.allocUnsafe(length)
    buffer.write(text, 0, length, 'utf8')
    let written = 0
    while (written < length) {
      written += writeSync(this.#fds[this.#current], buffer, written, length - written)
    }
    this.#bytes[this.#current] += length
  }

  /** Bytes appended and not yet known to be in LevelDB. */
  get backlog(): number {
    return this.#bytes[0] + this.#bytes[1]
  }

  /**
   * Called as a flush takes its batch: later appends go to the other file. The returned function empties the
   * file the batch covers; call it once the batch is in LevelDB.
   */
  rotate(): () => void {
    const covered = this.#current
    this.#current = covered === 0 ? 1 : 0
    return () => {
      ftruncateSync(this.#fds[covered], 0)
      this.#bytes[covered] = 0
    }
  }

  /** Empties both files: everything they held is in LevelDB. */
  clear(): void {
    for (const i of [0, 1] as const) {
      ftruncateSync(this.#fds[i], 0)
      this.#bytes[i] = 0
    }
  }

  close(): void {
    for (const fd of this.#fds) closeSync(fd)
  }
}

function parseLine(line: string): { seq: number; record: JournaledRecord } | undefined {
  const fields = line.split('\t')
  if (fields.length !== 3 && fields.length !== 4) return undefined
  const [seqText, kind, key, value] = fields as [string, string, string, string | undefined]
  const seq = Number(seqText)
  if (!Number.isSafeInteger(seq) || !(RECORD_KINDS as readonly string[]).includes(kind) || key === '') {
    return undefined
  }
  return { seq, record: { kind: kind as RecordKind, key, value } }
}
