// peer:update / self:peer:update: once per real change, with the right `previous`; concurrent writes to one
// peer.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { makePeer } from '../helpers.ts'
import { addrs, type Ctx, difference, sides } from './context.ts'

const addr1 = multiaddr('/ip4/127.0.0.1/tcp/4001')
const addr2 = multiaddr('/ip4/20.0.0.1/tcp/8002')

export function events({ setup }: Ctx): void {
  describe('peer:update and self:peer:update', () => {
    it('the first write announces the peer with no previous; the next carries the state before it', async () => {
      const h = await setup()
      const other = await makePeer()
      const first = await h.store.save(other.id, { multiaddrs: [addr1], protocols: ['/b', '/a'] })
      const second = await h.store.patch(other.id, { multiaddrs: [addr2], protocols: ['/c'] })
      const updates = h.events.ofType('peer:update')
      assert.equal(h.events.events.length, 2)
      assert.equal(updates[0]?.previous, undefined)
      assert.deepEqual(addrs(updates[0]!.peer), addrs(first))
      assert.deepEqual(updates[0]?.peer.protocols, ['/a', '/b'])
      assert.deepEqual(addrs(updates[1]!.previous!), [addr1.toString()])
      assert.deepEqual(updates[1]?.previous?.protocols, ['/a', '/b'])
      assert.deepEqual(addrs(updates[1]!.peer), addrs(second))
      assert.deepEqual(updates[1]?.peer.protocols, ['/c'])
    })

    it(
      difference('merge-previous', 'the previous peer announced by a merge that adds addresses'),
      async () => {
        const h = await setup()
        const other = await makePeer()
        await h.store.save(other.id, { multiaddrs: [addr1] })
        const merged = await h.store.merge(other.id, { multiaddrs: [addr2] })
        assert.deepEqual(addrs(merged), [addr1.toString(), addr2.toString()])
        const previous = h.events.ofType('peer:update')[1]?.previous
        await sides(h, {
          // Its merge appends to the previous peer's own address list, so `previous` shows the new addresses.
          upstream: () => assert.deepEqual(addrs(previous!), [addr1.toString(), addr2.toString()]),
          ours: () => assert.deepEqual(addrs(previous!), [addr1.toString()])
        })
      }
    )

    it('a write that changes nothing announces nothing (save, patch and merge)', async () => {
      const h = await setup()
      const other = await makePeer()
      const data = {
        multiaddrs: [addr1],
        protocols: ['/a'],
        metadata: { m: Uint8Array.from([1]) },
        tags: { t: { value: 5 } }
      }
      const saved = await h.store.save(other.id, data)
      const again = await h.store.save(other.id, data)
      await h.store.patch(other.id, { protocols: ['/a'], tags: { t: { value: 5 } } })
      await h.store.merge(other.id, {
        protocols: ['/a'],
        multiaddrs: [addr1],
        metadata: { m: Uint8Array.from([1]) }
      })
      assert.equal(h.events.events.length, 1)
      assert.deepEqual(again, saved)
    })

    it('saving a tag with a ttl again later moves its expiry: that is a change', async () => {
      const h = await setup()
      const other = await makePeer()
      await h.store.save(other.id, { tags: { t: { value: 5, ttl: 60_000 } } })
      h.advance(1000)
      await h.store.merge(other.id, { tags: { t: { value: 5, ttl: 60_000 } } })
      assert.equal(h.events.events.length, 2)
      h.advance(59_500)
      assert.equal((await h.store.get(other.id)).tags.get('t')?.value, 5)
    })

    it('writes to the local peer are self:peer:update, never peer:update', async () => {
      const h = await setup()
      await h.store.save(h.self.id, { multiaddrs: [addr1] })
      await h.store.merge(h.self.id, { protocols: ['/ipfs/id/1.0.0'] })
      await h.store.patch(h.self.id, { multiaddrs: [addr2] })
      assert.deepEqual(
        h.events.events.map((e) => e.type),
        ['self:peer:update', 'self:peer:update', 'self:peer:update']
      )
      assert.deepEqual(h.events.events[2]?.detail.previous?.protocols, ['/ipfs/id/1.0.0'])
    })

    it('delete announces nothing', async () => {
      const h = await setup()
      const other = await makePeer()
      await h.store.save(other.id, { multiaddrs: [addr1] })
      await h.store.delete(other.id)
      assert.equal(h.events.events.length, 1)
    })

    it('concurrent writes to one peer all land, each announced once, each previous the one before', async () => {
      const h = await setup()
      const other = await makePeer()
      const protocols = ['/p/0', '/p/1', '/p/2', '/p/3', '/p/4']
      await Promise.all(protocols.map((p) => h.store.merge(other.id, { protocols: [p] })))
      assert.deepEqual((await h.store.get(other.id)).protocols, protocols)
      const updates = h.events.ofType('peer:update')
      assert.equal(updates.length, protocols.length)
      assert.equal(updates[0]?.previous, undefined)
      for (let i = 1; i < updates.length; i++) {
        assert.deepEqual(updates[i]?.previous?.protocols, updates[i - 1]?.peer.protocols, `event ${i}`)
        assert.equal(updates[i]?.peer.protocols.length, i + 1)
      }
    })
  })
}
