// Checking and mending a real LevelDB directory before LevelDB opens it: what is mended, what is kept under
// `lost/`, what LevelDB reads afterwards, and what is refused.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { access, cp, mkdtemp, open, readdir, readFile, rm, stat, truncate } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { Level } from 'level'
import { checkTables, inspectTableFile, LevelDbMendError, lockHeld, mendTables } from '../src/index.ts'
import { compactAll, flipBytes, readRecords, recordKey, recordValue, writeRecords } from './level-files.ts'

const made: string[] = []
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'leveldb-mend-dir-'))
  made.push(dir)
  return dir
}
after(async () => {
  for (const dir of made) await rm(dir, { recursive: true, force: true })
})

// The older records sit in compacted table files; the newer ones, written later, in their own newer table file.
const OLDER = 6000
const NEWER = 2000
let reference: string
let newestTable: string

async function tables(path: string): Promise<string[]> {
  return (await readdir(path)).filter((f) => /^\d+\.(ldb|sst)$/.test(f)).sort()
}

async function copy(): Promise<string> {
  const path = join(await tempDir(), 'db')
  await cp(reference, path, { recursive: true })
  return path
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false
  )
}

before(async () => {
  reference = join(await tempDir(), 'db')
  await writeRecords(reference, 0, OLDER)
  await compactAll(reference)
  const older = await tables(reference)
  await writeRecords(reference, OLDER, OLDER + NEWER)
  // An open replays the log into a new level-0 table: the newer records' own file.
  const db = new Level(reference)
  await db.open()
  await db.close()
  const added = (await tables(reference)).filter((t) => !older.includes(t))
  assert.equal(added.length, 1, 'the newer records landed in one new table file')
  newestTable = added[0]!
})

describe('no damage', () => {
  it('checks every table clean, mends nothing and writes nothing', async () => {
    const path = await copy()
    const names = await tables(path)
    const bytes = await Promise.all(names.map((n) => readFile(join(path, n))))
    const checks = await checkTables(path)
    assert.deepEqual(
      checks.map((c) => c.file),
      names
    )
    assert.ok(checks.every((c) => c.blocks > 2 && c.badBlocks === 0 && c.error === undefined))
    const result = await mendTables(path)
    assert.deepEqual(result, { checks, mended: [] })
    assert.equal(await exists(join(path, 'lost')), false, 'no lost/ folder')
    for (const [i, n] of names.entries()) assert.deepEqual(await readFile(join(path, n)), bytes[i])
    assert.deepEqual(await readRecords(path), { read: OLDER + NEWER })
  })

  it('a directory that is not there has nothing to check, and is not created', async () => {
    const path = join(await tempDir(), 'nothing')
    assert.deepEqual(await checkTables(path), [])
    assert.deepEqual(await mendTables(path), { checks: [], mended: [] })
    assert.equal(await exists(path), false)
  })

  it('refuses a path that is not a string with ERR_INVALID_ARGUMENT', async () => {
    for (const bad of [undefined, '', 42]) {
      await assert.rejects(mendTables(bad as unknown as string), (err: unknown) => {
        return (
          err instanceof LevelDbMendError &&
          err.code === 'ERR_INVALID_ARGUMENT' &&
          /mendTables/.test(err.message)
        )
      })
      await assert.rejects(checkTables(bad as unknown as string), { code: 'ERR_INVALID_ARGUMENT' })
    }
  })
})

