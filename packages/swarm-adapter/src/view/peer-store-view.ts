import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import {
  type AddrInfo,
  ConnectedAddrTTL,
  type LastGc,
  type LevelPeerStore,
  type MetadataValue,
  PermanentAddrTTL
} from '@peerscope/peerstore-level'
import type { AddressView, Page, PeerDetail, PeerStoreStatsView, PeerSummary } from '../http/view.ts'

/** What the store does not know but a live node does; an offline database has none of it. */
export interface LiveFacts {
  isConnected(peer: PeerId): boolean
}

export const OFFLINE: LiveFacts = { isConnected: () => false }

/** The JSON shape of one stored address; the two never-expiring TTLs are named, not written as numbers. */
export function addressView(info: AddrInfo): AddressView {
  const view: AddressView = {
    multiaddr: info.multiaddr.toString(),
    ttl: info.ttl >= ConnectedAddrTTL ? null : info.ttl,
    expiresAt: Number.isFinite(info.expiresAt) ? info.expiresAt : null,
    certified: info.certified
  }
  if (info.ttl >= PermanentAddrTTL) view.ttlName = 'permanent'
  else if (info.ttl >= ConnectedAddrTTL) view.ttlName = 'connected'
  return view
}

/** UTF-8 text when the bytes decode cleanly, else `base64:`-prefixed; JSON values as JSON text. */
export function metadataText(value: MetadataValue): string {
  if (!(value instanceof Uint8Array)) return JSON.stringify(value)
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(value)
  } catch {
    return `base64:${Buffer.from(value).toString('base64')}`
  }
}

function latency(store: LevelPeerStore, peer: PeerId): number | null {
  const ms = store.latencyEWMA(peer)
  return ms > 0 ? ms : null
}

export function peerSummary(store: LevelPeerStore, peer: PeerId, live: LiveFacts): PeerSummary {
  return {
    peerId: peer.toString(),
    addresses: store.addrInfos(peer).length,
    protocols: store.getProtocols(peer).length,
    pinned: store.pins(peer).length > 0,
    connected: live.isConnected(peer),
    latencyMs: latency(store, peer)
  }
}

/** Peers in a stable order (by id), so pages do not shift between requests when nothing changed. */
export function peerPage(
  store: LevelPeerStore,
  page: { limit: number; offset: number },
  live: LiveFacts
): Page<PeerSummary> {
  const self = store.selfId
  const ids = store
    .peers()
    .filter((id) => self === undefined || !id.equals(self))
    .map((id) => [id.toString(), id] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  const items = ids.slice(page.offset, page.offset + page.limit).map(([, id]) => peerSummary(store, id, live))
  return { total: ids.length, limit: page.limit, offset: page.offset, items }
}

/** `undefined` when the store knows nothing of the peer. Never includes a private key. */
export function peerDetail(
  store: LevelPeerStore,
  peer: PeerId,
  live: LiveFacts
): Omit<PeerDetail, 'bandwidth'> | undefined {
  if (!store.peers().some((id) => id.equals(peer))) return undefined
  const key = store.pubKey(peer)
  const metadata: Record<string, string> = {}
  for (const name of store.metadataKeys(peer)) {
    const value = store.getMetadata(peer, name)
    if (value !== undefined) metadata[name] = metadataText(value)
  }
  return {
    peerId: peer.toString(),
    addresses: store.addrInfos(peer).map(addressView),
    protocols: store.getProtocols(peer),
    publicKey: key === undefined ? null : Buffer.from(publicKeyToProtobuf(key)).toString('base64'),
    metadata,
    pins: store.pins(peer),
    latencyMs: latency(store, peer),
    connected: live.isConnected(peer)
  }
}

export function peerStoreStats(store: LevelPeerStore, lastGc: LastGc | undefined): PeerStoreStatsView {
  let addresses = 0
  let pinnedPeers = 0
  let peers = 0
  const self = store.selfId
  for (const id of store.peers()) {
    if (self !== undefined && id.equals(self)) continue
    peers++
    addresses += store.addrInfos(id).length
    if (store.pins(id).length > 0) pinnedPeers++
  }
  return {
    peers,
    addresses,
    pinnedPeers,
    lastGc:
      lastGc === undefined
        ? null
        : {
            at: lastGc.at,
            durationMs: lastGc.durationMs,
            addressesRemoved: lastGc.addrsRemoved,
            peersRemoved: lastGc.peersRemoved
          }
  }
}
