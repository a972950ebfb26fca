// The Node entry's `openPeerStore`: the platform-neutral one, able to open a LevelDB directory too.
import type { OpenPeerStoreInit } from './options.ts'
import { levelDirectory } from './persistence/directory.ts'
import { type LevelPeerStore, openPeerStoreOn } from './store.ts'

/**
 * Opens (and loads) a peer store: on the LevelDB directory `path` (damaged table files mended first, with a
 * write-ahead journal), or on any abstract-level database `db`. Fails with `ERR_DB_LOCKED` if another process
 * holds the LevelDB.
 */
export function openPeerStore(init: OpenPeerStoreInit = {}): Promise<LevelPeerStore> {
  return openPeerStoreOn(levelDirectory, init)
}
