// The js-libp2p PeerStore contract, after @libp2p/peer-store's own index/save/patch/merge specs (restated),
// plus what upstream lacks: limit/offset, TTL'd addresses, events only on change.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Peer, PeerUpdate } from '@libp2p/interface'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import {
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

    describe('index', () => {
      it('has an empty map of peers', async () => {
        const { peerStore } = await setup()
        assert.deepEqual(await peerStore.all(), [])
      })

      it('has, get (NotFoundError), getInfo', async () => {
        const { peerStore, other } = await setup()
        assert.equal(await peerStore.has(other.id), false)
        await assert.rejects(peerStore.get(other.id), (err: Error) => err.name === 'NotFoundError')
        await peerStore.save(other.id, { multiaddrs: [addr1, addr2] })
        assert.equal(await peerStore.has(other.id), true)
        const info = await peerStore.getInfo(other.id)
        assert.equal(info.id.toString(), other.id.toString())
        assert.deepEqual(info.multiaddrs.map(String).sort(), [addr1, addr2].map(String).sort())
      })

      it('deletes a peer; the local peer is never deleted', async () => {
        const { peerStore, other, self } = await setup()
        await peerStore.save(other.id, { multiaddrs: [addr1] })
        await peerStore.delete(other.id)
        assert.equal(await peerStore.has(other.id), false)
        await peerStore.save(self.id, { multiaddrs: [addr1] })
        await peerStore.delete(self.id)
        assert.equal(await peerStore.has(self.id), true)
      })

      it('all() leaves out the local peer and honours filters, orders, offset and limit', async () => {
        const { peerStore, self } = await setup()
        await peerStore.save(self.id, { multiaddrs: [addr1] })
        const peers = await makePeers(6)
        for (const [i, p] of peers.entries()) {
          await peerStore.save(p.id, { multiaddrs: [addr1], tags: { rank: { value: i * 10 } } })
        }
        const all = await peerStore.all()
        assert.equal(all.length, 6)
        assert.ok(all.every((p) => !p.id.equals(self.id)))
        const rank = (p: Peer): number => p.tags.get('rank')?.value ?? -1
        const ordered = await peerStore.all({
          filters: [(p) => rank(p) >= 20],
          orders: [(a, b) => Math.sign(rank(b) - rank(a)) as -1 | 0 | 1],
          offset: 1,
          limit: 2
        })
        assert.deepEqual(ordered.map(rank), [40, 30])
        const seen: Peer[] = []
        await peerStore.forEach(
          (p) => {
            seen.push(p)
          },
          { limit: 3 }
        )
        assert.equal(seen.length, 3)
      })
    })

    describe('save', () => {
      it('replaces every field and emits peer:update with the previous peer', async () => {
        const { peerStore, events, other } = await setup()
        const first = await peerStore.save(other.id, {
          multiaddrs: [addr1, addr2],
          protocols: ['/b', '/a'],
          metadata: { foo: Uint8Array.from([0, 1, 2]) },
          tags: { tag: { value: 5 } }
        })
        assert.deepEqual(first.protocols, ['/a', '/b'])
        assert.deepEqual(first.metadata.get('foo'), Uint8Array.from([0, 1, 2]))
        assert.equal(first.tags.get('tag')?.value, 5)
        const second = await peerStore.save(other.id, { multiaddrs: [addr3] })
        assert.deepEqual(
          second.addresses.map((a) => a.multiaddr.toString()),
          [addr3.toString()]
        )
        assert.deepEqual(second.protocols, [])
        assert.equal(second.metadata.size, 0)
        assert.equal(second.tags.size, 0)
        assert.equal(events.events.length, 2)
        assert.equal(events.events[0]?.type, 'peer:update')
        assert.equal(events.events[0]?.detail.previous, undefined)
        assert.deepEqual(events.events[1]?.detail.previous?.protocols, ['/a', '/b'])
      })

      it('emits nothing when nothing changed', async () => {
        const { peerStore, events, other } = await setup()
        await peerStore.save(other.id, { multiaddrs: [addr1], protocols: ['/a'] })
        await peerStore.save(other.id, { multiaddrs: [addr1], protocols: ['/a'] })
        await peerStore.merge(other.id, { protocols: ['/a'] })
        assert.equal(events.events.length, 1)
      })

      it('emits self:peer:update for the local peer, whose addresses never expire', async () => {
        const { peerStore, store, events, self, clock } = await setup()
        await peerStore.save(self.id, { multiaddrs: [addr1] })
        assert.equal(events.events[0]?.type, 'self:peer:update')
        assert.equal(store.addrInfos(self.id)[0]?.ttl, PermanentAddrTTL)
        clock.advance(365 * 24 * 3600_000)
        assert.equal((await peerStore.get(self.id)).addresses.length, 1)
      })

      it('rejects a public key that does not match the id, and bad tags or metadata', async () => {
        const { peerStore, other } = await setup()
        const wrong = await makePeer()
        const bad = (err: Error): boolean => err.name === 'InvalidParametersError'
        await assert.rejects(peerStore.save(other.id, { publicKey: wrong.key.publicKey }), bad)
        await assert.rejects(peerStore.save(other.id, { tags: { t: { value: 101 } } }), bad)
        await assert.rejects(peerStore.save(other.id, { tags: { t: { value: 1.5 } } }), bad)
        await assert.rejects(peerStore.save(other.id, { metadata: { m: 'x' as unknown as Uint8Array } }), bad)
        await assert.rejects(
          peerStore.save(other.id, { multiaddrs: ['/ip4/1.2.3.4' as unknown as typeof addr1] }),
          bad
        )
        await assert.rejects(
          peerStore.save(other.id, { multiaddrs: [addr1], peerRecordEnvelope: new Uint8Array([1, 2, 3]) }),
          bad
        )
        assert.equal(await peerStore.has(other.id), false)
      })

      it('stores an RSA public key and returns it on the id', async () => {
        const { peerStore } = await setup()
        const key = await generateKeyPair('RSA', 1024)
        const id = peerIdFromString(peerIdFromPrivateKey(key).toString())
        const peer = await peerStore.save(id, { publicKey: key.publicKey, multiaddrs: [addr1] })
        assert.ok(peer.id.publicKey?.equals(key.publicKey))
      })

      it('tags expire after their ttl', async () => {
        const { peerStore, other, clock } = await setup()
        await peerStore.save(other.id, { multiaddrs: [addr1], tags: { short: { value: 1, ttl: 1000 } } })
        assert.equal((await peerStore.get(other.id)).tags.get('short')?.value, 1)
        clock.advance(1000)
        assert.equal((await peerStore.get(other.id)).tags.has('short'), false)
      })
    })

    describe('patch', () => {
      it('replaces only the fields given', async () => {
        const { peerStore, other } = await setup()
        await peerStore.save(other.id, {
          multiaddrs: [addr1],
          protocols: ['/a'],
          metadata: { a: Uint8Array.from([1]) }
        })
        const peer = await peerStore.patch(other.id, {
          protocols: ['/b'],
          metadata: { b: Uint8Array.from([2]) }
        })
        assert.deepEqual(peer.protocols, ['/b'])
        assert.deepEqual([...peer.metadata.keys()], ['b'])
        assert.deepEqual(
          peer.addresses.map((a) => a.multiaddr.toString()),
          [addr1.toString()]
        )
        const moved = await peerStore.patch(other.id, { multiaddrs: [addr2] })
        assert.deepEqual(
          moved.addresses.map((a) => a.multiaddr.toString()),
          [addr2.toString()]
        )
        assert.deepEqual(moved.protocols, ['/b'])
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

    describe('merge', () => {
      it('unions addresses and protocols; undefined deletes metadata and tags', async () => {
        const { peerStore, other } = await setup()
        await peerStore.save(other.id, {
          multiaddrs: [addr1],
          protocols: ['/a'],
          metadata: { a: Uint8Array.from([1]), gone: Uint8Array.from([0]) },
          tags: { keep: { value: 1 }, drop: { value: 2 } }
        })
        const peer = await peerStore.merge(other.id, {
          multiaddrs: [addr2],
          protocols: ['/b'],
          metadata: { b: Uint8Array.from([2]), gone: undefined },
          tags: { drop: undefined, more: { value: 3 } }
        })
        assert.deepEqual(
          peer.addresses.map((a) => a.multiaddr.toString()).sort(),
          [addr1, addr2].map(String).sort()
        )
        assert.deepEqual(peer.protocols, ['/a', '/b'])
        assert.deepEqual([...peer.metadata.keys()], ['a', 'b'])
        assert.deepEqual([...peer.tags.keys()], ['keep', 'more'])
      })

      it('an address seen again is certified if any source certified it', async () => {
        const { peerStore, other } = await setup()
        await peerStore.merge(other.id, { multiaddrs: [addr1] })
        const peer = await peerStore.merge(other.id, { addresses: [{ multiaddr: addr1, isCertified: true }] })
        assert.deepEqual(
          peer.addresses.map((a) => a.isCertified),
          [true]
        )
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
      it('stores certified addresses and the envelope; stale or foreign records return false', async () => {
        const { peerStore, other, events } = await setup()
        const env = await signedRecord(other.key, other.id, [addr1, addr2], 5n)
        assert.equal(await peerStore.consumePeerRecord(env), true)
        const peer = await peerStore.get(other.id)
        assert.ok(peer.addresses.every((a) => a.isCertified))
        assert.deepEqual(peer.peerRecordEnvelope, env)
        assert.equal(events.events.length, 1)
        assert.equal(await peerStore.consumePeerRecord(env), false)
        assert.equal(
          await peerStore.consumePeerRecord(await signedRecord(other.key, other.id, [addr1], 4n)),
          false
        )
        const third = await makePeer()
        assert.equal(await peerStore.consumePeerRecord(env, { expectedPeer: third.id }), false)
        assert.equal(events.events.length, 1)
      })
    })
  })
}
