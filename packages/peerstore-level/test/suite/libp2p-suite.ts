// What the js-libp2p PeerStore view does with the core store under it: TTLs, the shared data, the read cache,
// GC and peer ageing on disk. The contract itself (the cases that also run on @libp2p/peer-store) is in
// view-conformance/.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import type { PeerUpdate } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import {
  ConnectedAddrTTL,
  DEFAULT_MAX_PEER_AGE,
  type LevelPeerStore,
  Libp2pPeerStore,
  type PeerUpdateEvents,
  PermanentAddrTTL
} from '../../src/node.ts'
import { type Backend, MockClock, makePeer, makePeers, signedRecord, type TestPeer } from './helpers.ts'

class EventLog implements PeerUpdateEvents {
  readonly events: Array<{ type: string; detail: PeerUpdate }> = []
  safeDispatchEvent(type: 'peer:update' | 'self:peer:update', init: { detail: PeerUpdate }): boolean {
    this.events.push({ type, detail: init.detail })
    return true
  }
}

const addr1 = multiaddr('/ip4/127.0.0.1/tcp/4001')
const addr2 = multiaddr('/ip4/20.0.0.1/tcp/8002')
const addr3 = multiaddr('/ip4/127.0.0.1/tcp/4003')

export function libp2pPeerStoreSuite(backend: Backend): void {
  describe(`js-libp2p PeerStore on ${backend.name}`, () => {
    const cleanups: Array<() => Promise<void>> = []
    after(async () => {
      for (const fn of cleanups.reverse()) await fn()
    })

    async function setup(addressTtl?: number): Promise<{
      peerStore: Libp2pPeerStore
      store: LevelPeerStore
      events: EventLog
      clock: MockClock
      self: TestPeer
      other: TestPeer
    }> {
      const storage = await backend.create()
      const clock = new MockClock()
      const self = await makePeer()
      const store = await storage.open({ clock: clock.read, privateKey: self.key })
      cleanups.push(async () => {
        await store.close()
        await storage.cleanup()
      })
      const events = new EventLog()
      const init = addressTtl == null ? { events } : { events, addressTtl }
      return {
        peerStore: new Libp2pPeerStore(store, init),
        store,
        events,
        clock,
        self,
        other: await makePeer()
      }
    }

    describe('the local peer', () => {
      it('its addresses are stored at PermanentAddrTTL and never expire', async () => {
        const { peerStore, store, events, self, clock } = await setup()
        await peerStore.save(self.id, { multiaddrs: [addr1] })
        assert.equal(events.events[0]?.type, 'self:peer:update')
        assert.equal(store.addrInfos(self.id)[0]?.ttl, PermanentAddrTTL)
        clock.advance(365 * 24 * 3600_000)
        assert.equal((await peerStore.get(self.id)).addresses.length, 1)
      })
    })

    describe('address order', () => {
      it('lists addresses in text order whatever order they were written in, also after a reopen', async () => {
        const storage = await backend.create()
        const clock = new MockClock()
        let store = await storage.open({ clock: clock.read })
        cleanups.push(async () => {
          await store.close()
          await storage.cleanup()
        })
        const peerStore = (): Libp2pPeerStore => new Libp2pPeerStore(store)
        const [p] = await makePeers(1)
        const ma = (i: number) =>
          multiaddr(`/ip4/10.0.${i}.${(i * 37) % 251}/tcp/${4000 + ((i * 7919) % 997)}`)
        const listed = async (): Promise<string[][]> => {
          const got = await peerStore().get(p!.id)
          const [fromAll] = await peerStore().all()
          return [got, fromAll!].map((peer) => peer.addresses.map((a) => a.multiaddr.toString()))
        }
        // Written in a scrambled order through every path that adds addresses; checked after each write.
        const written: number[] = []
        const steps: Array<[string, number[], () => Promise<unknown>]> = [
          ['merge', [9, 3, 14, 1], () => peerStore().merge(p!.id, { multiaddrs: [9, 3, 14, 1].map(ma) })],
          ['addAddrs', [11, 2], () => store.addAddrs(p!.id, [11, 2].map(ma), PermanentAddrTTL)],
          ['setAddrs', [13, 4], () => store.setAddrs(p!.id, [13, 4].map(ma), 60_000)],
          [
            'patch',
            [12, 0, 9, 5, 3],
            () => peerStore().patch(p!.id, { multiaddrs: [12, 0, 9, 5, 3].map(ma) })
          ],
          ['addAddrs again', [10, 7], () => store.addAddrs(p!.id, [10, 7].map(ma), 60_000)],
          ['merge again', [8, 6], () => peerStore().merge(p!.id, { multiaddrs: [8, 6].map(ma) })]
        ]
        for (const [name, added, write] of steps) {
          await write()
          if (name === 'patch') written.length = 0
          written.push(...added)
          const expected = [...new Set(written)].map((i) => ma(i).toString()).sort()
          assert.deepEqual(await listed(), [expected, expected], `after ${name}`)
        }
        const expected = [...new Set(written)].map((i) => ma(i).toString()).sort()
        await store.close()
        store = await storage.open({ clock: clock.read })
        assert.deepEqual(await listed(), [expected, expected], 'after a reopen')
      })
    })

    describe('TTL and shared data', () => {
      it('addresses written here get the default TTL and expire; the core API sees the same data', async () => {
        const { peerStore, store, other, clock } = await setup(60_000)
        await peerStore.merge(other.id, { multiaddrs: [addr1], protocols: ['/a'] })
        assert.deepEqual(store.getProtocols(other.id), ['/a'])
        assert.equal(store.addrInfos(other.id)[0]?.ttl, 60_000)
        clock.advance(30_000)
        // Seeing the address again extends it (upstream keeps the first-seen time).
        await peerStore.merge(other.id, { multiaddrs: [addr1] })
        clock.advance(59_999)
        assert.equal((await peerStore.get(other.id)).addresses.length, 1)
        clock.advance(1)
        assert.equal((await peerStore.get(other.id)).addresses.length, 0)
      })

      it('a sub-millisecond TTL set through the core API is honoured to the ns here too, read cache included', async () => {
        const { peerStore, store, other, clock } = await setup()
        await store.addAddrs(other.id, [addr1], 0.5)
        await store.addAddrs(other.id, [addr2], 0.000001)
        await store.addAddrs(other.id, [addr3], 3_600_000)
        const core = () => store.addrs(other.id).map(String).sort()
        const view = async () => (await peerStore.get(other.id)).addresses.map((a) => `${a.multiaddr}`).sort()
        // At the instant of the adds all three are live (go: expiry = now + ttl > now), in the core and here.
        assert.deepEqual(core(), [addr1, addr2, addr3].map(String).sort())
        assert.deepEqual(await view(), core())
        // 0.25 ms later the 1 ns address has expired; the view built above must not be served from the cache.
        clock.advance(0.25)
        assert.deepEqual(core(), [addr1, addr3].map(String).sort())
        assert.deepEqual(await view(), core())
        clock.advance(0.25)
        assert.deepEqual(core(), [addr3.toString()])
        assert.deepEqual(await view(), core())
      })

      it('writes here keep exact expiries: a fractional clock or TTL is stored as whole ms and the ns past it', async () => {
        const { peerStore, store, other, clock } = await setup(0.5)
        const start = clock.now
        clock.advance(0.25)
        await peerStore.merge(other.id, { multiaddrs: [addr1] })
        const expiry = () => store.addrInfos(other.id).map((a) => [a.expiresAt, a.expiresAtNs])
        assert.deepEqual(expiry(), [[start, 750_000]])
        // Seen again 0.25 ms later: extended to start + 1 ms, exactly (no ns left over).
        clock.advance(0.25)
        await peerStore.merge(other.id, { multiaddrs: [addr1] })
        assert.deepEqual(expiry(), [[start + 1, undefined]])
        clock.advance(0.25)
        assert.equal((await peerStore.get(other.id)).addresses.length, 1)
        clock.advance(0.25)
        assert.equal((await peerStore.get(other.id)).addresses.length, 0)
        assert.deepEqual(store.addrs(other.id), [])
      })
    })

    describe('read cache', () => {
      it('a caller editing the peer it got does not change what the next get returns', async () => {
        const { peerStore, other } = await setup()
        await peerStore.save(other.id, {
          multiaddrs: [addr1],
          protocols: ['/a'],
          metadata: { m: new Uint8Array([1]) },
          tags: { t: { value: 5 } }
        })
        const first = await peerStore.get(other.id)
        first.addresses.push({ multiaddr: addr2, isCertified: true })
        first.protocols.push('/evil')
        first.metadata.set('x', new Uint8Array([2]))
        const tag = first.tags.get('t')
        assert.ok(tag != null)
        tag.value = 99
        const second = await peerStore.get(other.id)
        assert.deepEqual(
          second.addresses.map((a) => a.multiaddr.toString()),
          [addr1.toString()]
        )
        assert.deepEqual(second.protocols, ['/a'])
        assert.deepEqual([...second.metadata.keys()], ['m'])
        assert.equal(second.tags.get('t')?.value, 5)
      })

      it('writes through the core API, deletes and GC show on the next get', async () => {
        const { peerStore, store, other, clock } = await setup()
        await peerStore.save(other.id, { multiaddrs: [addr1], protocols: ['/a'] })
        assert.equal((await peerStore.get(other.id)).addresses.length, 1)
        await store.addAddrs(other.id, [addr2], 1000)
        await store.addProtocols(other.id, ['/b'])
        await store.putMetadata(other.id, 'bin', new Uint8Array([7]))
        const peer = await peerStore.get(other.id)
        assert.deepEqual(
          peer.addresses.map((a) => a.multiaddr.toString()).sort(),
          [addr1, addr2].map(String).sort()
        )
        assert.deepEqual(peer.protocols, ['/a', '/b'])
        assert.deepEqual(peer.metadata.get('bin'), new Uint8Array([7]))
        clock.advance(1000)
        assert.equal((await peerStore.get(other.id)).addresses.length, 1)
        await store.clearAddrs(other.id)
        await store.setProtocols(other.id, [])
        await store.deleteMetadata(other.id, 'bin')
        // Emptied, yet just written: it exists with nothing, until it ages out (maxPeerAge, 6 h).
        const empty = await peerStore.get(other.id)
        assert.deepEqual([empty.addresses, empty.protocols, empty.metadata.size], [[], [], 0])
        clock.advance(DEFAULT_MAX_PEER_AGE + 1)
        assert.equal(await peerStore.has(other.id), false)
        await peerStore.save(other.id, { multiaddrs: [addr3] })
        assert.deepEqual(
          (await peerStore.get(other.id)).addresses.map((a) => a.multiaddr.toString()),
          [addr3.toString()]
        )
        await peerStore.delete(other.id)
        await assert.rejects(peerStore.get(other.id), (err: Error) => err.name === 'NotFoundError')
      })
    })

    describe('consumePeerRecord', () => {
      it('a newer record drops the certified addresses it no longer lists, but not a connected one', async () => {
        const { peerStore, store, other } = await setup()
        assert.equal(
          await peerStore.consumePeerRecord(await signedRecord(other.key, other.id, [addr1, addr2], 1n)),
          true
        )
        await store.addAddrs(other.id, [addr2], ConnectedAddrTTL)
        assert.equal(
          await peerStore.consumePeerRecord(await signedRecord(other.key, other.id, [addr3], 2n)),
          true
        )
        const peer = await peerStore.get(other.id)
        assert.deepEqual(
          peer.addresses.map((a) => `${a.multiaddr} ${a.isCertified}`),
          [`${addr3} true`, `${addr2} true`]
        )
        assert.equal(store.addrInfos(other.id).find((a) => a.multiaddr.equals(addr2))?.ttl, ConnectedAddrTTL)
      })
    })

    describe('consumePeerRecord as the core (go v0.52.0)', () => {
      it("a newer record drops the previous record's addresses it lacks, whatever wrote them since", async () => {
        const { peerStore, store, other } = await setup()
        assert.equal(
          await peerStore.consumePeerRecord(await signedRecord(other.key, other.id, [addr1, addr2], 1n)),
          true
        )
        // addr1 written again uncertified (patch sets the flag as given); addr3 certified, but in no record.
        await peerStore.patch(other.id, {
          addresses: [
            { multiaddr: addr1, isCertified: false },
            { multiaddr: addr2, isCertified: true },
            { multiaddr: addr3, isCertified: true }
          ]
        })
        assert.equal(
          await peerStore.consumePeerRecord(await signedRecord(other.key, other.id, [addr2], 2n)),
          true
        )
        const peer = await peerStore.get(other.id)
        assert.deepEqual(
          peer.addresses.map((a) => `${a.multiaddr} ${a.isCertified}`),
          [`${addr3} true`, `${addr2} true`]
        )
        assert.deepEqual(store.addrs(other.id).map(String).sort(), [addr2, addr3].map(String).sort())
      })
    })

    describe('peer ageing and GC', () => {
      it('GC deletes from disk the peers the view shows as aged out; pinned peers never age', async () => {
        const storage = await backend.create()
        const clock = new MockClock()
        let store = await storage.open({ clock: clock.read })
        cleanups.push(async () => {
          await store.close()
          await storage.cleanup()
        })
        const view = new Libp2pPeerStore(store, { maxPeerAge: 1000 })
        assert.equal(store.maxPeerAge, 1000, 'the view raised the store’s maxPeerAge')
        const [aging, pinned, fresh] = await makePeers(3)
        await view.save(aging!.id, { protocols: ['/a'], tags: { keep: { value: 100 } } })
        await view.save(pinned!.id, { protocols: ['/p'] })
        await store.pin(pinned!.id, 'kad')
        clock.advance(500)
        await view.save(fresh!.id, { protocols: ['/f'] })
        clock.advance(501)
        assert.equal(await view.has(aging!.id), false)
        assert.equal(await view.has(pinned!.id), true)
        assert.equal(await view.has(fresh!.id), true)
        assert.equal((await store.gc()).peersRemoved, 1)
        await store.close()
        store = await storage.open({ clock: clock.read })
        const reopened = new Libp2pPeerStore(store, { maxPeerAge: 1000 })
        assert.deepEqual(store.getProtocols(aging!.id), [], 'gone from disk')
        assert.deepEqual(
          (await reopened.all()).map((p) => p.id.toString()).sort(),
          [pinned!.id, fresh!.id].map(String).sort()
        )
      })

      it('GC keeps the view’s local peer even when the store was opened without it', async () => {
        const storage = await backend.create()
        const clock = new MockClock()
        const store = await storage.open({ clock: clock.read })
        cleanups.push(async () => {
          await store.close()
          await storage.cleanup()
        })
        const self = await makePeer()
        const view = new Libp2pPeerStore(store, { peerId: self.id, maxPeerAge: 1000 })
        await view.save(self.id, { protocols: ['/ipfs/id/1.0.0'] })
        clock.advance(10_000)
        assert.equal((await store.gc()).peersRemoved, 0)
        assert.deepEqual((await view.get(self.id)).protocols, ['/ipfs/id/1.0.0'])
      })

      it('bad init values are typed errors naming the option', async () => {
        const { store } = await setup()
        const named = (option: string, code: string) => (err: { code?: string; message: string }) =>
          err.code === code && err.message.includes(option)
        assert.throws(
          () => new Libp2pPeerStore(store, { maxPeerAge: -1 }),
          named('maxPeerAge', 'ERR_INVALID_ARGUMENT')
        )
        assert.throws(
          () => new Libp2pPeerStore(store, { addressTtl: 0 }),
          named('addressTtl', 'ERR_INVALID_TTL')
        )
        assert.throws(
          () => new Libp2pPeerStore(store, { addressTtl: Number.NaN }),
          named('addressTtl', 'ERR_INVALID_TTL')
        )
      })
    })
  })
}
