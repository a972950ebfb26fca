// GC: what it removes and keeps, in slices, and its timer.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConnectedAddrTTL, RecentlyConnectedAddrTTL } from '../../../src/node.ts'
import { type Backend, makeAddrs, makePeer, makePeers, strings } from '../helpers.ts'
import { h, hasCode, s, storeSetup } from './setup.ts'

export function gcSuite(backend: Backend): void {
  describe('GC', () => {
    const setup = storeSetup(backend)

    it('removes expired addrs, then peers left with nothing to keep them; pinned peers untouched', async () => {
      const { store, clock, reopen } = await setup()
      const [expiring, pinned, alive, keyOnly, partly] = await makePeers(5)
      await store.addAddrs(expiring!.id, makeAddrs(2), s)
      await store.setProtocols(expiring!.id, ['/x'])
      await store.addAddrs(pinned!.id, makeAddrs(3), s)
      await store.pin(pinned!.id, 'kad')
      await store.addAddrs(alive!.id, makeAddrs(1), h)
      await store.addPubKey(keyOnly!.id, keyOnly!.key.publicKey)
      const [stay] = makeAddrs(1)
      await store.addAddrs(partly!.id, [stay!], h)
      await store.addAddrs(partly!.id, makeAddrs(1), s)
      clock.advance(2 * s)
      const stats = await store.gc()
      assert.equal(stats.peersScanned, 5)
      assert.equal(stats.addrsRemoved, 3)
      assert.equal(stats.peersRemoved, 2)
      assert.deepEqual(
        store.peers().map(String).sort(),
        [pinned!.id, alive!.id, partly!.id].map(String).sort()
      )
      assert.equal(store.addrInfos(pinned!.id).length, 0)
      assert.deepEqual(strings(store.addrs(partly!.id)), strings([stay!]))
      const again = await reopen()
      assert.deepEqual(
        again.peers().map(String).sort(),
        [pinned!.id, alive!.id, partly!.id].map(String).sort()
      )
      assert.deepEqual(again.getProtocols(expiring!.id), [])
    })

    it('collects downgraded Connected addrs like any other', async () => {
      const { store, clock } = await setup()
      const { id } = await makePeer()
      await store.addAddrs(id, makeAddrs(2), ConnectedAddrTTL)
      await store.updateAddrs(id, ConnectedAddrTTL, RecentlyConnectedAddrTTL)
      clock.advance(RecentlyConnectedAddrTTL)
      const stats = await store.gc()
      assert.equal(stats.addrsRemoved, 2)
      assert.deepEqual(store.peers(), [])
    })

    it('removeBarePeers: false touches addresses only', async () => {
      const { store, clock } = await setup({ gc: { interval: 0, removeBarePeers: false } })
      const { id } = await makePeer()
      await store.addAddrs(id, makeAddrs(1), s)
      await store.setProtocols(id, ['/x'])
      clock.advance(s)
      const stats = await store.gc()
      assert.equal(stats.addrsRemoved, 1)
      assert.equal(stats.peersRemoved, 0)
      assert.deepEqual(store.getProtocols(id), ['/x'])
    })

    it('runs in several slices on a large store and keeps the local peer', async () => {
      const self = await makePeer()
      const { store, clock } = await setup({ gc: { interval: 0, sliceMs: 0 }, peerId: self.id })
      await store.setProtocols(self.id, ['/self'])
      const peers = await makePeers(300)
      await Promise.all(peers.map((p) => store.addAddrs(p.id, makeAddrs(1), s)))
      clock.advance(s)
      const stats = await store.gc()
      assert.ok(stats.slices > 1, `expected several slices, got ${stats.slices}`)
      assert.equal(stats.peersRemoved, 300)
      assert.deepEqual(store.peers().map(String), [self.id.toString()])
    })

    it('lastGc is the last completed run, with the time it started', async () => {
      const { store, clock } = await setup()
      assert.equal(store.lastGc, undefined)
      const { id } = await makePeer()
      await store.addAddrs(id, makeAddrs(1), s)
      clock.advance(s)
      const started = clock.now
      const stats = await store.gc()
      assert.deepEqual(store.lastGc, { ...stats, at: started })
      assert.equal(stats.addrsRemoved, 1)
    })

    it('the periodic GC timer is unref()d and stopped by close()', async () => {
      const { store } = await setup({ gc: { interval: 60_000 } })
      await store.close()
      await assert.rejects(async () => store.gc(), hasCode('ERR_CLOSED'))
    })
  })
}
