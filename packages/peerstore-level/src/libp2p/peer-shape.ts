// libp2p's `Peer` as the view hands it out: built from a peer index entry (live addresses and tags only, each list
// in code-unit order) on every read, copied for event listeners, and compared as libp2p sees peers (to fire
// `peer:update` once per real change). Nothing built is kept: a cached `Peer` per peer read cost ~1 KB each.
import type { Address, Peer, PeerId, Tag } from '@libp2p/interface'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { equals } from 'uint8arrays'
import type { PeerEntry, TagEntry } from '../types.ts'

function isSorted(list: readonly string[]): boolean {
  for (let i = 1; i < list.length; i++) if (list[i - 1]! > list[i]!) return false
  return true
}

function sortedMap<V>(entries: Iterable<[string, V]>): Map<string, V> {
  return new Map([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

export function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a == null ? b == null : b != null && equals(a, b)
}

export const NO_TAGS: ReadonlyMap<string, TagEntry> = new Map()

/** Live tags with their expiry: upstream counts a moved expiry as a change (an event). */
export function liveTags(tags: ReadonlyMap<string, TagEntry>, now: number): ReadonlyMap<string, TagEntry> {
  if (tags.size === 0) return NO_TAGS
  const out = new Map<string, TagEntry>()
  for (const [k, t] of tags) if (now < t.expiresAt) out.set(k, t)
  return out
}

export function sameTags(a: ReadonlyMap<string, TagEntry>, b: ReadonlyMap<string, TagEntry>): boolean {
  if (a.size !== b.size) return false
  for (const [k, t] of a) {
    const u = b.get(k)
    if (u == null || u.value !== t.value || u.expiresAt !== t.expiresAt) return false
  }
  return true
}

/** Equal as libp2p sees them (addresses with their certified flag, protocols, metadata, tags, record, key). */
export function peersEqual(a: Peer, b: Peer): boolean {
  return (
    a.addresses.length === b.addresses.length &&
    a.addresses.every(
      (x, i) =>
        x.isCertified === b.addresses[i]?.isCertified &&
        x.multiaddr.toString() === b.addresses[i]!.multiaddr.toString()
    ) &&
    a.protocols.length === b.protocols.length &&
    a.protocols.every((p, i) => p === b.protocols[i]) &&
    a.metadata.size === b.metadata.size &&
    [...a.metadata].every(([k, v]) => sameBytes(v, b.metadata.get(k))) &&
    a.tags.size === b.tags.size &&
    [...a.tags].every(([k, v]) => b.tags.get(k)?.value === v.value) &&
    sameBytes(a.peerRecordEnvelope, b.peerRecordEnvelope) &&
    (a.id.publicKey == null) === (b.id.publicKey == null)
  )
}

/** A fresh copy of the containers, so one listener that edits what it got cannot change what others get. */
export function copyPeer(peer: Peer): Peer {
  const copy: Peer = {
    id: peer.id,
    addresses: peer.addresses.map((a) => ({ multiaddr: a.multiaddr, isCertified: a.isCertified })),
    protocols: peer.protocols.slice(),
    metadata: peer.metadata.size === 0 ? new Map() : new Map(peer.metadata),
    tags: peer.tags.size === 0 ? new Map() : new Map([...peer.tags].map(([k, t]) => [k, { value: t.value }]))
  }
  if (peer.peerRecordEnvelope != null) copy.peerRecordEnvelope = peer.peerRecordEnvelope
  return copy
}

export function emptyPeer(id: PeerId): Peer {
  return { id, addresses: [], protocols: [], metadata: new Map(), tags: new Map() }
}

/** libp2p's view of one entry at `now`: live addresses and tags only, in code-unit order. */
export function toPeer(entry: PeerEntry, now: number): Peer {
  // In text order already: the store keeps every entry's addresses sorted (addr-list.ts).
  const addrs = entry.addrs
  const addresses: Address[] = []
  for (let i = 0; i < addrs.size; i++) {
    if (addrs.liveAt(i, now))
      addresses.push({ multiaddr: addrs.multiaddrAt(i), isCertified: addrs.certifiedAt(i) })
  }
  let metadata: Map<string, Uint8Array> = new Map()
  if (entry.metadata.size > 0) {
    const bytes: Array<[string, Uint8Array]> = []
    for (const [k, v] of entry.metadata) if (v instanceof Uint8Array) bytes.push([k, v])
    metadata = sortedMap(bytes)
  }
  let tags: Map<string, Tag> = new Map()
  if (entry.tags.size > 0) {
    const alive: Array<[string, Tag]> = []
    for (const [k, t] of entry.tags) if (now < t.expiresAt) alive.push([k, { value: t.value }])
    tags = sortedMap(alive)
  }
  // entry.publicKey first: reading entry.id.publicKey builds the key of a stored id (lazy-peer-id.ts).
  const id =
    entry.publicKey != null && entry.id.type === 'RSA' && entry.id.publicKey == null
      ? peerIdFromPublicKey(entry.publicKey)
      : entry.id
  // Code-unit order (upstream uses localeCompare, which is ~50x slower and locale-dependent).
  const protocols = entry.protocols.slice()
  if (!isSorted(protocols)) protocols.sort()
  const peer: Peer = { id, addresses, protocols, metadata, tags }
  const envelope = entry.record?.envelope
  if (envelope != null) peer.peerRecordEnvelope = envelope
  return peer
}
