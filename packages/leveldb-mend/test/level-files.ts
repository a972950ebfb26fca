// Real LevelDB directories to check and damage, for the tests and damage benchmarks of this package and of
// @peerscope/peerstore-level (no node:test here, so a benchmark script can import it).
import { open } from 'node:fs/promises'
import { Level } from 'level'

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
