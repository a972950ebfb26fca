import { generateKeyPairFromSeed, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'

/** A TTL: a go-libp2p symbolic constant or a plain number of milliseconds. */
export type TraceTtl = 'connected' | 'permanent' | 'recentlyConnected' | 'temp' | number

/** One peerstore operation; `peer` indexes the trace's key set. */
export type PeerstoreOp =
  | { op: 'advance'; peer?: number; ms: number }
  | { op: 'addAddrs' | 'setAddrs'; peer: number; addrs: string[]; ttl: TraceTtl }
  | { op: 'updateAddrs'; peer: number; oldTtl: TraceTtl; newTtl: TraceTtl }
  | {
      op: 'clearAddrs' | 'addrs' | 'getProtocols' | 'addPubKey' | 'pubKey' | 'latency' | 'removePeer'
      peer: number
    }
  | { op: 'peersWithAddrs'; peer: number }
  | {
      op: 'addProtocols' | 'setProtocols' | 'removeProtocols' | 'supports' | 'firstSupported'
      peer: number
      protocols: string[]
    }
  | { op: 'put'; peer: number; key: string; value: string }
  | { op: 'get'; peer: number; key: string }
  | { op: 'recordLatency'; peer: number; ms: number }

export interface PeerstoreTrace {
  /** base64 protobuf-marshalled Ed25519 private keys, so both sides derive the same peer ids. */
  keys: string[]
  ops: PeerstoreOp[]
}

/** What each side reports for one op. */
export interface OpResult {
  op: string
  result?: unknown
  error?: string
}

export interface KeySet {
  keys: string[]
  peerIds: string[]
}

/** Deterministic Ed25519 keys: key i comes from a 32-byte seed filled with i+1. */
export async function keySet(count: number): Promise<KeySet> {
  const keys: string[] = []
  const peerIds: string[] = []
  for (let i = 0; i < count; i++) {
    const key = await generateKeyPairFromSeed('Ed25519', new Uint8Array(32).fill(i + 1))
    keys.push(Buffer.from(privateKeyToProtobuf(key)).toString('base64'))
    peerIds.push(peerIdFromPrivateKey(key).toString())
  }
  return { keys, peerIds }
}
