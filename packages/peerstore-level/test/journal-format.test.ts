// The journal's bytes on disk do not change with its encoder: a journal written before lines were encoded into a
// reused buffer (fixtures/journal-format/written-by-27a2c1a) replays as written, and what the store writes now is
// byte for byte what that code wrote, so a store opened by the older code replays it too. Beyond the fixture,
// random hostile records are encoded both ways: by the journal, and by `linesAsBefore` below (the earlier
// algorithm: text built per line, encoded with Buffer.from, a CRC-32 per line).
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { crc32 } from 'node:zlib'
import {
  Journal,
  type JournaledRecord,
  journalFiles,
  journalText,
  readJournal
} from '../src/persistence/journal.ts'
import { RECORD_KINDS, type RecordKind } from '../src/types.ts'
import { FIXTURE_APPENDS } from './fixtures/journal-format/appends.ts'
import { seeded } from './fixtures/seeded.ts'
import { tempDirs } from './suite/helpers.ts'

const { path: tempDbPath } = tempDirs('peerscope-journal-format-')
/** A new directory for journal files. */
async function tempPath(): Promise<string> {
  const dir = await tempDbPath()
  mkdirSync(dir, { recursive: true })
  return dir
}
const isRoot = process.getuid?.() === 0
if (!isRoot) console.log('# disk-full import test skipped: needs root to mount a small tmpfs')
const FIXTURE = new URL('./fixtures/journal-format/written-by-27a2c1a', import.meta.url)

/** A peer text with a control character or a quote is written as a JSON string. */
const needsQuotes = (key: string): boolean => [...key].some((c) => c < ' ' || c === '"')

/** The lines of one append as the journal encoded them before: text first, then bytes, then each line's CRC. */
function linesAsBefore(records: readonly JournaledRecord[]): Buffer {
  const field = (key: string): string => (needsQuotes(key) ? JSON.stringify(key) : key)
  let text = ''
  records.forEach((r, i) => {
    const head = `00000000\t${i + 1}/${records.length}\t${r.kind}\t${field(r.key)}`
    text += r.value == null ? `${head}\n` : `${head}\t${r.value}\n`
  })
  const bytes = Buffer.from(text, 'utf8')
  for (let start = 0; start < bytes.length; ) {
    const end = bytes.indexOf(10, start + 9)
    const crc = (crc32(bytes.subarray(start + 9, end)) >>> 0).toString(16).padStart(8, '0')
    bytes.write(crc, start, 'latin1')
    start = end + 1
  }
  return bytes
}

/** Writes `appends` through a `Journal` in a new directory; the bytes of its one segment file. */
async function written(appends: ReadonlyArray<{ group?: boolean; records: JournaledRecord[] }>) {
  const dir = await tempPath()
  const journal = new Journal(dir)
  for (const a of appends) {
    if (a.group === true) journal.appendGroup(a.records)
    else journal.append(a.records)
  }
  journal.close()
  const files = journalFiles(dir)
  assert.equal(files.length, 1, 'one segment')
  return { dir, bytes: readFileSync(join(dir, files[0]!)) }
}

/**
 * The latest state per record that replaying `appends` gives: a peer text written as a JSON string comes back as
 * it was, other text as UTF-8 reads it back (a lone surrogate becomes U+FFFD).
 */
function latest(appends: ReadonlyArray<{ records: JournaledRecord[] }>): JournaledRecord[] {
  const utf8 = (text: string): string => Buffer.from(text, 'utf8').toString('utf8')
  const map = new Map<string, JournaledRecord>()
  for (const a of appends) {
    for (const r of a.records) {
      const key = needsQuotes(r.key) ? r.key : utf8(r.key)
      const record = { kind: r.kind, key, value: r.value === undefined ? undefined : utf8(r.value) }
      map.set(`${r.kind}\u0000${record.key}`, record)
    }
  }
  return [...map.values()]
}

const sortRecords = (records: JournaledRecord[]): JournaledRecord[] =>
  [...records].sort((a, b) => (`${a.kind} ${a.key}` < `${b.kind} ${b.key}` ? -1 : 1))

test('what the journal writes is byte for byte what commit 27a2c1a wrote for the same appends', async () => {
  const before = readFileSync(FIXTURE)
  const { bytes } = await written(FIXTURE_APPENDS)
  assert.equal(bytes.length, before.length, 'same length')
  assert.ok(bytes.equals(before), 'same bytes')
  const text = FIXTURE_APPENDS.map((a) => journalText(a.records)).join('')
  assert.equal(text, before.toString('utf8'), 'journalText gives the same text')
})

