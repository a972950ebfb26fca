import type { PeerUpdate } from '@libp2p/interface'
import type { LevelPeerStore } from '@peerscope/peerstore-level'

/** The tag kad-dht puts on the peers of its routing table (and removes when it evicts them). */
export const KAD_PEER_TAG = 'kad-peer'
/** The pin reason for routing-table peers: GC never drops them (the seed's pinned Kademlia records). */
export const KAD_PIN_REASON = 'kad'

/** Pins a peer when kad-dht adds it to its routing table and unpins it when kad-dht evicts it. */
export async function syncKadPin(store: LevelPeerStore, update: PeerUpdate): Promise<void> {
  const had = update.previous?.tags.has(KAD_PEER_TAG) === true
  const has = update.peer.tags.has(KAD_PEER_TAG)
  if (has && !had) await store.pin(update.peer.id, KAD_PIN_REASON)
  if (had && !has) await store.unpin(update.peer.id, KAD_PIN_REASON)
}
