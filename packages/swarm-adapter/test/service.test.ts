import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { identify } from '@libp2p/identify'
import type { ComponentLogger } from '@libp2p/interface'
import { defaultLogger } from '@libp2p/logger'
import { ping } from '@libp2p/ping'
import { ConnectedAddrTTL, PeerStoreError, RecentlyConnectedAddrTTL } from '@peerscope/peerstore-level'
import { createLibp2p } from 'libp2p'
import { pEvent } from 'p-event'
import { peerscopeService } from '../src/service.ts'
import {
  baseOptions,
  dialAndIdentify,
  eventually,
  newKey,
  plainNode,
  runCleanup,
  type ScopedNode,
  scopedNode,
  tempDir
} from './helpers/nodes.ts'

describe('peerscope service: swarm behaviour', () => {
  const cleanup: Array<() => unknown> = []
  after(() => runCleanup(cleanup))

  test('identify stores listen addrs at ConnectedAddrTTL, protocols, key and versions', async () => {
    const a = await scopedNode({ peerStore: { memory: true } })
    const b = await plainNode()
    cleanup.push(
      () => a.stop(),
      () => b.stop()
    )
    await dialAndIdentify(a, b)
    const store = await a.services.peerscope.store()

    const infos = store.addrInfos(b.peerId)
    assert.ok(infos.length > 0)
    for (const info of infos)
      assert.equal(info.ttl, ConnectedAddrTTL, `${info.multiaddr} is held as connected`)
    assert.deepEqual(
      infos.map((i) => i.multiaddr.toString()).sort(),
      b
        .getMultiaddrs()
        .map((ma) => ma.decapsulateCode(421).toString())
        .sort()
    )
    assert.ok(store.getProtocols(b.peerId).includes('/ipfs/ping/1.0.0'))
    assert.ok(store.pubKey(b.peerId)?.equals(b.peerId.publicKey))
    const peer = await a.peerStore.get(b.peerId)
    assert.ok(peer.metadata.has('AgentVersion'))
  })

  test('the last disconnect downgrades to RecentlyConnectedAddrTTL', async () => {
    const a = await scopedNode({ peerStore: { memory: true } })
    const b = await plainNode()
    cleanup.push(
      () => a.stop(),
      () => b.stop()
    )
    await dialAndIdentify(a, b)
    const disconnected = pEvent(a, 'peer:disconnect')
    await a.hangUp(b.peerId)
    await disconnected
    await a.services.peerscope.settled()
    const store = await a.services.peerscope.store()
    const infos = store.addrInfos(b.peerId)
    assert.ok(infos.length > 0 && infos.length <= 20)
    for (const info of infos) assert.equal(info.ttl, RecentlyConnectedAddrTTL)
  })

  test('a restarted node remembers its peers, with connected addrs downgraded', async () => {
    const dir = await tempDir()
    cleanup.push(dir.remove)
    const key = await newKey()
    const b = await plainNode()
    cleanup.push(() => b.stop())

    const first = await scopedNode({ peerStore: { path: dir.path } }, key)
    await dialAndIdentify(first, b)
    await first.stop()

    const second: ScopedNode = await scopedNode({ peerStore: { path: dir.path } }, key)
    cleanup.push(() => second.stop())
    const peer = await second.peerStore.get(b.peerId)
    assert.ok(peer.protocols.includes('/ipfs/ping/1.0.0'))
    const store = await second.services.peerscope.store()
    // stop() applied the last-disconnect rule itself: nothing was left at ConnectedAddrTTL for the open to fix.
    assert.equal(store.openReport.downgraded, 0)
    const infos = store.addrInfos(b.peerId)
    assert.ok(infos.length > 0)
    for (const info of infos) assert.equal(info.ttl, RecentlyConnectedAddrTTL)
  })

  test('a second node on the same database fails to start with ERR_DB_LOCKED', async () => {
    const dir = await tempDir()
    cleanup.push(dir.remove)
    const key = await newKey()
    const first = await scopedNode({ peerStore: { path: dir.path } }, key)
    cleanup.push(() => first.stop())
    await assert.rejects(
      scopedNode({ peerStore: { path: dir.path } }, key),
      (err: unknown) => err instanceof PeerStoreError && err.code === 'ERR_DB_LOCKED'
    )
  })

  test('a stopped node store refuses late calls with ERR_CLOSED instead of reopening, and opens again on start', async () => {
    const dir = await tempDir()
    cleanup.push(dir.remove)
    const node = await scopedNode({ peerStore: { path: dir.path } })
    await node.stop()
    // libp2p's address manager updates the self peer from a debounced timer that can fire after stop().
    await assert.rejects(
      node.peerStore.patch(node.peerId, { multiaddrs: [] }),
      (err: unknown) => err instanceof PeerStoreError && err.code === 'ERR_CLOSED'
    )
    await assert.rejects(node.services.peerscope.store(), (err: unknown) => err instanceof PeerStoreError)
    // Nothing holds the database open, so another store opens it at once.
    await assert.doesNotReject(dir.remove())
    await node.start()
    cleanup.push(() => node.stop())
    assert.ok(await node.peerStore.has(node.peerId))
  })

  test('the store runs GC on its own timer and logs through the node logger; service.lastGc reads its runs', async () => {
    const components: string[] = []
    const logger: ComponentLogger = {
      forComponent(name) {
        components.push(name)
        return defaultLogger().forComponent(name)
      }
    }
    const node: ScopedNode = await createLibp2p({
      ...baseOptions(),
      logger,
      services: {
        identify: identify(),
        ping: ping(),
        peerscope: peerscopeService({ peerStore: { memory: true, gcInterval: 20 } })
      }
    })
    cleanup.push(() => node.stop())
    assert.ok(components.includes('peerscope:peer-store'), components.join(', '))
    await eventually('a GC run by the store timer', () => node.services.peerscope.lastGc !== undefined)
    assert.equal(typeof node.services.peerscope.lastGc?.at, 'number')
  })

  test('ping RTTs measured by the connection monitor feed the latency EWMA', async () => {
    const a = await scopedNode({ peerStore: { memory: true }, latencySampleInterval: 50 })
    const b = await plainNode()
    cleanup.push(
      () => a.stop(),
      () => b.stop()
    )
    const connection = await a.dial(b.getMultiaddrs()[0]!)
    // libp2p's connection monitor writes `rtt` after each of its pings (every 10 s by default); do what it
    // does once, with a real ping, instead of waiting for it.
    const rtt = await a.services.ping.ping(b.peerId)
    connection.rtt = rtt
    const store = await a.services.peerscope.store()
    await eventually('latency recorded', () => store.latencyEWMA(b.peerId) > 0)
    assert.equal(store.latencyEWMA(b.peerId), rtt)
  })
})
