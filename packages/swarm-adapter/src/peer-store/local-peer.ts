// Which stored peer is the node itself. A running node knows (the store is opened with its peer id); a stored
// database read without the node (the CLI, `peerscope serve`) learns it from a mark the node leaves on its own
// entry, so every view leaves the same peer out of its lists and counts.

import type { PeerId } from '@libp2p/interface'
import type { LevelPeerStore } from '@peerscope/peerstore-level'

/** Metadata key on the local peer's entry; its value is the time (epoch ms) the node last opened the store. */
export const LOCAL_PEER_KEY = 'peerscope/local-peer'

/** Marks `self` as the store's local peer (called by the service when it opens the store). */
export async function markLocalPeer(store: LevelPeerStore, self: PeerId, now = Date.now()): Promise<void> {
  await store.putMetadata(self, LOCAL_PEER_KEY, now)
}

const marked = new WeakMap<LevelPeerStore, PeerId | null>()

/**
 * The store's local peer: the id it was opened with, else the peer a node marked last (read once per store object:
 * offline stores are not written while they are read). `undefined` for a store no node has marked.
 */
export function localPeerOf(store: LevelPeerStore): PeerId | undefined {
  if (store.selfId !== undefined) return store.selfId
  let found = marked.get(store)
  if (found === undefined) {
    let latest = -1
    found = null
    for (const id of store.peers()) {
      const at = store.getMetadata(id, LOCAL_PEER_KEY)
      if (typeof at === 'number' && at > latest) {
        latest = at
        found = id
      }
    }
    marked.set(store, found)
  }
  return found ?? undefined
}