test('a journal written by commit 27a2c1a replays every record, with no damage', async () => {
  const dir = await tempPath()
  writeFileSync(join(dir, 'peerscope-journal-00000001'), readFileSync(FIXTURE))
  const contents = readJournal(dir)
  assert.deepEqual(contents.damage, [])
  assert.deepEqual(sortRecords(contents.records), sortRecords(latest(FIXTURE_APPENDS)))
})

/** Text made of the characters an encoder gets wrong: controls, quotes, tabs, non-ASCII, lone surrogates. */
function hostileText(random: () => number, most: number): string {
  const palette = [
    () => String.fromCharCode(0x20 + Math.floor(random() * 95)),
    () => String.fromCharCode(Math.floor(random() * 0x20)),
    () => '"',
    () => '\t',
    () => '\n',
    () => '\u007f',
    () => String.fromCharCode(0x80 + Math.floor(random() * 0x780)),
    () => String.fromCharCode(0x800 + Math.floor(random() * 0xd000)),
    () => '😀',
    () => String.fromCharCode(0xd800 + Math.floor(random() * 0x800)),
    () => '\u2028',
    () => '__proto__'
  ]
  let text = ''
  const length = Math.floor(random() * most)
  for (let i = 0; i < length; i++) text += palette[Math.floor(random() * palette.length)]!()
  return text
}

/**
 * A value as the store makes them (JSON text: no raw tab or newline), except that lone surrogates are left raw, as
 * a hand-edited or damaged value could hold them.
 */
function jsonText(text: string): string {
  return JSON.stringify(text).replace(/\\u(d[89a-f][0-9a-f]{2})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16))
  )
}

test('random hostile records: the journal writes what the earlier encoding wrote, and reads back each one', async () => {
  let lines = 0
  for (let seed = 1; seed <= 40; seed++) {
    const random = seeded(seed)
    const appends: Array<{ group?: boolean; records: JournaledRecord[] }> = []
    for (let a = 0; a < 8; a++) {
      // 1 to 120 records (positions of one to three digits); a peer often has several in a row, as GC writes.
      const n = 1 + Math.floor(random() ** 3 * 120)
      const records: JournaledRecord[] = []
      let key = 'x'
      for (let i = 0; i < n; i++) {
        if (i === 0 || random() < 0.5) key = random() < 0.2 ? '12D3KooWAbc' : hostileText(random, 40) || 'k'
        const kind = RECORD_KINDS[Math.floor(random() * RECORD_KINDS.length)] as RecordKind
        const value = random() < 0.3 ? undefined : jsonText(hostileText(random, random() < 0.05 ? 5000 : 60))
        records.push({ kind, key, value })
      }
      appends.push({ group: random() < 0.3, records })
      lines += n
    }
    const { dir, bytes } = await written(appends)
    const expected = Buffer.concat(appends.map((a) => linesAsBefore(a.records)))
    assert.ok(bytes.equals(expected), `seed ${seed}: same bytes as the earlier encoding`)
    const contents = readJournal(dir)
    assert.deepEqual(contents.damage, [], `seed ${seed}: no damage`)
    assert.deepEqual(sortRecords(contents.records), sortRecords(latest(appends)), `seed ${seed}: read back`)
  }
  console.log(`# journal format: ${lines} random hostile lines, each byte as the earlier encoding wrote it`)
})

test('an import larger than one write chunk (1 MiB) is written in chunks, byte for byte as before, replayed whole', async () => {
  const records: JournaledRecord[] = Array.from({ length: 4000 }, (_, i) => ({
    kind: 'addrs',
    key: `12D3KooWpeer${i}`,
    value: `{"a":[[${JSON.stringify(`/dns4/${'é'.repeat(i % 7)}${'h'.repeat(600)}.example/tcp/${i}`)},1,null,0]]}`
  }))
  const small: JournaledRecord[] = [{ kind: 'seen', key: '12D3KooWafter', value: '1' }]
  const { dir, bytes } = await written([{ group: true, records }, { records: small }])
  assert.ok(bytes.length > 2 * 1024 * 1024, 'more than two chunks')
  assert.ok(bytes.equals(Buffer.concat([linesAsBefore(records), linesAsBefore(small)])), 'same bytes')
  const contents = readJournal(dir)
  assert.deepEqual(contents.damage, [])
  assert.equal(contents.records.length, records.length + 1)
})

