// GC: what it removes and keeps, in slices, and its timer.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { ConnectedAddrTTL, RecentlyConnectedAddrTTL } from '../../../src/node.ts'
import { editTags } from '../../../src/types.ts'
import { type Backend, makeAddrs, makePeer, makePeers, makeSeededPeers, strings } from '../helpers.ts'
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

    it('a peer removed whole frees its place under maxAddrs, counts its expired tags, and leaves nothing on disk', async () => {
      const { store, clock, reopen } = await setup({ limits: { maxAddrs: 4 } })
      const [gone, next] = await makePeers(2)
      await store.addAddrs(gone!.id, makeAddrs(4), s)
      await store.setProtocols(gone!.id, ['/x'])
      await store.mutate(gone!.id, (entry) => {
        editTags(entry).set('brief', { value: 1, expiresAt: clock.now + s })
        editTags(entry).set('lasting', { value: 2, expiresAt: Number.POSITIVE_INFINITY })
        return ['tags']
      })
      await assert.rejects(
        async () => store.addAddrs(next!.id, makeAddrs(1), h),
        hasCode('ERR_TOO_MANY_ADDRS')
      )
      clock.advance(2 * s)
      const { slices: _, longestSliceMs: __, durationMs: ___, ...stats } = await store.gc()
      // An unexpired tag does not keep a peer (peer-age.ts); only the expired one counts as removed.
      assert.deepEqual(stats, { peersScanned: 1, addrsRemoved: 4, tagsRemoved: 1, peersRemoved: 1 })
      assert.equal(store.entryFor(gone!.id), undefined)
      // Its four expiring addresses no longer count towards the store's limit.
      await store.addAddrs(next!.id, makeAddrs(4), h)
      const again = await reopen()
      assert.deepEqual(again.peers().map(String), [next!.id.toString()])
      assert.equal(again.entryFor(gone!.id), undefined)
      assert.equal(again.getTags(gone!.id).size, 0)
      assert.deepEqual(again.getProtocols(gone!.id), [])
      await assert.rejects(
        async () => again.addAddrs(gone!.id, makeAddrs(1), h),
        hasCode('ERR_TOO_MANY_ADDRS')
      )
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

    it('a run removing hundreds of peers leaves the same store, reopened too, in one slice or in many', async () => {
      const peers = await makeSeededPeers(700, 21)
      const kept = (i: number) => i % 3 === 0
      const outcome = async (sliceMs: number) => {
        const { store, clock, reopen } = await setup({ gc: { interval: 0, sliceMs } })
        for (const [i, p] of peers.entries()) {
          const addr = multiaddr(`/ip4/10.0.${i >> 8}.${i & 255}/tcp/4001`)
          await store.addAddrs(p.id, [addr], kept(i) ? h : s)
          if (i % 2 === 0) await store.setProtocols(p.id, ['/x'])
        }
        // In LevelDB before the run: only the deletes the run marks take them out.
        await store.flush()
        clock.advance(2 * s)
        const { slices, longestSliceMs: _, durationMs: __, ...stats } = await store.gc()
        const contents = (st: typeof store) =>
          st
            .peers()
            .map((id) => [id.toString(), strings(st.addrs(id)), st.getProtocols(id)] as const)
            .sort((a, b) => (a[0] < b[0] ? -1 : 1))
        const live = contents(store)
        return { slices, stats, live, reopened: contents(await reopen()) }
      }
      // Many slices, then one: a slice ends past GC's bound of changed peers (1024), more than this store holds.
      const sliced = await outcome(0)
      const whole = await outcome(60_000)
      assert.ok(sliced.slices > 1, `expected several slices, got ${sliced.slices}`)
      assert.equal(whole.slices, 1)
      const removed = peers.filter((_, i) => !kept(i)).length
      assert.deepEqual(whole.stats, {
        peersScanned: 700,
        addrsRemoved: removed,
        tagsRemoved: 0,
        peersRemoved: removed
      })
      assert.equal(whole.live.length, 700 - removed)
      assert.deepEqual(whole.reopened, whole.live)
      assert.deepEqual(sliced.stats, whole.stats)
      assert.deepEqual(sliced.live, whole.live)
      assert.deepEqual(sliced.reopened, whole.reopened)
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
