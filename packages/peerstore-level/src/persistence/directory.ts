// Opening a peer store by its LevelDB directory (Node only; the Node entry passes this to the store). In order,
// and all of it while this process holds the directory (directory-lock.ts: an in-process registry, then LevelDB's
// lock taken through a guard before anything is read): a directory LevelDB would mistreat is refused (CURRENT
// missing or damaged), LevelDB's logs are checked for damage it will drop, damaged table files are mended (a block
// that fails its checksum can abort the process, see @peerscope/leveldb-mend), and LevelDB is made through `level`.
// Also here: the write-ahead journal, and forcing LevelDB's memtable into a table file after a failed write.
import { readdir, stat, statfs } from 'node:fs/promises'
import { join } from 'node:path'
import { checkLogs } from '@peerscope/leveldb-mend'
import { PeerStoreError } from '../errors.ts'
import { assertCurrentSound, assertNotOrphaned, mendDamagedTables } from '../scan.ts'
import type { LogDamage } from '../types.ts'
import { holdDirectory } from './directory-lock.ts'
import { Journal } from './journal.ts'
import type { AnyLevel, DirectoryStorage } from './open.ts'

const LOG_FILE = /^\d+\.log$/

interface Compactable {
  compactRange(start: string, end: string): Promise<void>
}

/** LevelDB's log files in `path` and their sizes. */
async function logFiles(path: string): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  for (const name of await readdir(path)) {
    if (!LOG_FILE.test(name)) continue
    try {
      out.set(name, (await stat(join(path, name))).size)
    } catch {
      // Deleted since the listing: obsolete.
    }
  }
  return out
}

/**
 * Has LevelDB write its memtable (every batch it took) to a table file and start a new log, so a log with a torn
 * record no longer matters: LevelDB deletes it. LevelDB's `CompactRange` reports no failure, and a failed write
 * of its background work stops every later write of the open database: so this starts only when the file system
 * has room for the table (about the size of the log), and then checks that the old logs are gone.
 */
async function forceFlush(db: AnyLevel, path: string): Promise<void> {
  const before = await logFiles(path)
  let logBytes = 0
  for (const size of before.values()) logBytes += size
  const need = Math.ceil(logBytes * 1.1) + 256 * 1024
  const { bavail, bsize } = await statfs(path)
  const free = Number(bavail) * Number(bsize)
  if (free < need) {
    throw new PeerStoreError(
      'ERR_STORAGE_FULL',
      `the peer store at ${path} needs about ${(need / 1048576).toFixed(1)} MiB free to write LevelDB's memtable ` +
        `to a table file, and its file system has ${(free / 1048576).toFixed(1)} MiB; free space there (writes are ` +
        'kept in the journal meanwhile)'
    )
  }
  // A range no key falls in: only the memtable is written.
  await (db as unknown as Compactable).compactRange('\u0000', '\u0000')
  const after = await logFiles(path)
  const stale = [...before.keys()].filter((name) => after.has(name))
  if (stale.length > 0) {
    throw new PeerStoreError(
      'ERR_STORAGE_WRITE',
      `the peer store at ${path} could not have LevelDB write its memtable to a table file (its log ` +
        `${stale.join(', ')} is still in use; LevelDB's own LOG file says why); writes are kept in the journal ` +
        'and it is tried again; if it keeps failing, close and reopen the store (the journal is replayed on open)'
    )
  }
}

export const levelDirectory: DirectoryStorage = {
  async prepare(path) {
    const held = await holdDirectory(path)
    try {
      await assertNotOrphaned(path)
      await assertCurrentSound(path)
      const logDamage: LogDamage[] = []
      for (const check of await checkLogs(path)) {
        if (check.damageAt !== undefined) {
          logDamage.push({
            file: check.file,
            damageAt: check.damageAt,
            reason: check.reason ?? 'damaged',
            droppedBytes: check.droppedBytes
          })
        }
      }
      const { mended } = await mendDamagedTables(path, { lockHeld: true })
      const { Level } = await import('level')
      const db = new Level<string, string>(path) as unknown as AnyLevel
      return { db, mended, logDamage, forceFlush: () => forceFlush(db, path), release: held.release }
    } catch (err) {
      await held.release()
      throw err
    }
  },
  journal: (path) => new Journal(path)
}
