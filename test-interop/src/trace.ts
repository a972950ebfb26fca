import {
  generateKeyPair,
  generateKeyPairFromSeed,
  privateKeyFromProtobuf,
  privateKeyToProtobuf
} from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { multiaddr } from '@multiformats/multiaddr'

/** A TTL: a go-libp2p symbolic constant or a plain number of milliseconds. */
export type TraceTtl = 'connected' | 'permanent' | 'recentlyConnected' | 'temp' | number

/** A JSON value, as metadata may hold. */
export type TraceJson = string | number | boolean | null | TraceJson[] | { [key: string]: TraceJson }

/**
 * One peerstore operation; `peer` indexes the trace's key set. In `addrs`, `""` stands for a nil
 * multiaddr (go skips it; peerscope gets `null`).
 */
export type PeerstoreOp =
  | { op: 'advance'; peer?: number; ms: number }
  | { op: 'addAddrs' | 'setAddrs'; peer: number; addrs: string[]; ttl: TraceTtl }
  | { op: 'updateAddrs'; peer: number; oldTtl: TraceTtl; newTtl: TraceTtl }
  | {
      op: 'clearAddrs' | 'addrs' | 'getProtocols' | 'addPubKey' | 'pubKey' | 'latency' | 'removePeer'
      peer: number
    }
  | { op: 'privKey' | 'peerRecord'; peer: number }
  /** go `AddPrivKey` for any peer; peerscope has no such call (DIFFERENCES.md privateKeyLocalOnly). */
  | { op: 'addPrivKey'; peer: number }
  | { op: 'peersWithAddrs'; peer: number }
  | { op: 'peersWithKeys' | 'peers'; peer?: number }
  | {
      op: 'addProtocols' | 'setProtocols' | 'removeProtocols' | 'supports' | 'firstSupported'
      peer: number
      protocols: string[]
    }
  | { op: 'put'; peer: number; key: string; value: TraceJson }
  | { op: 'get'; peer: number; key: string }
  | { op: 'recordLatency'; peer: number; ms: number }
  | ConsumePeerRecordOp
  | { op: 'addrStreamOpen'; peer: number; stream: number }
  | { op: 'gc'; peer?: number }
  | { op: 'addrStreamTake' | 'addrStreamClose'; peer?: number; stream: number }

/**
 * A signed peer record for `peer` with `seq` and `addrs`, sealed with the key of `signer` (default:
 * `peer`). `envelope` holds the marshalled envelope (base64), which is all either side reads; it is
 * filled in by `sealRecords`.
 */
export interface ConsumePeerRecordOp {
  op: 'consumePeerRecord'
  peer: number
  seq: number
  addrs: string[]
  ttl: TraceTtl
  signer?: number
  envelope?: string
}

export interface PeerstoreTrace {
  /** base64 protobuf-marshalled private keys (Ed25519 or RSA), so both sides derive the same peer ids. */
  keys: string[]
  ops: PeerstoreOp[]
  /**
   * The local peer, if any: go adds its private key first (as go's host does); peerscope opens with it
   * (DIFFERENCES.md `privateKeyLocalOnly`).
   */
  local?: number
  /** The per-peer protocol limit (go `WithMaxProtocols`, peerscope `limits.maxProtocols`). */
  maxProtocols?: number
  /**
   * The per-peer cap on unconnected addrs (go `WithMaxAddressesPerPeer`, peerscope `limits.maxAddrsPerPeer`);
   * 0 = off; unset = each side's default (64 on both).
   */
  maxAddrsPerPeer?: number
  /**
   * The `gc` op applies peerscope's GC rule (a peer other than the local one left with no addr loses
   * everything): peerscope opens with its default GC options and go applies the rule with its own public
   * calls (DIFFERENCES.md `gcRemovesBarePeers`). Unset: peerscope opens with `removeBarePeers: false`.
   */
  gcRemovesBarePeers?: boolean
}

/** The two configurations every comparison runs in. */
export type StoreConfig = 'exact' | 'defaults'

/**
 * `exact`: go's model, with the per-peer cap and peerscope's GC rule off (background GC is off on both
 * sides; `gc` ops run each side's collection). `defaults`: each store as a user gets it (per-peer cap 64 on
 * both, peerscope's GC rule on).
 */
export function configure<T extends PeerstoreTrace>(trace: T, config: StoreConfig): T {
  return config === 'exact'
    ? { ...trace, maxAddrsPerPeer: 0, gcRemovesBarePeers: false }
    : { ...trace, maxAddrsPerPeer: undefined, gcRemovesBarePeers: true }
}

/** What each side reports for one op. */
export interface OpResult {
  op: string
  result?: unknown
  error?: string
  /**
   * peerscope only, after an addr write while the per-peer cap is on: the peer's stored addrs (expired ones
   * included) in the Go program's `addrState` form, checked when go reports an eviction tie.
   */
  state?: string[]
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

/** `count` fresh RSA-2048 keys (not derivable from their peer ids, as go's KeyBook suite wants). */
export async function rsaKeySet(count: number): Promise<KeySet> {
  const keys: string[] = []
  const peerIds: string[] = []
  for (let i = 0; i < count; i++) {
    const key = await generateKeyPair('RSA', 2048)
    keys.push(Buffer.from(privateKeyToProtobuf(key)).toString('base64'))
    peerIds.push(peerIdFromPrivateKey(key).toString())
  }
  return { keys, peerIds }
}

function privateKeyAt(keys: readonly string[], i: number): PrivateKey {
  const k = keys[i]
  if (k === undefined) throw new RangeError(`no key ${i} in the trace's key set`)
  return privateKeyFromProtobuf(Buffer.from(k, 'base64'))
}

/** Marshals a PeerRecord for key `peer` (seq, addrs) in an envelope sealed with key `signer`. */
export async function sealPeerRecord(
  keys: readonly string[],
  peer: number,
  seq: number,
  addrs: readonly string[],
  signer = peer
): Promise<string> {
  const record = new PeerRecord({
    peerId: peerIdFromPrivateKey(privateKeyAt(keys, peer)),
    multiaddrs: addrs.map((a) => multiaddr(a)),
    seqNumber: BigInt(seq)
  })
  const envelope = await RecordEnvelope.seal(record, privateKeyAt(keys, signer))
  return Buffer.from(envelope.marshal()).toString('base64')
}

/** Fills in `envelope` on every consumePeerRecord op that lacks one (in place); returns the trace. */
export async function sealRecords<T extends PeerstoreTrace>(trace: T): Promise<T> {
  for (const op of trace.ops) {
    if (op.op === 'consumePeerRecord' && op.envelope === undefined) {
      op.envelope = await sealPeerRecord(trace.keys, op.peer, op.seq, op.addrs, op.signer)
    }
  }
  return trace
}
