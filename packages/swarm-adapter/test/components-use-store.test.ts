import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { KEEP_ALIVE } from '@libp2p/interface'
import { AddressTTL } from '@peerscope/peerstore-level'
import { pEvent } from 'p-event'
import { eventually, newKey, plainNode, runCleanup, scopedNode, tempDir } from './helpers/nodes.ts'

const cleanup: Array<() => unknown> = []
after(() => runCleanup(cleanup))

test('the dialer finds a peer by id from addresses that exist only in our store', async () => {
  const a = await scopedNode({ peerStore: { memory: true } })
  const b = await plainNode()
  cleanup.push(
    () => a.stop(),
    () => b.stop()
  )
  const store = await a.services.peerscope.store()
  await store.addAddrs(
    b.peerId,
    b.getMultiaddrs().map((ma) => ma.decapsulateCode(421)),
    AddressTTL
  )
  const connection = await a.dial(b.peerId)
  assert.ok(connection.remotePeer.equals(b.peerId))
})

test('the registrar notifies topologies from protocols it reads in our store', async () => {
  const a = await scopedNode({ peerStore: { memory: true } })
  const b = await plainNode()
  cleanup.push(
    () => a.stop(),
    () => b.stop()
  )
  const notified = new Promise<string>((resolve) => {
    void a.register('/ipfs/ping/1.0.0', { onConnect: (peer) => resolve(peer.toString()) })
  })
  await a.dial(b.getMultiaddrs()[0]!)
  assert.equal(await notified, b.peerId.toString())
  const store = await a.services.peerscope.store()
  assert.ok(store.getProtocols(b.peerId).includes('/ipfs/ping/1.0.0'))
})

test('tags written through node.peerStore (as the reconnect queue and kad-dht write them) land in our store', async () => {
  const a = await scopedNode({ peerStore: { memory: true } })
  const b = await plainNode()
  cleanup.push(
    () => a.stop(),
    () => b.stop()
  )
  await a.peerStore.merge(b.peerId, {
    multiaddrs: b.getMultiaddrs().map((ma) => ma.decapsulateCode(421)),
    tags: { 'keep-alive-test': { value: 1 } }
  })
  const store = await a.services.peerscope.store()
  assert.ok(store.getTags(b.peerId).has('keep-alive-test'))
  const updated = pEvent(a, 'peer:update')
  await a.peerStore.merge(b.peerId, { tags: { 'keep-alive-test': undefined } })
  await updated
  assert.equal(store.getTags(b.peerId).has('keep-alive-test'), false)
})

test('the connection manager redials keep-alive peers it reads from our store after a restart', async () => {
  const dir = await tempDir()
  cleanup.push(dir.remove)
  const key = await newKey()
  const b = await plainNode()
  cleanup.push(() => b.stop())

  const first = await scopedNode({ peerStore: { path: dir.path } }, key)
  await first.peerStore.merge(b.peerId, {
    multiaddrs: b.getMultiaddrs().map((ma) => ma.decapsulateCode(421)),
    tags: { [KEEP_ALIVE]: { value: 1 } }
  })
  await first.stop()

  // Nothing dials b in this test: only libp2p's reconnect queue, which lists keep-alive peers from the store.
  const second = await scopedNode({ peerStore: { path: dir.path } }, key)
  cleanup.push(() => second.stop())
  await eventually('the keep-alive peer is redialed', () => second.getConnections(b.peerId).length > 0)
})
