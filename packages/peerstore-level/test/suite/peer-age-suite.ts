// The per-peer write time (`updated`, the `seen` sublevel) and the peer ageing rule of src/peer-age.ts, on the
// core store: what is stamped, what survives a restart, how a store written before the time existed opens,
// and what GC removes.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { type LevelPeerStore, Libp2pPeerStore, PermanentAddrTTL } from '../../src/node.ts'
import { stampStep } from '../../src/peer-age.ts'
import { editTags } from '../../src/types.ts'
import {
  type Backend,
  MockClock,
  makeAddrs,
  makePeer,
  makePeers,
  type OpenInit,
  type Storage
} from './helpers.ts'

const HOUR = 3_600_000

export function peerAgeSuite(backend: Backend & { clearSeen(storage: Storage): Promise<void> }): void {
  describe(`per-peer write time and ageing on ${backend.name}`, () => {
    const cleanups: Array<() => Promise<void>> = []
    after(async () => {
      for (const fn of cleanups.reverse()) await fn()
    })

    async function setup(init: OpenInit = {}) {
      const storage = await backend.create()
      const clock = new MockClock()
      let store: LevelPeerStore = await storage.open({ clock: clock.read, ...init })
      cleanups.push(async () => {
        await store.close()
        await storage.cleanup()
      })
      const reopen = async (next: OpenInit = init): Promise<LevelPeerStore> => {
        await store.close()
        store = await storage.open({ clock: clock.read, ...next })
        return store
      }
      return { storage, clock, store: () => store, reopen }
    }

    it('a change stamps the peer (once per step); a cached inline key does not; the time survives a restart', async () => {
      const { clock, store, reopen } = await setup()
      const [a, b] = await makePeers(2)
      const step = stampStep(store().maxPeerAge)
      await store().setProtocols(a!.id, ['/x'])
      const first = clock.now
      assert.equal(store().entryFor(a!.id)?.updated, first)
      // Within the same step the time stays (nothing extra is written); in the next it moves.
      clock.advance(step / 2)
      await store().addProtocols(a!.id, ['/y'])
      assert.equal(store().entryFor(a!.id)?.updated, first)
      clock.advance(step)
      await store().addAddrs(a!.id, makeAddrs(1), HOUR)
      const moved = clock.now
      assert.equal(store().entryFor(a!.id)?.updated, moved)
      // A write that changes nothing is not a write.
      clock.advance(step)
      await store().setProtocols(a!.id, ['/x', '/y'])
      assert.equal(store().entryFor(a!.id)?.updated, moved)
      // pubKey caches the key inlined in an identity id: a read, which must not prolong the peer.
      await store().addAddrs(b!.id, makeAddrs(1), HOUR)
      const bStamped = store().entryFor(b!.id)?.updated
      clock.advance(step)
      assert.ok(store().pubKey(b!.id)?.equals(b!.key.publicKey))
      await store().flush()
      assert.equal(store().entryFor(b!.id)?.updated, bStamped)
      // What is in memory is what is on disk: an export before and after a reopen agree.
      const peersOf = async (st: LevelPeerStore) =>
        (await st.export()).peers.sort((x, y) => (x.id < y.id ? -1 : 1))
      const exported = await peersOf(store())
      const again = await reopen()
      assert.equal(again.entryFor(a!.id)?.updated, moved)
      assert.equal(again.entryFor(b!.id)?.updated, bStamped)
      assert.deepEqual(await peersOf(again), exported)
      await again.deletePeer(a!.id)
      const third = await reopen()
      assert.equal(third.entryFor(a!.id), undefined, 'deletePeer removed the write time too')
    })

    it('a store written before per-peer times opens and reads the same, and gets its open time once', async () => {
      const { storage, clock, store, reopen } = await setup()
      const [withAddr, protosOnly] = await makePeers(2)
      const addr = multiaddr('/ip4/192.0.2.7/tcp/4001')
      await store().addAddrs(withAddr!.id, [addr], HOUR)
      await store().setProtocols(protosOnly!.id, ['/p/1'])
      await store().putMetadata(protosOnly!.id, 'k', { v: 1 })
      await store().close()
      await backend.clearSeen(storage)
      clock.advance(60_000)
      const opened = clock.now
      const old = await reopen()
      assert.deepEqual(old.addrs(withAddr!.id).map(String), [addr.toString()], 'addresses read as before')
      assert.deepEqual(old.getProtocols(protosOnly!.id), ['/p/1'])
      assert.deepEqual(old.getMetadata(protosOnly!.id, 'k'), { v: 1 })
      assert.equal(old.entryFor(protosOnly!.id)?.updated, opened)
      // Through the libp2p view too: a peer with protocols and no address is there, for maxPeerAge from now.
      const view = new Libp2pPeerStore(old)
      assert.deepEqual((await view.get(protosOnly!.id)).protocols, ['/p/1'])
      assert.equal((await view.all()).length, 2)
      clock.advance(60_000)
      const later = await reopen()
      assert.equal(
        later.entryFor(protosOnly!.id)?.updated,
        opened,
        'the open time was saved, not taken again'
      )
    })

    it('GC removes aged-out peers, on disk too; pins, the local peer and live addresses keep a peer', async () => {
      const self = await makePeer()
      const age = 6 * HOUR
      const { clock, store, reopen } = await setup({ peerId: self.id, gc: { interval: 0, maxPeerAge: age } })
      const [aging, tagged, pinned, connected, rewritten] = await makePeers(5)
      await store().addAddrs(aging!.id, makeAddrs(1), HOUR)
      await store().setProtocols(aging!.id, ['/a'])
      // A tag without a TTL, as the libp2p view writes it: it does not keep a peer on its own.
      await store().mutate(tagged!.id, (entry) => {
        editTags(entry).set('keep-alive', { value: 50, expiresAt: Number.POSITIVE_INFINITY })
        return ['tags']
      })
      await store().pin(pinned!.id, 'kad')
      await store().addAddrs(connected!.id, makeAddrs(1), PermanentAddrTTL)
      await store().setProtocols(self.id, ['/self'])
      await store().setProtocols(rewritten!.id, ['/r'])
      clock.advance(age)
      await store().addProtocols(rewritten!.id, ['/r2'])
      // At maxPeerAge exactly a peer is still kept (upstream's boundary).
      assert.equal((await store().gc()).peersRemoved, 0)
      clock.advance(1)
      assert.equal((await store().gc()).peersRemoved, 2)
      const left = (s: LevelPeerStore) => s.peers().map(String).sort()
      const kept = [pinned!.id, connected!.id, rewritten!.id, self.id].map(String).sort()
      assert.deepEqual(left(store()), kept)
      assert.deepEqual(left(await reopen()), kept, 'the aged-out peers are gone from disk')
      clock.advance(age)
      await store().gc()
      assert.deepEqual(left(store()), [pinned!.id, connected!.id, self.id].map(String).sort())
    })

    it('with ageing on, a peer cleared of everything stays until it ages out; with it off it goes at once', async () => {
      const { clock, store } = await setup({ gc: { interval: 0, maxPeerAge: HOUR } })
      const [p] = await makePeers(1)
      await store().setProtocols(p!.id, ['/a'])
      await store().setProtocols(p!.id, [])
      assert.deepEqual(store().peers().map(String), [p!.id.toString()])
      clock.advance(HOUR + 1)
      assert.equal((await store().gc()).peersRemoved, 1)
      assert.deepEqual(store().peers(), [])

      const { store: plain } = await setup()
      await plain().setProtocols(p!.id, ['/a'])
      await plain().setProtocols(p!.id, [])
      assert.deepEqual(plain().peers(), [])
    })

    it('maxPeerAge: retainPeersFor raises it and never lowers it; bad values are typed errors', async () => {
      const { store } = await setup({ gc: { interval: 0, maxPeerAge: HOUR } })
      store().retainPeersFor(2 * HOUR)
      store().retainPeersFor(HOUR / 2)
      assert.equal(store().maxPeerAge, 2 * HOUR)
      const invalid = (err: { code?: string; message: string }) =>
        err.code === 'ERR_INVALID_ARGUMENT' && /maxPeerAge/.test(err.message)
      assert.throws(() => store().retainPeersFor(-1), invalid)
      assert.throws(() => store().retainPeersFor(Number.NaN), invalid)
      await assert.rejects(setup({ gc: { interval: 0, maxPeerAge: -5 } }), invalid)
    })
  })
}