test('an import that fills the disk part-way through its chunks leaves nothing of it; the journal takes the next append', {
  skip: isRoot ? false : 'needs root to mount a small tmpfs'
}, async () => {
  const work = mkdtempSync(join(tmpdir(), 'peerscope-journal-full-'))
  const mnt = join(work, 'mnt')
  mkdirSync(mnt)
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt])
  try {
    const journal = new Journal(mnt)
    const first: JournaledRecord[] = [{ kind: 'seen', key: '12D3KooWfirst', value: '1' }]
    journal.append(first)
    const before = journal.backlog
    // About 3.5 MiB: the first chunk (1 MiB) fits, a later one does not.
    const records: JournaledRecord[] = Array.from({ length: 3500 }, (_, i) => ({
      kind: 'addrs',
      key: `12D3KooWpeer${i}`,
      value: JSON.stringify('x'.repeat(1000))
    }))
    assert.throws(
      () => journal.appendGroup(records),
      (err: Error) => err.name === 'JournalAppendError' && /ENOSPC/.test(err.message)
    )
    assert.equal(journal.backlog, before, 'nothing of the failed import is counted')
    const after: JournaledRecord[] = [{ kind: 'seen', key: '12D3KooWafter', value: '2' }]
    journal.append(after)
    journal.close()
    const files = journalFiles(mnt)
    const bytes = Buffer.concat(files.map((name) => readFileSync(join(mnt, name))))
    assert.ok(
      bytes.equals(Buffer.concat([linesAsBefore(first), linesAsBefore(after)])),
      'only the two appends'
    )
    const contents = readJournal(mnt)
    assert.deepEqual(contents.damage, [])
    assert.deepEqual(sortRecords(contents.records), sortRecords([...first, ...after]))
  } finally {
    execFileSync('umount', [mnt])
    rmSync(work, { recursive: true, force: true })
  }
})

test('`gone` lines: random hostile peer texts read back; a peer removed and written again keeps what came after', async () => {
  for (let seed = 1; seed <= 20; seed++) {
    const random = seeded(100 + seed)
    const dir = await tempPath()
    const journal = new Journal(dir)
    const keys = Array.from({ length: 1 + Math.floor(random() * 300) }, (_, i) =>
      random() < 0.3 ? `12D3KooWpeer${seed}-${i}` : `${hostileText(random, 30)}#${i}`
    )
    const [first, second] = [keys[0]!, keys.at(-1)!]
    journal.append([
      { kind: 'protos', key: first, value: '["/before"]' },
      { kind: 'meta', key: first, value: '{"a":"b"}' },
      { kind: 'protos', key: 'untouched', value: '["/kept"]' }
    ])
    journal.appendRemoved(keys)
    journal.append([{ kind: 'protos', key: second, value: '["/after"]' }])
    journal.close()
    const contents = readJournal(dir)
    assert.deepEqual(contents.damage, [], `seed ${seed}: no damage`)
    assert.deepEqual(
      new Set(contents.removed),
      new Set(keys.map((k) => (needsQuotes(k) ? k : Buffer.from(k).toString()))),
      `seed ${seed}: every peer read back`
    )
    const put = (key: string) => contents.records.filter((r) => r.key === key).map((r) => r.value)
    assert.deepEqual(put('untouched'), ['["/kept"]'])
    if (first !== second)
      assert.deepEqual(put(first), [], `seed ${seed}: what was journaled before the removal went with it`)
    assert.deepEqual(put(second), ['["/after"]'], `seed ${seed}: what came after the removal stays`)
  }
})

test('a damaged `gone` line drops its append only; an unknown line kind (as older code sees `gone`) is damage, the rest replays', async () => {
  const dir = await tempPath()
  const journal = new Journal(dir)
  journal.append([{ kind: 'protos', key: 'a', value: '["/a"]' }])
  journal.appendRemoved(['a', 'b'])
  journal.append([{ kind: 'protos', key: 'c', value: '["/c"]' }])
  journal.close()
  const [file] = journalFiles(dir) as [string]
  const text = readFileSync(join(dir, file), 'utf8')
  const lines = text.split('\n')
  // The removal line with one byte of a peer text changed: its checksum fails.
  writeFileSync(join(dir, file), [lines[0], lines[1]!.replace('\tb', '\tx'), ...lines.slice(2)].join('\n'))
  let contents = readJournal(dir)
  assert.deepEqual(
    contents.damage.map((d) => d.reason),
    ['checksum mismatch']
  )
  assert.deepEqual(contents.removed, [])
  assert.deepEqual(
    sortRecords(contents.records).map((r) => r.key),
    ['a', 'c']
  )
  // A line of a kind this code does not know, with a valid checksum: reported, its append dropped, the rest read.
  const body = '1/1\tgone-later\ta\tb'
  const unknown = `${(crc32(body) >>> 0).toString(16).padStart(8, '0')}\t${body}`
  writeFileSync(join(dir, file), [lines[0], unknown, ...lines.slice(2)].join('\n'))
  contents = readJournal(dir)
  assert.deepEqual(
    contents.damage.map((d) => d.reason),
    ['unknown field value']
  )
  assert.deepEqual(
    sortRecords(contents.records).map((r) => r.key),
    ['a', 'c']
  )
})
