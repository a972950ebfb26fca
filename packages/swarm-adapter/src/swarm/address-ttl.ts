import type { Connection, IdentifyResult, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import {
  ConnectedAddrTTL,
  type LevelPeerStore,
  RecentlyConnectedAddrTTL,
  TempAddrTTL
} from '@peerscope/peerstore-level'

/** go-libp2p identify stores at most this many listen addresses of a peer. */
export const MAX_IDENTIFY_ADDRS = 500
/** go-libp2p keeps at most this many addresses of a peer after its last connection closes. */
export const MAX_RECENTLY_CONNECTED_ADDRS = 20

/**
 * Address TTLs as go-libp2p's host and identify service set them:
 * - a dialed or accepted connection's remote address is held at TempAddrTTL until identify says more;
 * - identify's listen addresses get ConnectedAddrTTL while the peer is connected (RecentlyConnectedAddrTTL
 *   otherwise), and any Temp address the peer did not advertise is dropped;
 * - on the last disconnect, at most 20 addresses (the last remote address first) go down to
 *   RecentlyConnectedAddrTTL and the rest are dropped.
 */
export class AddressTtlRules {
  readonly #store: LevelPeerStore
  /** The remote address of each peer's most recent connection, for the disconnect rule. */
  readonly #lastRemoteAddr = new Map<string, Multiaddr>()

  constructor(store: LevelPeerStore) {
    this.#store = store
  }

  async onConnectionOpen(connection: Connection): Promise<void> {
    const peer = connection.remotePeer
    this.#lastRemoteAddr.set(peer.toString(), connection.remoteAddr)
    await this.#store.addAddrs(peer, [connection.remoteAddr], TempAddrTTL)
  }

  async onIdentify(result: IdentifyResult, connected: boolean): Promise<void> {
    const peer = result.peerId
    const ttl = connected ? ConnectedAddrTTL : RecentlyConnectedAddrTTL
    await this.#store.updateAddrs(peer, RecentlyConnectedAddrTTL, TempAddrTTL)
    await this.#store.updateAddrs(peer, ConnectedAddrTTL, TempAddrTTL)
    await this.#store.addAddrs(peer, result.listenAddrs.slice(0, MAX_IDENTIFY_ADDRS), ttl)
    await this.#store.updateAddrs(peer, TempAddrTTL, 0)
    if (result.publicKey != null && peer.publicKey != null) {
      await this.#store.addPubKey(peer, peer.publicKey)
    }
  }

  async onLastDisconnect(peer: PeerId): Promise<void> {
    const key = peer.toString()
    const last = this.#lastRemoteAddr.get(key)
    this.#lastRemoteAddr.delete(key)
    const known = this.#store.addrs(peer)
    const keep: Multiaddr[] = last === undefined ? [] : [last]
    for (const ma of known) {
      if (keep.length >= MAX_RECENTLY_CONNECTED_ADDRS) break
      if (last === undefined || !ma.equals(last)) keep.push(ma)
    }
    await this.#store.updateAddrs(peer, ConnectedAddrTTL, TempAddrTTL)
    await this.#store.addAddrs(peer, keep, RecentlyConnectedAddrTTL)
    await this.#store.updateAddrs(peer, TempAddrTTL, 0)
  }
}
