// Run as a child process by `repairPeerStore` (see repair.ts for why): opens a damaged LevelDB, running
// LevelDB's RepairDB first only when it cannot be opened, and copies every record it can read, in key order,
// into a fresh database. Reading never builds a table from the damaged data. Prints a `Salvage` as JSON.
//   node salvage.js '["<damaged dir>", "<fresh dir>"]'
import { Level } from 'level'
import { readAll } from './read-all.ts'
import type { Salvage } from './repair.ts'

const [src, dest] = JSON.parse(process.argv[2] ?? '[]') as [string, string]
// Raw bytes in and out: the salvage copies records, it never decodes them.
const encodings = { keyEncoding: 'view', valueEncoding: 'view' } as const

let db = new Level<Uint8Array, Uint8Array>(src, encodings)
let repaired = false
try {
  await db.open({ createIfMissing: false })
} catch {
  // In Node, `Level` is classic-level's class, whose static `repair` runs LevelDB's RepairDB; `level`'s types omit it.
  await (Level as unknown as { repair(location: string): Promise<void> }).repair(src)
  repaired = true
  db = new Level<Uint8Array, Uint8Array>(src, encodings)
  await db.open({ createIfMissing: false })
}
const out = new Level<Uint8Array, Uint8Array>(dest, encodings)
await out.open()
let copied = 0
const damage = await readAll<Uint8Array, Uint8Array>('all', db, async (chunk) => {
  await out.batch(chunk.map(([key, value]) => ({ type: 'put' as const, key, value })))
  copied += chunk.length
})
await db.close()
await out.close()
const result: Salvage = { repaired, copied, ...(damage === undefined ? {} : { error: damage.message }) }
process.stdout.write(JSON.stringify(result))
