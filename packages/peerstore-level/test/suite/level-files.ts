// Acting on a LevelDB directory's files directly, for damage tests and the damage benchmark (no node:test here,
// so a benchmark script can import it).
import { open } from 'node:fs/promises'
import { Level } from 'level'

/** Has LevelDB compact every key of the database at `path` into table files, then closes it. */
export async function compactAll(path: string, options: { compression?: boolean } = {}): Promise<void> {
  const db = new Level(path, options) as unknown as {
    open(): Promise<void>
    close(): Promise<void>
    compactRange(start: string, end: string): Promise<void>
  }
  await db.open()
  await db.compactRange('\u0000', '\uffff')
  await db.close()
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