describe('a damaged table file', () => {
  it('flipped data blocks: blanked, the original kept under lost/, LevelDB reads the rest without an error', async () => {
    const path = await copy()
    const file = join(path, newestTable)
    const size = (await stat(file)).size
    for (let k = 1; k < 10; k++) await flipBytes(file, Math.floor((size * k) / 20), 8)
    const damaged = await readFile(file)

    const checks = await checkTables(path)
    const check = checks.find((c) => c.file === newestTable)!
    assert.ok(check.badBlocks > 0, 'the checksum scan finds the flipped blocks')
    assert.ok(checks.filter((c) => c !== check).every((c) => c.badBlocks === 0))
    assert.deepEqual(await readFile(file), damaged, 'checkTables wrote nothing')

    const { mended } = await mendTables(path)
    assert.deepEqual(mended, [
      {
        file: newestTable,
        blocks: check.blocks,
        badBlocks: check.badBlocks,
        blankedBlocks: check.badBlocks,
        emptied: false,
        filterDropped: false,
        original: join(path, 'lost', `${newestTable}.damaged`)
      }
    ])
    assert.deepEqual(await readFile(mended[0]!.original), damaged, 'the original is kept as it was')
    assert.deepEqual(
      await readdir(join(path, 'lost')),
      [`${newestTable}.damaged`],
      'no temporary file is left'
    )
    assert.equal((await stat(file)).size, size, 'the size stays (the MANIFEST records it)')
    assert.equal((await checkTables(path)).find((c) => c.file === newestTable)!.badBlocks, 0)

    const { read, error } = await readRecords(path)
    assert.equal(error, undefined, 'LevelDB met no damaged block')
    assert.ok(read > OLDER && read < OLDER + NEWER, `the blanked blocks' records are gone (${read} read)`)
    assert.deepEqual((await mendTables(path)).mended, [], 'nothing is left to mend')
  })

  it('a damaged index block: the file is emptied (its records are gone), the other files read fine', async () => {
    const path = await copy()
    const file = join(path, newestTable)
    const { index } = inspectTableFile(newestTable, await readFile(file))
    await flipBytes(file, index!.offset + Math.floor(index!.size / 2), 8)
    const { checks, mended } = await mendTables(path)
    assert.match(checks.find((c) => c.file === newestTable)!.error ?? '', /index block/)
    assert.deepEqual(
      mended.map((m) => [m.file, m.blankedBlocks, m.emptied, m.filterDropped]),
      [[newestTable, 0, true, true]]
    )
    assert.deepEqual(await readRecords(path), { read: OLDER })
  })

  it('a damaged bloom filter: dropped, no record lost', async () => {
    const path = await copy()
    const file = join(path, newestTable)
    const { metaBlocks } = inspectTableFile(newestTable, await readFile(file))
    assert.equal(metaBlocks.length, 1, 'classic-level writes one bloom filter block per table')
    await flipBytes(file, metaBlocks[0]!.offset + Math.floor(metaBlocks[0]!.size / 2), 8)
    const { mended } = await mendTables(path)
    assert.deepEqual(
      mended.map((m) => [m.file, m.blankedBlocks, m.emptied, m.filterDropped]),
      [[newestTable, 0, false, true]]
    )
    assert.deepEqual(await readRecords(path), { read: OLDER + NEWER })
    const db = new Level<string, string>(path)
    assert.equal(await db.get(recordKey(OLDER + 5)), recordValue(OLDER + 5), 'a lookup without the filter')
    await db.close()
  })

  it('a garbled key that aborts a plain LevelDB reader: mended first, the reader finishes', async () => {
    // Every table written uncompressed, so a changed byte is read back as it is (Snappy might reject it).
    const path = join(await tempDir(), 'db')
    await writeRecords(path, 0, OLDER + NEWER, { compression: false })
    await compactAll(path, { compression: false })
    // The table holding the smallest key: its first data block is where a read from '!addrs!' seeks.
    let first: { file: string; key: Buffer; offset: number } | undefined
    for (const name of await tables(path)) {
      const buf = await readFile(join(path, name))
      const { offset } = inspectTableFile(name, buf).dataBlocks[0]!
      assert.equal(buf[offset], 0, 'the first entry shares no key bytes')
      const keyLength = buf[offset + 1]!
      assert.ok(keyLength > 8 && keyLength < 128, 'a one-byte key length')
      const key = buf.subarray(offset + 3, offset + 3 + keyLength)
      if (first === undefined || Buffer.compare(key, first.key) < 0) first = { file: name, key, offset }
    }
    assert.ok(first, 'a table file')
    // Its first key becomes 4 bytes long: shorter than LevelDB's 8-byte key suffix.
    const fh = await open(join(path, first.file), 'r+')
    await fh.write(Buffer.from([4]), 0, 1, first.offset + 1)
    await fh.close()

    const reader = `
      const { Level } = await import('level')
      const db = new Level(process.argv[1])
      await db.open()
      let n = 0
      try { for await (const _ of db.iterator({ gte: '!addrs!' })) n++ } catch (err) { console.log(err.code) }
      await db.close()
      console.log('read', n)`
    const read = (dir: string) =>
      new Promise<{ signal: string | null; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          ['--input-type=module', '-e', reader, dir],
          { cwd: fileURLToPath(new URL('..', import.meta.url)) },
          (err, stdout, stderr) => resolve({ signal: err?.signal ?? null, stdout, stderr })
        )
      })
    const plain = join(await tempDir(), 'db')
    await cp(path, plain, { recursive: true })
    const unmended = await read(plain)
    assert.equal(
      unmended.signal,
      'SIGABRT',
      `LevelDB aborts the process that reads it (${unmended.stderr.trim()})`
    )
    assert.match(unmended.stderr, /Assertion/)

    const { mended } = await mendTables(path)
    assert.deepEqual(
      mended.map((m) => [m.file, m.blankedBlocks]),
      [[first.file, 1]]
    )
    const after = await read(path)
    assert.equal(after.signal, null, after.stderr)
    assert.doesNotMatch(after.stdout, /LEVEL_/, 'no error reached the reader')
    const n = Number(/read (\d+)/.exec(after.stdout)?.[1])
    assert.ok(n >= OLDER + NEWER - 200 && n < OLDER + NEWER, `only one block was lost (${n} read)`)
  })

  it('truncated: reported, not mended (LevelDB reports it as an error itself), nothing written', async () => {
    const path = await copy()
    const file = join(path, newestTable)
    await truncate(file, Math.floor((await stat(file)).size / 2))
    const before = await readFile(file)
    const { checks, mended } = await mendTables(path)
    assert.match(checks.find((c) => c.file === newestTable)!.error ?? '', /bad magic/)
    assert.deepEqual(mended, [])
    assert.deepEqual(await readFile(file), before)
    assert.equal(await exists(join(path, 'lost')), false)
    const { read, error } = await readRecords(path)
    assert.match(error ?? '', new RegExp(newestTable), 'LevelDB names the file')
    assert.ok(read >= OLDER - 1000 && read < OLDER + NEWER, `${read}`)
  })
})

