import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { privateKeyFromProtobuf, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
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

/** Plays a trace against @peerscope/peerstore-level on a real LevelDB in a temp dir. */
export async function playPeerscope(trace: PeerstoreTrace): Promise<OpResult[]> {
  const keys: PrivateKey[] = trace.keys.map((k) => privateKeyFromProtobuf(Buffer.from(k, 'base64')))
  const ids: PeerId[] = keys.map((k) => peerIdFromPrivateKey(k))
  const index = new Map(ids.map((id, i) => [id.toString(), i]))
  let now = START_MS
  const dir = mkdtempSync(join(tmpdir(), 'peerscope-interop-'))
  const store = await openPeerStore({ path: dir, clock: () => now, gc: { interval: 0 } })
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
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  }
  return results

  async function apply(op: PeerstoreOp): Promise<unknown> {
    if (op.op === 'advance') {
      now += op.ms
      return null
    }
    const peer = ids[op.peer] as PeerId
    switch (op.op) {
      case 'addAddrs':
        await store.addAddrs(
          peer,
          op.addrs.map((a) => multiaddr(a)),
          ttlMs(op.ttl)
        )
        return null
      case 'setAddrs':
        await store.setAddrs(
          peer,
          op.addrs.map((a) => multiaddr(a)),
          ttlMs(op.ttl)
        )
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
      case 'peersWithAddrs': {
        const live = store
          .peersWithAddrs()
          .map((p) => index.get(p.toString()) ?? -1)
          .sort((a, b) => a - b)
        return { live }
      }
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
        return [...store.supportsProtocols(peer, op.protocols)].sort()
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
    }
  }
}
