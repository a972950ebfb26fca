// LevelDB's log files, checked against what LevelDB itself replays: a sound log, a record cut short at the end
// (a crash in the middle of an append: dropped silently), and damage in the middle (LevelDB drops what follows
// in the block, and the writes in it).
import assert from 'node:assert/strict'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { Level } from 'level'
import { checkLogFile, checkLogs } from '../src/index.ts'

const made: string[] = []
after(async () => {
  for (const dir of made) await rm(dir, { recursive: true, force: true })
})

/** A closed LevelDB whose writes are all still in its log: `batches` batches, one of them longer than a block. */
async function loggedDatabase(batches: number): Promise<{ path: string; log: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'leveldb-mend-log-'))
  made.push(dir)
  const path = join(dir, 'db')
  const db = new Level<string, string>(path)
  for (let i = 0; i < batches; i++) {
    // Batch 3 holds a 40 KiB value: one record in FIRST / MIDDLE / LAST fragments over two blocks.
    const value = i === 3 ? 'x'.repeat(40 * 1024) : `value-${i}-${'v'.repeat(200)}`
    await db.batch([{ type: 'put', key: `key-${String(i).padStart(5, '0')}`, value }])
  }
  await db.close() // LevelDB does not write its memtable out on close: the writes stay in the log
  const log = (await readdir(path)).find((name) => name.endsWith('.log')) as string
  return { path, log }
}

async function countKeys(path: string): Promise<number> {
  const db = new Level<string, string>(path)
  let n = 0
  for await (const _ of db.keys()) n++
  await db.close()
  return n
}

describe('checkLogFile', () => {
  it('a sound log: every batch counted, nothing dropped', async () => {
    const { path, log } = await loggedDatabase(400)
    const [check] = await checkLogs(path)
    assert.equal(check?.file, log)
    assert.equal(check?.records, 400)
    assert.equal(check?.damageAt, undefined)
    assert.equal(check?.droppedBytes, 0)
    assert.equal(check?.cutShortBytes, 0)
  })

  it('a record cut short at the end is not damage: LevelDB drops it silently', async () => {
    const { path, log } = await loggedDatabase(400)
    const bytes = await readFile(join(path, log))
    const check = checkLogFile(log, bytes.subarray(0, bytes.length - 50))
    assert.equal(check.damageAt, undefined)
    assert.ok(check.cutShortBytes > 0)
    assert.equal(check.records, 399)
  })

  it('damage in the middle: reported where it starts, with the bytes LevelDB drops; LevelDB does drop them', async () => {
    const { path, log } = await loggedDatabase(400)
    const file = join(path, log)
    const bytes = await readFile(file)
    const at = Math.floor(bytes.length / 2)
    bytes[at] = (bytes[at] as number) ^ 0x10
    await writeFile(file, bytes)
    const [check] = await checkLogs(path)
    assert.ok(check?.damageAt !== undefined && check.damageAt <= at)
    assert.ok(check.droppedBytes > 0)
    assert.match(check.reason ?? '', /checksum|claims more bytes/)
    const kept = await countKeys(path)
    assert.ok(kept < 400, `LevelDB dropped writes too (kept ${kept})`)
    assert.ok(kept >= check.records - 1, 'and kept about what the check counted')
  })

  it('a failed append followed by more appends (a full disk that came back) is damage', async () => {
    const { path, log } = await loggedDatabase(100)
    const bytes = await readFile(join(path, log))
    // Half of a record, then whole ones after it: what a torn write leaves when LevelDB goes on appending.
    const torn = Buffer.concat([bytes.subarray(0, 5000), bytes.subarray(5000, 5100), bytes.subarray(6000)])
    const check = checkLogFile(log, torn)
    assert.ok(check.damageAt !== undefined && check.damageAt < 5100)
  })
})
