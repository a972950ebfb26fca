// example.mjs: a LevelDB table file is damaged while the database is closed; mend it before LevelDB opens it.
import { mkdtemp, open, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkTables, mendTables } from '@peerscope/leveldb-mend'
import { Level } from 'level'

const dir = await mkdtemp(join(tmpdir(), 'leveldb-mend-example-'))
const db = new Level(dir)
const records = Array.from({ length: 20_000 }, (_, i) => ({
  type: 'put',
  key: `key-${i}`,
  value: `value-${i}`
}))
await db.batch(records)
await db.compactRange('\u0000', '\uffff') // every record into a table file
await db.close()

// The damage: 8 bytes in the middle of the table file overwritten (a bad sector, a torn copy).
const table = (await readdir(dir)).find((name) => name.endsWith('.ldb'))
const file = await open(join(dir, table), 'r+')
await file.write(Buffer.from('DAMAGED!'), 0, 8, (await file.stat()).size >> 1)
await file.close()

const [check] = await checkTables(dir) // read-only
console.log(`${check.file}: ${check.badBlocks} of ${check.blocks} blocks fail their checksum`)

const { mended } = await mendTables(dir) // while the database is closed
for (const m of mended)
  console.log(`${m.file}: ${m.blankedBlocks} block(s) blanked, original in ${m.original}`)

const again = new Level(dir)
let read = 0
for await (const _ of again.keys()) read++ // no LEVEL_CORRUPTION, no abort: every block LevelDB reads is sound
await again.close()
console.log(`${read} of ${records.length} records read; the damaged block's records are gone`)
await rm(dir, { recursive: true })
