// Real LevelDB directories to check and damage, for the tests and damage benchmarks of this package and of
// @peerscope/peerstore-level (no node:test here, so a benchmark script can import it).
import { open, readdir, readFile, stat, truncate } from 'node:fs/promises'
import { join } from 'node:path'
import { Level } from 'level'
import { inspectTableFile } from '../src/index.ts'

type Compactable = Level<string, string> & { compactRange(start: string, end: string): Promise<void> }

/** The key of record `i`: sorted by `i`, as long as a peer store's address record key. */
export const recordKey = (i: number): string => `!addrs!peer-${String(i).padStart(7, '0')}`
/** The value of record `i`: JSON of the size a peer store writes, so Snappy compresses it as it would those. */
export const recordValue = (i: number): string =>
  JSON.stringify({
    a: [[`/ip4/10.${(i >> 8) & 255}.${i & 255}.1/tcp/4001`, 3_600_000, 1_800_000_000_000 + i]]
  })

/** Writes records `from` to `to - 1` (in batches of 1,000) into the database at `path`, then closes it. */
export async function writeRecords(
  path: string,
  from: number,
  to: number,
  options: { compression?: boolean } = {}
): Promise<void> {
  const db = new Level<string, string>(path, options)
  for (let i = from; i < to; i += 1000) {
    const batch = []
    for (let j = i; j < Math.min(i + 1000, to); j++)
      batch.push({ type: 'put' as const, key: recordKey(j), value: recordValue(j) })
    await db.batch(batch)
  }
  await db.close()
}

/** Has LevelDB compact every key of the database at `path` into table files, then closes it. */
export async function compactAll(path: string, options: { compression?: boolean } = {}): Promise<void> {
  const db = new Level<string, string>(path, options) as Compactable
  await db.open()
  await db.compactRange('\u0000', '\uffff')
  await db.close()
}

/** Reads every record LevelDB can read; checks each value is the one written for its key. */
export async function readRecords(path: string): Promise<{ read: number; error?: string }> {
  const db = new Level<string, string>(path)
  let read = 0
  let error: string | undefined
  try {
    for await (const [key, value] of db.iterator()) {
      if (value !== recordValue(Number(key.slice(12)))) throw new Error(`record ${key} reads back changed`)
      read++
    }
  } catch (err) {
    const code = (err as { code?: string }).code
    if (code !== 'LEVEL_CORRUPTION' && code !== 'LEVEL_IO_ERROR') throw err
    error = (err as Error).message
  } finally {
    await db.close()
  }
  return error === undefined ? { read } : { read, error }
}

/** Flips `n` bytes of `file` at `at` (XOR 0x5a, so every byte changes). */
export async function flipBytes(file: string, at: number, n: number): Promise<void> {
  const fh = await open(file, 'r+')
  const buf = Buffer.alloc(n)
  await fh.read(buf, 0, n, at)
  for (let i = 0; i < n; i++) buf[i]! ^= 0x5a
  await fh.write(buf, 0, n, at)
  await fh.close()
}

export interface TableFile {
  name: string
  size: number
}

/** A kind of damage, and how to do it to the directory at `path`. */
export type Damage = [name: string, apply: (path: string) => Promise<void>]

/** The directory's table files, by name, with their sizes. */
export async function tableFiles(path: string): Promise<TableFile[]> {
  const names = (await readdir(path)).filter((f) => /^\d+\.ldb$/.test(f)).sort()
  return Promise.all(names.map(async (name) => ({ name, size: (await stat(join(path, name))).size })))
}

const layout = async (file: string) => inspectTableFile(file, await readFile(file))

/**
 * The damage both damage benchmarks do to a copy of a directory's tables, one kind per entry, the first none:
 * `big` is its largest table file, `small` another (newer) one, `flipped` the tables with bytes flipped all through.
 */
export function tableDamages(big: TableFile, small: TableFile, flipped: readonly TableFile[]): Damage[] {
  return [
    ['undamaged', async () => {}],
    [
      '16 bytes flipped in one data block',
      async (path) => {
        const file = join(path, big.name)
        const { dataBlocks } = await layout(file)
        const block = dataBlocks[dataBlocks.length >> 1]!
        await flipBytes(file, block.offset + (block.size >> 1), 16)
      }
    ],
    [
      '9×8 bytes flipped in each table',
      async (path) => {
        for (const t of flipped) {
          for (let k = 1; k < 10; k++) await flipBytes(join(path, t.name), Math.floor((t.size * k) / 11), 8)
        }
      }
    ],
    [
      'bloom filter flipped',
      async (path) => {
        const file = join(path, big.name)
        const filter = (await layout(file)).metaBlocks[0]!
        await flipBytes(file, filter.offset + (filter.size >> 1), 8)
      }
    ],
    [
      'index block flipped (newer table)',
      async (path) => {
        const file = join(path, small.name)
        const index = (await layout(file)).index!
        await flipBytes(file, index.offset + (index.size >> 1), 8)
      }
    ],
    ['larger table truncated to half', (path) => truncate(join(path, big.name), big.size >> 1)]
  ]
}
