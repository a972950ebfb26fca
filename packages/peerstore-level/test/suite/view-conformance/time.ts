// Time: address expiry, tag TTLs, peer ageing (maxPeerAge), the local peer that never ages.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { makePeer, signedRecord } from '../helpers.ts'
import { ADDRESS_AGE, addrs, type Ctx, difference, HOUR, notFound, PEER_AGE, sides } from './context.ts'

const addr1 = multiaddr('/ip4/127.0.0.1/tcp/4001')
const addr2 = multiaddr('/ip4/20.0.0.1/tcp/8002')
const MINUTE = 60_000

export function time({ setup }: Ctx): void {
  describe('address expiry', () => {
    it('an address expires maxAddressAge after it was written; the peer stays, with zero addresses', async () => {
      const h = await setup()
      const other = await makePeer()
      await h.store.save(other.id, { multiaddrs: [addr1] })
      h.advance(ADDRESS_AGE - 1)
      assert.deepEqual(addrs(await h.store.get(other.id)), [addr1.toString()])
      h.advance(1)
      assert.deepEqual(addrs(await h.store.get(other.id)), [])
      assert.equal(await h.store.has(other.id), true)
      assert.deepEqual((await h.store.getInfo(other.id)).multiaddrs, [])
    })

    it('save writes an address afresh: it expires maxAddressAge after the last save', async () => {
      const h = await setup()
      const other = await makePeer()
      await h.store.save(other.id, { multiaddrs: [addr1] })
      h.advance(30 * MINUTE)
      await h.store.save(other.id, { multiaddrs: [addr1] })
      h.advance(45 * MINUTE)
      assert.deepEqual(addrs(await h.store.get(other.id)), [addr1.toString()])
      h.advance(15 * MINUTE)
      assert.deepEqual(addrs(await h.store.get(other.id)), [])
    })

    it(
      difference('address-age-refresh', 'merging an address again, before and after it expired'),
      async () => {
        const h = await setup()
        const other = await makePeer()
        await h.store.merge(other.id, { multiaddrs: [addr1] })
        h.advance(30 * MINUTE)
        await h.store.merge(other.id, { multiaddrs: [addr1, addr2] })
        h.advance(45 * MINUTE)
        const seenAgain = addrs(await h.store.get(other.id))
        h.advance(HOUR)
        await h.store.merge(other.id, { multiaddrs: [addr1] })
        const afterExpiry = addrs(await h.store.get(other.id))
        await sides(h, {
          // An address ages from when it was first seen; merging it again, even once expired, does not renew it.
          upstream: () => {
            assert.deepEqual(seenAgain, [addr2.toString()])
            assert.deepEqual(afterExpiry, [])
          },
          ours: () => {
            assert.deepEqual(seenAgain, [addr1.toString(), addr2.toString()])
            assert.deepEqual(afterExpiry, [addr1.toString()])
          }
        })
      }
    )
  })

  describe('tags', () => {
    it('a tag with a ttl is gone once it expired; one without stays', async () => {
      const h = await setup()
      const other = await makePeer()
      const saved = await h.store.save(other.id, {
        tags: { short: { value: 1, ttl: 1000 }, long: { value: 2 } }
      })
      assert.deepEqual([...saved.tags.keys()], ['long', 'short'])
      h.advance(999)
      assert.equal((await h.store.get(other.id)).tags.get('short')?.value, 1)
      h.advance(2)
      const peer = await h.store.get(other.id)
      assert.deepEqual([...peer.tags.keys()], ['long'])
    })

    it(difference('tag-expiry-instant', 'a tag at its exact expiry instant (and a ttl of 0)'), async () => {
      const h = await setup()
      const other = await makePeer()
      const saved = await h.store.save(other.id, {
        tags: { zero: { value: 1, ttl: 0 }, second: { value: 2, ttl: 1000 } }
      })
      h.advance(1000)
      const atExpiry = await h.store.get(other.id)
      await sides(h, {
        upstream: () => {
          assert.deepEqual([...saved.tags.keys()], ['second', 'zero'])
          assert.deepEqual([...atExpiry.tags.keys()], ['second'])
        },
        // A tag expires at its expiry instant here, as an address does.
        ours: () => {
          assert.deepEqual([...saved.tags.keys()], ['second'])
          assert.deepEqual([...atExpiry.tags.keys()], [])
        }
      })
    })
  })

  describe('peer ageing (maxPeerAge)', () => {
    it('a saved peer with no address exists for maxPeerAge after its last write, then is gone', async () => {
      const h = await setup()
      const other = await makePeer()
      await h.store.save(other.id, { protocols: ['/a'] })
      h.advance(PEER_AGE)
      assert.equal(await h.store.has(other.id), true)
      assert.deepEqual((await h.store.get(other.id)).protocols, ['/a'])
      h.advance(1)
      assert.equal(await h.store.has(other.id), false)
      await assert.rejects(h.store.get(other.id), notFound)
      assert.deepEqual(await h.store.all(), [])
    })

    it('a peer whose addresses expired stays until maxPeerAge, then is gone', async () => {
      const h = await setup()
      const other = await makePeer()
      await h.store.save(other.id, { multiaddrs: [addr1], tags: { keep: { value: 50 } } })
      h.advance(2 * HOUR)
      assert.deepEqual(addrs(await h.store.get(other.id)), [])
      h.advance(PEER_AGE - 2 * HOUR + 1)
      assert.equal(await h.store.has(other.id), false, 'a tag does not keep a peer')
    })

    it('any write, even one that changes nothing, keeps the peer', async () => {
      const h = await setup({ addressAge: 50, maxPeerAge: 200 })
      const other = await makePeer()
      await h.store.save(other.id, { multiaddrs: [addr1], protocols: ['/a'] })
      for (let i = 0; i < 10; i++) {
        h.advance(150)
        assert.equal(await h.store.has(other.id), true, `round ${i}`)
        await h.store.merge(other.id, { protocols: ['/a'] })
      }
      h.advance(201)
      assert.equal(await h.store.has(other.id), false)
    })

    it(
      difference(
        'age-step',
        'a peer written twice within a minute, checked just past maxPeerAge from the first'
      ),
      async () => {
        const h = await setup()
        const other = await makePeer()
        await h.store.save(other.id, { protocols: ['/a'] })
        h.advance(30_000)
        await h.store.merge(other.id, { protocols: ['/a'] })
        h.advance(PEER_AGE - 15_000)
        const present = await h.store.has(other.id)
        await sides(h, {
          // Every write renews the peer to the millisecond.
          upstream: () => assert.equal(present, true),
          // The write time moves once per step (a hundredth of maxPeerAge, at most a minute): the second write
          // fell in the first one's step.
          ours: () => assert.equal(present, false)
        })
      }
    )

    it('an unexpired address keeps a peer past maxPeerAge', async () => {
      const h = await setup({ addressAge: 10 * HOUR, maxPeerAge: HOUR })
      const other = await makePeer()
      await h.store.save(other.id, { multiaddrs: [addr1] })
      h.advance(2 * HOUR)
      assert.deepEqual(addrs(await h.store.get(other.id)), [addr1.toString()])
      h.advance(8 * HOUR - 1)
      assert.equal(await h.store.has(other.id), true)
      h.advance(1)
      assert.equal(await h.store.has(other.id), false)
    })

    for (const write of ['merge', 'patch'] as const) {
      it(`an aged-out peer is gone before a ${write}: nothing old comes back, previous is undefined`, async () => {
        const h = await setup()
        const other = await makePeer()
        await h.store.save(other.id, {
          multiaddrs: [addr1],
          protocols: ['/old'],
          tags: { tagA: { value: 100 } }
        })
        h.advance(PEER_AGE + 1)
        const peer = await h.store[write](other.id, { multiaddrs: [addr1], tags: { tagB: { value: 100 } } })
        assert.deepEqual([...peer.tags.keys()], ['tagB'])
        assert.deepEqual(peer.protocols, [])
        assert.deepEqual(addrs(peer), [addr1.toString()])
        assert.equal(h.events.events.at(-1)?.detail.previous, undefined)
      })
    }

    it('an aged-out peer’s record no longer counts: an older one is accepted', async () => {
      const h = await setup()
      const other = await makePeer()
      assert.equal(
        await h.store.consumePeerRecord(await signedRecord(other.key, other.id, [addr1], 5n)),
        true
      )
      h.advance(PEER_AGE + 1)
      assert.equal(
        await h.store.consumePeerRecord(await signedRecord(other.key, other.id, [addr2], 3n)),
        true
      )
      assert.deepEqual(addrs(await h.store.get(other.id)), [`${addr2} certified`])
    })

    it('the local peer never ages, nor do its addresses (js-libp2p#3051)', async () => {
      const h = await setup()
      await h.store.save(h.self.id, {
        multiaddrs: [addr1],
        protocols: ['/ipfs/id/1.0.0'],
        tags: { only: { value: 1, ttl: 1000 } }
      })
      h.advance(30 * 24 * HOUR)
      assert.equal(await h.store.has(h.self.id), true)
      const self = await h.store.get(h.self.id)
      assert.deepEqual(addrs(self), [addr1.toString()])
      assert.deepEqual(self.protocols, ['/ipfs/id/1.0.0'])
      assert.equal(self.tags.size, 0)
    })
  })
}
