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
import { MemoryLevel } from 'memory-level'
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

/**
 * A take waits one turn of the event loop for one more addr: peerscope announces synchronously and a stream
 * hands an addr over in microtasks, which all run before the turn ends. No result depends on timing.
 */
const nextTurn = (): Promise<'quiet'> => new Promise((resolve) => setImmediate(() => resolve('quiet')))

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

/**
 * Plays a trace against @peerscope/peerstore-level: on a real LevelDB in a temp dir (the write-ahead journal
 * included), or on memory-level (`memory`: the same store over an in-memory database, a tenth of the cost of
 * opening and closing a LevelDB directory).
 */
export async function playPeerscope(
  trace: PeerstoreTrace,
  options: { memory?: boolean } = {}
): Promise<OpResult[]> {
  const keys: PrivateKey[] = trace.keys.map((k) => privateKeyFromProtobuf(Buffer.from(k, 'base64')))
  // Ids parsed from their string form, as a remote peer's id arrives: an RSA PeerId made from a key would
  // carry that key, which go's peer.ID (bytes) never does.
  const ids: PeerId[] = keys.map((k) => peerIdFromString(peerIdFromPrivateKey(k).toString()))
  const index = new Map(ids.map((id, i) => [id.toString(), i]))
  const indices = (peers: PeerId[]): number[] =>
    peers.map((p) => index.get(p.toString()) ?? -1).sort((a, b) => a - b)
  let now = START_MS
  const dir = options.memory === true ? undefined : mkdtempSync(join(tmpdir(), 'peerscope-interop-'))
  const capOn = trace.maxAddrsPerPeer !== 0
  const store = await openPeerStore({
    ...(dir === undefined ? { db: new MemoryLevel() } : { path: dir }),
    clock: () => now,
    // The exact model: GC runs only at `gc` ops, without peerscope's bare-peer rule. Defaults otherwise (the
    // background GC is real time, 10 min: it never runs within a trace either).
    ...(trace.gcRemovesBarePeers === true ? {} : { gc: { interval: 0, removeBarePeers: false } }),
    limits: {
      ...(trace.maxAddrsPerPeer === undefined ? {} : { maxAddrsPerPeer: trace.maxAddrsPerPeer }),
      ...(trace.maxProtocols === undefined ? {} : { maxProtocols: trace.maxProtocols })
    },
    // DIFFERENCES.md privateKeyLocalOnly: the local key is given at open.
    ...(trace.local === undefined ? {} : { privateKey: keys[trace.local] as PrivateKey })
  })
  const streams = new Map<number, OpenStream>()
  const results: OpResult[] = []
  try {
    for (const op of trace.ops) {
      let r: OpResult
      try {
        r = { op: op.op, result: await apply(op) }
      } catch (err) {
        r = { op: op.op, error: (err as Error).message }
      }
      const written = writtenPeer(op)
      if (capOn && written !== undefined) r.state = addrState(written)
      results.push(r)
    }
  } finally {
    for (const s of streams.values()) s.abort.abort()
    await store.close()
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  }
  return results

  /** The peer whose addrs an op may have written under the per-peer cap (an eviction tie is checked on it). */
  function writtenPeer(op: PeerstoreOp): PeerId | undefined {
    if (op.op === 'addAddrs' || op.op === 'setAddrs' || op.op === 'consumePeerRecord') return ids[op.peer]
    return undefined
  }

  /** The Go program's `addrState`: "<addr> <ttl ns | connected | permanent> <expiry ns since start | never>". */
  function addrState(peer: PeerId): string[] {
    const out: string[] = []
    for (const a of store.entryFor(peer)?.addrs.values() ?? []) {
      const ttl =
        a.ttl === ConnectedAddrTTL
          ? 'connected'
          : a.ttl === PermanentAddrTTL
            ? 'permanent'
            : String(Math.round(a.ttl * 1e6))
      const expiry = Number.isFinite(a.expiresAt)
        ? String((a.expiresAt - START_MS) * 1e6 + (a.expiresAtNs ?? 0))
        : 'never'
      out.push(`${a.multiaddr} ${ttl} ${expiry}`)
    }
    return out.sort()
  }

  /** The trace's peers holding anything. */
  function listed(): number[] {
    return indices(store.peers())
  }

  async function apply(op: PeerstoreOp): Promise<unknown> {
    if (op.op === 'advance') {
      now += op.ms
      return null
    }
    if (op.op === 'gc') {
      const before = listed()
      await store.gc()
      const after = new Set(listed())
      return { dropped: before.filter((i) => !after.has(i)) }
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
      case 'addPrivKey':
        // DIFFERENCES.md privateKeyLocalOnly: only the local peer's key, given at open.
        throw new Error('peerscope stores no private key but the local one (given at open)')
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
      const r = await Promise.race([next, nextTurn()])
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
