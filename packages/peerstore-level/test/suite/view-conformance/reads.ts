// has, get, getInfo, all/forEach (filters, orders, limit, offset), delete, the local peer, bad arguments.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Peer, PeerId } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { makePeer, makePeers } from '../helpers.ts'
import { addrs, type Ctx, difference, invalidParameters, notFound, sides } from './context.ts'

const addr1 = multiaddr('/ip4/127.0.0.1/tcp/4001')
const addr2 = multiaddr('/ip4/20.0.0.1/tcp/8002')

const rank = (p: Peer): number => p.tags.get('rank')?.value ?? -1
const ids = (peers: Peer[]): string[] => peers.map((p) => p.id.toString()).sort()

export function reads({ setup }: Ctx): void {
  describe('has, get, getInfo', () => {
    it('an empty store has no peers; get and getInfo throw NotFoundError', async () => {
      const h = await setup()
      const other = await makePeer()
      assert.deepEqual(await h.store.all(), [])
      assert.equal(await h.store.has(other.id), false)
      await assert.rejects(h.store.get(other.id), notFound)
      await assert.rejects(h.store.getInfo(other.id), notFound)
    })

    it('a saved peer: has is true, get returns it, getInfo gives its id and multiaddrs', async () => {
      const h = await setup()
      const other = await makePeer()
      await h.store.save(other.id, { multiaddrs: [addr2, addr1] })
      assert.equal(await h.store.has(other.id), true)
      const peer = await h.store.get(other.id)
      assert.ok(peer.id.equals(other.id))
      assert.deepEqual(addrs(peer), [addr1.toString(), addr2.toString()])
      const info = await h.store.getInfo(other.id)
      assert.ok(info.id.equals(other.id))
      assert.deepEqual(info.multiaddrs.map(String), [addr1.toString(), addr2.toString()])
    })

    it('a peer saved with nothing but its id exists (zero addresses)', async () => {
      const h = await setup()
      const other = await makePeer()
      const saved = await h.store.save(other.id, {})
      assert.deepEqual(addrs(saved), [])
      assert.equal(await h.store.has(other.id), true)
      assert.deepEqual((await h.store.get(other.id)).protocols, [])
      assert.deepEqual(ids(await h.store.all()), [other.id.toString()])
    })

    it('what get returns is the caller’s: editing it changes nothing stored', async () => {
      const h = await setup()
      const other = await makePeer()
      await h.store.save(other.id, {
        multiaddrs: [addr1],
        protocols: ['/a'],
        metadata: { m: Uint8Array.from([1]) },
        tags: { t: { value: 5 } }
      })
      const first = await h.store.get(other.id)
      first.addresses.push({ multiaddr: addr2, isCertified: true })
      first.protocols.push('/evil')
      first.metadata.set('x', Uint8Array.from([2]))
      first.tags.set('u', { value: 1 })
      const again = await h.store.get(other.id)
      assert.deepEqual(addrs(again), [addr1.toString()])
      assert.deepEqual(again.protocols, ['/a'])
      assert.deepEqual([...again.metadata.keys()], ['m'])
      assert.deepEqual([...again.tags.keys()], ['t'])
    })

    it('a PeerId that is not one is InvalidParametersError (has, get, save)', async () => {
      const h = await setup()
      const bogus = 'not a peer id' as unknown as PeerId
      await assert.rejects(h.store.has(bogus), invalidParameters)
      await assert.rejects(h.store.get(bogus), invalidParameters)
      await assert.rejects(h.store.save(bogus, {}), invalidParameters)
    })

    it('save without peer data is InvalidParametersError', async () => {
      const h = await setup()
      const other = await makePeer()
      await assert.rejects(
        h.store.save(other.id, undefined as unknown as Parameters<typeof h.store.save>[1]),
        invalidParameters
      )
      assert.equal(await h.store.has(other.id), false)
    })
  })

  describe('all and forEach', () => {
    it('all() lists every saved peer but the local one', async () => {
      const h = await setup()
      const others = await makePeers(3)
      await h.store.save(h.self.id, { multiaddrs: [addr1] })
      for (const p of others) await h.store.save(p.id, { multiaddrs: [addr1] })
      assert.deepEqual(ids(await h.store.all()), ids(others.map((p) => ({ id: p.id }) as Peer)))
    })

    it('filters all apply; orders apply one after another (the last sorts first, earlier ones break ties)', async () => {
      const h = await setup()
      const peers = await makePeers(6)
      for (const [i, p] of peers.entries()) {
        await h.store.save(p.id, { tags: { rank: { value: i * 10 }, odd: { value: i % 2 } } })
      }
      const odd = (p: Peer): number => p.tags.get('odd')?.value ?? -1
      const byRankDown = (a: Peer, b: Peer) => Math.sign(rank(b) - rank(a)) as -1 | 0 | 1
      const byOdd = (a: Peer, b: Peer) => Math.sign(odd(a) - odd(b)) as -1 | 0 | 1
      const filters = [(p: Peer) => rank(p) >= 10, (p: Peer) => rank(p) <= 40]
      assert.deepEqual((await h.store.all({ filters, orders: [byRankDown] })).map(rank), [40, 30, 20, 10])
      assert.deepEqual(
        (await h.store.all({ filters, orders: [byRankDown, byOdd] })).map(rank),
        [40, 20, 30, 10]
      )
      assert.deepEqual(
        (await h.store.all({ filters, orders: [byOdd, byRankDown] })).map(rank),
        [40, 30, 20, 10]
      )
      assert.deepEqual(await h.store.all({ filters: [() => false] }), [])
    })

    it('forEach visits what all() lists', async () => {
      const h = await setup()
      const peers = await makePeers(4)
      for (const [i, p] of peers.entries()) await h.store.save(p.id, { tags: { rank: { value: i } } })
      const seen: Peer[] = []
      await h.store.forEach(
        (p) => {
          seen.push(p)
        },
        { filters: [(p) => rank(p) > 0] }
      )
      assert.deepEqual(ids(seen), ids(await h.store.all({ filters: [(p) => rank(p) > 0] })))
      assert.equal(seen.length, 3)
    })

    it(difference('limit-offset', 'all() and forEach cut the ordered list by offset and limit'), async () => {
      const h = await setup()
      const peers = await makePeers(6)
      for (const [i, p] of peers.entries()) await h.store.save(p.id, { tags: { rank: { value: i * 10 } } })
      const query = {
        orders: [(a: Peer, b: Peer) => Math.sign(rank(b) - rank(a)) as -1 | 0 | 1],
        offset: 1,
        limit: 2
      }
      const listed = await h.store.all(query)
      const visited: Peer[] = []
      await h.store.forEach((p) => {
        visited.push(p)
      }, query)
      await sides(h, {
        upstream: () => {
          // Ignored: every peer comes back, in order.
          assert.deepEqual(listed.map(rank), [50, 40, 30, 20, 10, 0])
          assert.equal(visited.length, 6)
        },
        ours: () => {
          assert.deepEqual(listed.map(rank), [40, 30])
          assert.deepEqual(visited.map(rank), [40, 30])
        }
      })
    })
  })

  describe('delete', () => {
    it('removes the peer: has false, get NotFoundError, gone from all()', async () => {
      const h = await setup()
      const [a, b] = await makePeers(2)
      await h.store.save(a!.id, { multiaddrs: [addr1], protocols: ['/a'] })
      await h.store.save(b!.id, { multiaddrs: [addr2] })
      await h.store.delete(a!.id)
      assert.equal(await h.store.has(a!.id), false)
      await assert.rejects(h.store.get(a!.id), notFound)
      assert.deepEqual(ids(await h.store.all()), [b!.id.toString()])
      // Deleting an unknown peer is not an error.
      await h.store.delete((await makePeer()).id)
    })

    it('a peer saved again after a delete starts afresh', async () => {
      const h = await setup()
      const other = await makePeer()
      await h.store.save(other.id, { protocols: ['/a'], tags: { t: { value: 1 } } })
      await h.store.delete(other.id)
      const peer = await h.store.merge(other.id, { protocols: ['/b'] })
      assert.deepEqual(peer.protocols, ['/b'])
      assert.equal(peer.tags.size, 0)
      assert.equal(h.events.events.at(-1)?.detail.previous, undefined)
    })

    it('the local peer is never deleted', async () => {
      const h = await setup()
      await h.store.save(h.self.id, { multiaddrs: [addr1] })
      await h.store.delete(h.self.id)
      assert.equal(await h.store.has(h.self.id), true)
      assert.deepEqual(addrs(await h.store.get(h.self.id)), [addr1.toString()])
    })
  })

  describe('the local peer', () => {
    it(
      difference('self-always-answers', 'the local peer exists before anything is saved for it'),
      async () => {
        const h = await setup()
        await sides(h, {
          upstream: async () => {
            assert.equal(await h.store.has(h.self.id), false)
            await assert.rejects(h.store.get(h.self.id), notFound)
          },
          ours: async () => {
            assert.equal(await h.store.has(h.self.id), true)
            const peer = await h.store.get(h.self.id)
            assert.ok(peer.id.equals(h.self.id))
            assert.deepEqual(addrs(peer), [])
            assert.deepEqual(peer.protocols, [])
          }
        })
        assert.deepEqual(await h.store.all(), [])
      }
    )
  })
}
