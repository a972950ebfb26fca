// The scaling benchmark's workload, the same on both sides: peer i has an Ed25519 identity id derived from i (the Go
// program derives the same bytes, go/main.go `peerID`), four addresses and three protocols. The caller's objects
// (PeerIds, parsed multiaddrs) are made in chunks outside every timing and dropped after, so a heap figure counts
// only what a store keeps of them.
import type { PeerId } from '@libp2p/interface'
import { peerIdFromMultihash } from '@libp2p/peer-id'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import * as Digest from 'multiformats/hashes/digest'

export const PROTOCOLS = ['/ipfs/id/1.0.0', '/ipfs/ping/1.0.0', '/ipfs/kad/1.0.0']

/** Peers made at a time outside the timings. */
export const CHUNK = 10_000

/** Identity multihash of an Ed25519 public key protobuf: 00 24 08 01 12 20, then 32 key bytes. */
export function peerIdBytes(i: number): Uint8Array {
  const b = new Uint8Array(38)
  b.set([0x00, 0x24, 0x08, 0x01, 0x12, 0x20])
  let x = Math.imul(i + 1, 0x9e3779b1) >>> 0
  for (let j = 6; j < 38; j++) {
    x = (x ^ (x << 13)) >>> 0
    x = (x ^ (x >>> 17)) >>> 0
    x = (x ^ (x << 5)) >>> 0
    b[j] = x & 255
  }
  b[6] = i & 255
  b[7] = (i >>> 8) & 255
  b[8] = (i >>> 16) & 255
  b[9] = (i >>> 24) & 255
  return b
}

export function peerIdFor(i: number): PeerId {
  return peerIdFromMultihash(Digest.decode(peerIdBytes(i)))
}

export function addrTextsFor(i: number): string[] {
  const a = (i >> 8) & 255
  const b = i & 255
  return [
    `/ip4/10.${a}.${b}.1/tcp/4001`,
    `/ip4/10.${a}.${b}.1/udp/4001/quic-v1`,
    `/ip6/fd00::${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}/tcp/4001`,
    `/dns4/p${i}.example.com/tcp/443/wss`
  ]
}

export function addrsFor(i: number): Multiaddr[] {
  return addrTextsFor(i).map((text) => multiaddr(text))
}

export interface PeerChunk {
  ids: PeerId[]
  addrs: Multiaddr[][]
}

/** The caller's objects for peers [from, to): ids (their text made, as a caller's usually is) and addresses. */
export function chunk(from: number, to: number, withAddrs = true): PeerChunk {
  const ids: PeerId[] = []
  const addrs: Multiaddr[][] = []
  for (let i = from; i < to; i++) {
    const id = peerIdFor(i)
    id.toString()
    ids.push(id)
    if (withAddrs) addrs.push(addrsFor(i))
  }
  return { ids, addrs }
}
