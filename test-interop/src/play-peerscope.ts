import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { privateKeyFromProtobuf, privateKeyToProtobuf, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import {
  ConnectedAddrTTL,
  openPeerStore,
  PermanentAddrTTL,
  RecentlyConnectedAddrTTL,
  TempAddrTTL
} from '@peerscope/peerstore-level'
import type { OpResult, PeerstoreOp, PeerstoreTrace, TraceTtl } from './trace.ts'

/** The go peerstore-trace program starts its mock clock at this instant. */
const START_MS = 1_700_000_000_000

function ttlMs(ttl: TraceTtl): number {
  switch (ttl) {
    case 'connected':
      return ConnectedAddrTTL
    case 'permanent':
      return PermanentAddrTTL
    case 'recentlyConnected':
      return RecentlyConnectedAddrTTL
    case 'temp':
      return TempAddrTTL
    default:
      return ttl
  }
}

/** How long a take waits for one more addr: peerscope announces synchronously, so this only covers microtasks. */
const STREAM_QUIET_MS = 20

interface OpenStream {
  iterator: AsyncGenerator<Multiaddr>
  abort: AbortController
  /** A `next()` that timed out in an earlier take; the next take awaits it first. */
  pending: Promise<IteratorResult<Multiaddr>> | undefined
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64')
}

/** "" in a trace's addrs stands for a nil multiaddr. */
function parseAddrs(addrs: readonly string[]): Array<Multiaddr | null> {
  return addrs.map((a) => (a === '' ? null : multiaddr(a)))
}

/** Plays a trace against @peerscope/peerstore-level on a real LevelDB in a temp dir. */
export async function playPeerscope(trace: PeerstoreTrace): Promise<OpResult[]> {
  const keys: PrivateKey[] = trace.keys.map((k) => privateKeyFromProtobuf(Buffer.from(k, 'base64')))
  // Ids parsed from their string form, as a remote peer's id arrives: an RSA PeerId made from a key would
  // carry that key, which go's peer.ID (bytes) never does.
  const ids: PeerId[] = keys.map((k) => peerIdFromString(peerIdFromPrivateKey(k).toString()))
  const index = new Map(ids.map((id, i) => [id.toString(), i]))
  const indices = (peers: PeerId[]): number[] =>
    peers.map((p) => index.get(p.toString()) ?? -1).sort((a, b) => a - b)
  let now = START_MS
  const dir = mkdtempSync(join(tmpdir(), 'peerscope-interop-'))
  const store = await openPeerStore({
    path: dir,
    clock: () => now,
    gc: { interval: 0 },
    // go-libp2p v0.48.0 has no per-peer addr cap (DIFFERENCES.md perPeerAddrCap).
    limits: {
      maxAddrsPerPeer: 0,
      ...(trace.maxProtocols === undefined ? {} : { maxProtocols: trace.maxProtocols })
    },
    // DIFFERENCES.md privateKeyLocalOnly: the local key is given at open.
    ...(trace.local === undefined ? {} : { privateKey: keys[trace.local] as PrivateKey })
  })
  const streams = new Map<number, OpenStream>()
  const results: OpResult[] = []
  try {
    for (const op of trace.ops) {
      try {
        results.push({ op: op.op, result: await apply(op) })
      } catch (err) {
        results.push({ op: op.op, error: (err as Error).message })
      }
    }
  } finally {
    for (const s of streams.values()) s.abort.abort()
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  }
  return results

  async function apply(op: PeerstoreOp): Promise<unknown> {
    if (op.op === 'advance') {
      now += op.ms
      return null
    }
    const peer = ids[op.peer ?? 0] as PeerId
    switch (op.op) {
      case 'addAddrs':
        await store.addAddrs(peer, parseAddrs(op.addrs), ttlMs(op.ttl))
        return null
      case 'setAddrs':
        await store.setAddrs(peer, parseAddrs(op.addrs), ttlMs(op.ttl))
        return null
      case 'updateAddrs':
        await store.updateAddrs(peer, ttlMs(op.oldTtl), ttlMs(op.newTtl))
        return null
      case 'clearAddrs':
        await store.clearAddrs(peer)
        return null
      case 'addrs':
        return store
          .addrs(peer)
          .map((a) => a.toString())
          .sort()
      case 'peersWithAddrs':
        return { live: indices(store.peersWithAddrs()) }
      case 'addProtocols':
        await store.addProtocols(peer, op.protocols)
        return null
      case 'setProtocols':
        await store.setProtocols(peer, op.protocols)
        return null
      case 'removeProtocols':
        await store.removeProtocols(peer, op.protocols)
        return null
      case 'getProtocols':
        return [...store.getProtocols(peer)].sort()
      case 'supports':
        // Query order, as go.
        return [...store.supportsProtocols(peer, op.protocols)]
      case 'firstSupported':
        return store.firstSupportedProtocol(peer, op.protocols) ?? ''
      case 'addPubKey':
        await store.addPubKey(peer, (keys[op.peer] as PrivateKey).publicKey)
        return null
      case 'pubKey': {
        const key = store.pubKey(peer)
        return key === undefined ? null : Buffer.from(publicKeyToProtobuf(key)).toString('base64')
      }
      case 'put':
        await store.putMetadata(peer, op.key, op.value)
        return null
      case 'get': {
        const value = store.getMetadata(peer, op.key)
        // go reports a missing key as ErrNotFound.
        if (value === undefined) throw new Error('item not found')
        return value
      }
      case 'recordLatency':
        store.recordLatency(peer, op.ms)
        return null
      case 'latency':
        return store.latencyEWMA(peer)
      case 'removePeer':
        await store.removePeer(peer)
        return null
      case 'peersWithKeys':
        return indices(store.peersWithKeys())
      case 'peers':
        return indices(store.peers())
      case 'privKey': {
        const key = store.privKey(peer)
        return key === undefined ? null : b64(privateKeyToProtobuf(key))
      }
      case 'consumePeerRecord': {
        if (op.envelope === undefined)
          throw new Error('consumePeerRecord op without envelope: call sealRecords')
        return { accepted: await store.consumePeerRecord(Buffer.from(op.envelope, 'base64'), ttlMs(op.ttl)) }
      }
      case 'peerRecord': {
        const envelope = store.peerRecord(peer)
        if (envelope === undefined) return null
        const record = PeerRecord.createFromProtobuf(RecordEnvelope.createFromProtobuf(envelope).payload)
        return { seq: record.seqNumber.toString(), envelope: b64(envelope) }
      }
      case 'addrStreamOpen': {
        if (streams.has(op.stream)) throw new Error(`stream ${op.stream} already open`)
        const abort = new AbortController()
        const iterator = store.addrStream(peer, { signal: abort.signal })
        streams.set(op.stream, { iterator, abort, pending: undefined })
        return null
      }
      case 'addrStreamTake':
        return takeStream(op.stream)
      case 'addrStreamClose': {
        const s = streams.get(op.stream)
        if (s === undefined) throw new Error(`no stream ${op.stream}`)
        s.abort.abort()
        streams.delete(op.stream)
        return null
      }
    }
  }

  /** Every addr the stream has ready, sorted (the Go side sorts too: go's order within a kind is map order). */
  async function takeStream(id: number): Promise<string[]> {
    const s = streams.get(id)
    if (s === undefined) throw new Error(`no stream ${id}`)
    const got: string[] = []
    for (;;) {
      const next = s.pending ?? s.iterator.next()
      let timer: NodeJS.Timeout | undefined
      const quiet = new Promise<'quiet'>((resolve) => {
        timer = setTimeout(() => resolve('quiet'), STREAM_QUIET_MS)
      })
      const r = await Promise.race([next, quiet])
      clearTimeout(timer)
      if (r === 'quiet') {
        s.pending = next
        break
      }
      s.pending = undefined
      if (r.done === true) break
      got.push(r.value.toString())
    }
    return got.sort()
  }
}
