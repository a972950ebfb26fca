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
import type {
  AddressView,
  BandwidthStats,
  Page,
  PeerDetail,
  PeerQuery,
  PeerStoreStatsView,
  PeerSummary
} from '../http/view.ts'
import { localPeerOf } from '../peer-store/local-peer.ts'
import { haystack, needsAllRows, type PeerRow, queryPeers } from './peer-query.ts'

/** What the store does not know but a live node does; an offline database has none of it. */
export interface LiveFacts {
  /** Canonical ids of the peers with an open connection; read once per request. */
  connected(): ReadonlySet<string>
  bandwidth(peerId: string): BandwidthStats | undefined
}

export const OFFLINE: LiveFacts = { connected: () => new Set(), bandwidth: () => undefined }

/** The metadata key identify stores the remote agent under. */
const AGENT_KEY = 'AgentVersion'

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

function agent(store: LevelPeerStore, peer: PeerId): string | null {
  const value = store.getMetadata(peer, AGENT_KEY)
  return value === undefined ? null : metadataText(value)
}

export function peerSummary(
  store: LevelPeerStore,
  peer: PeerId,
  connected: ReadonlySet<string>,
  live: LiveFacts
): PeerSummary {
  const id = peer.toString()
  const pins = store.pins(peer)
  return {
    peerId: id,
    addresses: store.addrInfos(peer).length,
    protocols: store.getProtocols(peer).length,
    pinned: pins.length > 0,
    pins,
    connected: connected.has(id),
    latencyMs: latency(store, peer),
    agent: agent(store, peer),
    bandwidth: live.bandwidth(id) ?? null
  }
}

/**
 * One page of the stored peers (the local peer left out). Without a search, filter or sort the order is by
 * id and only the page's peers are read; otherwise every peer's summary is built (O(peers) per request).
 */
export function peerPage(store: LevelPeerStore, query: PeerQuery, live: LiveFacts): Page<PeerSummary> {
  const self = localPeerOf(store)
  const connected = live.connected()
  const ids = store
    .peers()
    .filter((id) => self === undefined || !id.equals(self))
    .map((id) => [id.toString(), id] as const)
  if (!needsAllRows(query)) {
    ids.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    const items = ids
      .slice(query.offset, query.offset + query.limit)
      .map(([, id]) => peerSummary(store, id, connected, live))
    return { total: ids.length, limit: query.limit, offset: query.offset, items }
  }
  const searching = (query.search ?? '') !== ''
  const rows: PeerRow[] = ids.map(([, id]) => {
    const summary = peerSummary(store, id, connected, live)
    const text = searching
      ? haystack(
          summary,
          store.addrInfos(id).map((a) => a.multiaddr.toString()),
          store.getProtocols(id)
        )
      : ''
    return { summary, haystack: text }
  })
  return queryPeers(rows, query)
}

/** `undefined` when the store knows nothing of the peer. Never includes a private key. */
export function peerDetail(
  store: LevelPeerStore,
  peer: PeerId,
  live: LiveFacts
): Omit<PeerDetail, 'bandwidth' | 'protocolBandwidth' | 'connections'> | undefined {
  if (!store.peers().some((id) => id.equals(peer))) return undefined
  const key = store.pubKey(peer)
  // Built as entries: any key the store accepts, `__proto__` included, is an own key of the JSON object.
  const metadata: Record<string, string> = Object.fromEntries(
    store.metadataKeys(peer).flatMap((name) => {
      const value = store.getMetadata(peer, name)
      return value === undefined ? [] : [[name, metadataText(value)]]
    })
  )
  return {
    peerId: peer.toString(),
    addresses: store.addrInfos(peer).map(addressView),
    protocols: store.getProtocols(peer),
    publicKey: key === undefined ? null : Buffer.from(publicKeyToProtobuf(key)).toString('base64'),
    metadata,
    pins: store.pins(peer),
    latencyMs: latency(store, peer),
    agent: agent(store, peer),
    connected: live.connected().has(peer.toString())
  }
}

export function peerStoreStats(store: LevelPeerStore, lastGc: LastGc | undefined): PeerStoreStatsView {
  let addresses = 0
  let pinnedPeers = 0
  let peers = 0
  const self = localPeerOf(store)
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
