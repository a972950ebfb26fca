import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { MemoryLevel } from 'memory-level'
import { openPeerStore } from '../src/node.ts'
import type { AnyLevel } from '../src/persistence/open.ts'
import type { Backend, Storage } from './suite/helpers.ts'
import { peerAgeSuite } from './suite/peer-age-suite.ts'

/** Deletes every stored write time, as a store written before they existed has none. */
async function clearSeen(db: AnyLevel): Promise<void> {
  await db.open()
  await db.sublevel('seen').clear()
  await db.close()
}

const stores = new WeakMap<Storage, () => AnyLevel>()

peerAgeSuite({
  name: 'LevelDB',
  async create() {
    const dir = await mkdtemp(join(tmpdir(), 'peer-age-'))
    const path = join(dir, 'db')
    const storage: Storage = {
      open: (init = {}) => openPeerStore({ gc: { interval: 0 }, ...init, path }),
      cleanup: () => rm(dir, { recursive: true, force: true })
    }
    stores.set(storage, () => new Level<string, string>(path) as unknown as AnyLevel)
    return storage
  },
  clearSeen: (storage) => clearSeen(stores.get(storage)!())
} satisfies Backend & { clearSeen(storage: Storage): Promise<void> })

peerAgeSuite({
  name: 'memory',
  async create() {
    const db = new MemoryLevel<string, string>()
    const storage: Storage = {
      open: (init = {}) => openPeerStore({ gc: { interval: 0 }, ...init, db }),
      cleanup: async () => {}
    }
    stores.set(storage, () => db as unknown as AnyLevel)
    return storage
  },
  clearSeen: (storage) => clearSeen(stores.get(storage)!())
})
