// Shared by the peer store suites: stores opened on a backend, each on a fresh storage and a mock clock.
import { after } from 'node:test'
import { type LevelPeerStore, PeerStoreError } from '../../../src/node.ts'
import { type Backend, MockClock, type OpenInit, type Storage } from '../helpers.ts'

export const s = 1000
export const h = 3600 * s

export function hasCode(code: string) {
  return (err: unknown): boolean => err instanceof PeerStoreError && err.code === code
}

export interface OpenedStore {
  store: LevelPeerStore
  clock: MockClock
  /** Closes `store` and opens the same storage again (a restart), with `extra` on top of the first options. */
  reopen(extra?: OpenInit): Promise<LevelPeerStore>
}

/**
 * For the tests of the calling `describe`: a `setup` that opens a store on a fresh storage of `backend`; every
 * store it opened is closed, and every storage removed, after those tests.
 */
export function storeSetup(backend: Backend): (init?: OpenInit) => Promise<OpenedStore> {
  const storages: Storage[] = []
  const opened: LevelPeerStore[] = []

  after(async () => {
    for (const store of opened) await store.close()
    for (const storage of storages) await storage.cleanup()
  })

  return async (init = {}) => {
    const clock = new MockClock()
    const storage = await backend.create()
    storages.push(storage)
    const open = async (extra: OpenInit = {}): Promise<LevelPeerStore> => {
      const store = await storage.open({ clock: clock.read, ...init, ...extra })
      opened.push(store)
      return store
    }
    const store = await open()
    return {
      store,
      clock,
      async reopen(extra) {
        await store.close()
        return open(extra)
      }
    }
  }
}
