import type { PeerStore } from '@libp2p/interface'
import { PEER_STORE_METHODS } from './interpose.ts'

/**
 * A `PeerStore` whose calls wait for the real one. libp2p builds services synchronously, while a LevelDB store
 * opens asynchronously: calls made before it is open (during libp2p's own start-up) queue on `current()`.
 */
export function deferredPeerStore(current: () => Promise<PeerStore>): PeerStore {
  const deferred: Record<string, (...args: unknown[]) => Promise<unknown>> = {}
  for (const name of PEER_STORE_METHODS) {
    deferred[name] = async (...args: unknown[]) => {
      const store = await current()
      return (store[name] as (...a: unknown[]) => Promise<unknown>).apply(store, args)
    }
  }
  return deferred as unknown as PeerStore
}