describe('a database in use', () => {
  it('is seen through /proc/locks; mending it is refused (ERR_DB_LOCKED) and nothing is written', async (t) => {
    if ((await lockHeld(reference)) === undefined) {
      t.skip('no /proc/locks: the lock cannot be seen on this system')
      return
    }
    const path = await copy()
    const file = join(path, newestTable)
    await flipBytes(file, Math.floor((await stat(file)).size / 3), 8)
    const damaged = await readFile(file)
    assert.equal(await lockHeld(path), false)
    const db = new Level(path)
    await db.open()
    try {
      assert.equal(await lockHeld(path), true)
      await assert.rejects(mendTables(path), (err: unknown) => {
        assert.ok(err instanceof LevelDbMendError)
        assert.equal(err.code, 'ERR_DB_LOCKED')
        assert.ok(err.message.includes(path) && err.message.includes(newestTable))
        return true
      })
      assert.equal((await checkTables(path)).find((c) => c.file === newestTable)!.badBlocks > 0, true)
    } finally {
      await db.close()
    }
    assert.deepEqual(await readFile(file), damaged)
    assert.equal(await exists(join(path, 'lost')), false)
    assert.equal(await lockHeld(path), false)
    assert.equal((await mendTables(path)).mended.length, 1, 'once closed, it is mended')
  })
})
