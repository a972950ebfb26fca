// Opening a peer store by its LevelDB directory (Node only; the Node entry passes this to the store): the mend hook
// (damaged table files are mended before LevelDB reads them: a block that fails its checksum can abort the
// process, see @peerscope/leveldb-mend), LevelDB through `level`, and the write-ahead journal in the directory.
import { assertNotOrphaned, mendDamagedTables } from '../scan.ts'
import { Journal } from './journal.ts'
import type { AnyLevel, DirectoryStorage } from './open.ts'

export const levelDirectory: DirectoryStorage = {
  async prepare(path) {
    await assertNotOrphaned(path)
    const { mended } = await mendDamagedTables(path)
    const { Level } = await import('level')
    return { db: new Level<string, string>(path) as unknown as AnyLevel, mended }
  },
  journal: (path) => new Journal(path)
}
