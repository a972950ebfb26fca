// save, patch and merge for every field: addresses (order, duplicates, certified flags, the /p2p/ suffix, the
// address filter), protocols, metadata, tags; bad input.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { PeerData } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { makePeer, signedRecord } from '../helpers.ts'
import { addrs, type Ctx, difference, invalidParameters, sides } from './context.ts'

const addr1 = multiaddr('/ip4/127.0.0.1/tcp/4001')
const addr2 = multiaddr('/ip4/20.0.0.1/tcp/8002')
const addr3 = multiaddr('/ip4/127.0.0.1/tcp/4003')
const bytes = (...b: number[]) => Uint8Array.from(b)

async function fullData(): Promise<PeerData> {
  return {
    multiaddrs: [addr2, addr1],
    protocols: ['/b/1', '/a/1'],
    metadata: { foo: bytes(0, 1, 2), bar: bytes(3) },
    tags: { tag1: { value: 10 }, tag2: {} }
  }
}

export function writes({ setup }: Ctx): void {
  describe('save', () => {
    it('stores every field: addresses and protocols sorted, metadata and tags by key, the envelope', async () => {
      const h = await setup()
      const other = await makePeer()
      const envelope = await signedRecord(other.key, other.id, [addr1], 1n)
      const saved = await h.store.save(other.id, { ...(await fullData()), peerRecordEnvelope: envelope })
      const got = await h.store.get(other.id)
      for (const peer of [saved, got]) {
        assert.deepEqual(addrs(peer), [addr1.toString(), addr2.toString()])
        assert.deepEqual(peer.protocols, ['/a/1', '/b/1'])
        assert.deepEqual(
          [...peer.metadata],
          [
            ['bar', bytes(3)],
            ['foo', bytes(0, 1, 2)]
          ]
        )
        assert.deepEqual(
          [...peer.tags].map(([k, t]) => [k, t.value]),
          [
            ['tag1', 10],
            ['tag2', 0]
          ]
        )
        assert.deepEqual(peer.peerRecordEnvelope, envelope)
      }
    })

    it('replaces every field: what is not given is cleared', async () => {
      const h = await setup()
      const other = await makePeer()
      const envelope = await signedRecord(other.key, other.id, [addr1], 1n)
      await h.store.save(other.id, { ...(await fullData()), peerRecordEnvelope: envelope })
      const peer = await h.store.save(other.id, { multiaddrs: [addr3] })
      assert.deepEqual(addrs(peer), [addr3.toString()])
      assert.deepEqual(peer.protocols, [])
      assert.equal(peer.metadata.size, 0)
      assert.equal(peer.tags.size, 0)
      assert.equal(peer.peerRecordEnvelope, undefined)
      assert.deepEqual(addrs(await h.store.get(other.id)), [addr3.toString()])
      assert.deepEqual(
        h.events.events.map((e) => e.type),
        ['peer:update', 'peer:update']
      )
      assert.equal(h.events.events[0]?.detail.previous, undefined)
      assert.deepEqual(h.events.events[1]?.detail.previous?.protocols, ['/a/1', '/b/1'])
    })

    it('duplicate addresses and protocols are stored once', async () => {
      const h = await setup()
      const other = await makePeer()
      const peer = await h.store.save(other.id, {
        multiaddrs: [addr1, addr2, addr1],
        protocols: ['/a', '/a', '/b']
      })
      assert.deepEqual(addrs(peer), [addr1.toString(), addr2.toString()])
      assert.deepEqual(peer.protocols, ['/a', '/b'])
    })

    it('`addresses` keep their certified flag; `multiaddrs` are uncertified; save sets the flag as given', async () => {
      const h = await setup()
      const other = await makePeer()
      let peer = await h.store.save(other.id, {
        multiaddrs: [addr2],
        addresses: [{ multiaddr: addr1, isCertified: true }]
      })
      assert.deepEqual(addrs(peer), [`${addr1} certified`, addr2.toString()])
      peer = await h.store.save(other.id, { multiaddrs: [addr1] })
      assert.deepEqual(addrs(peer), [addr1.toString()])
    })

    it(
      difference('code-unit-order', 'the order of addresses, protocols, metadata keys and tag names'),
      async () => {
        const h = await setup()
        const other = await makePeer()
        const lower = multiaddr('/dns4/a.example/tcp/1')
        const upper = multiaddr('/dns4/B.example/tcp/1')
        const one = bytes(1)
        const peer = await h.store.save(other.id, {
          multiaddrs: [lower, upper],
          protocols: ['/b', '/B', '/a'],
          metadata: { b: one, B: one, a: one },
          tags: { b: {}, B: {}, a: {} }
        })
        const orders = [addrs(peer), peer.protocols, [...peer.metadata.keys()], [...peer.tags.keys()]]
        await sides(h, {
          // String#localeCompare: letters before case.
          upstream: () =>
            assert.deepEqual(orders, [
              [lower.toString(), upper.toString()],
              ['/a', '/b', '/B'],
              ['a', 'b', 'B'],
              ['a', 'b', 'B']
            ]),
          // UTF-16 code units: upper case first.
          ours: () =>
            assert.deepEqual(orders, [
              [upper.toString(), lower.toString()],
              ['/B', '/a', '/b'],
              ['B', 'a', 'b'],
              ['B', 'a', 'b']
            ])
        })
      }
    )

    it('rejects bad input with InvalidParametersError and stores nothing', async () => {
      const h = await setup()
      const other = await makePeer()
      const wrong = await makePeer()
      const bad: Array<Partial<PeerData>> = [
        { publicKey: wrong.key.publicKey },
        { tags: { t: { value: 101 } } },
        { tags: { t: { value: -1 } } },
        { tags: { t: { value: 5.5 } } },
        { tags: { t: { value: 1, ttl: -1 } } },
        { tags: { t: { value: 1, ttl: 1.5 } } },
        { metadata: { m: 'text' as unknown as Uint8Array } },
        { multiaddrs: ['/ip4/1.2.3.4/tcp/1' as unknown as typeof addr1] },
        { addresses: [{ multiaddr: 'nope' as unknown as typeof addr1, isCertified: false }] }
      ]
      for (const data of bad) {
        await assert.rejects(
          h.store.save(other.id, data as PeerData),
          invalidParameters,
          JSON.stringify(data)
        )
        await assert.rejects(h.store.patch(other.id, data), invalidParameters)
        await assert.rejects(h.store.merge(other.id, data as PeerData), invalidParameters)
      }
      assert.equal(await h.store.has(other.id), false)
      assert.equal(h.events.events.length, 0)
    })
  })

  describe('patch', () => {
    it('replaces the fields given and keeps the others', async () => {
      const h = await setup()
      const other = await makePeer()
      const envelope = await signedRecord(other.key, other.id, [addr1], 1n)
      await h.store.save(other.id, { ...(await fullData()), peerRecordEnvelope: envelope })
      let peer = await h.store.patch(other.id, { protocols: ['/c'], metadata: { baz: bytes(9) } })
      assert.deepEqual(peer.protocols, ['/c'])
      assert.deepEqual([...peer.metadata.keys()], ['baz'])
      assert.deepEqual(addrs(peer), [addr1.toString(), addr2.toString()])
      assert.deepEqual([...peer.tags.keys()], ['tag1', 'tag2'])
      assert.deepEqual(peer.peerRecordEnvelope, envelope)
      peer = await h.store.patch(other.id, { multiaddrs: [addr3], tags: {} })
      assert.deepEqual(addrs(peer), [addr3.toString()])
      assert.equal(peer.tags.size, 0)
      assert.deepEqual(peer.protocols, ['/c'])
      assert.deepEqual(peer.peerRecordEnvelope, envelope)
      assert.deepEqual(await h.store.get(other.id), peer)
    })

    it('creates an unknown peer', async () => {
      const h = await setup()
      const other = await makePeer()
      const peer = await h.store.patch(other.id, { protocols: ['/a'] })
      assert.deepEqual(peer.protocols, ['/a'])
      assert.equal(await h.store.has(other.id), true)
    })
  })

  describe('merge', () => {
    it('unions addresses (kept sorted) and leaves the other fields untouched', async () => {
      const h = await setup()
      const other = await makePeer()
      const original = await h.store.save(other.id, await fullData())
      const peer = await h.store.merge(other.id, { multiaddrs: [addr3] })
      assert.deepEqual(addrs(peer), [addr1, addr3, addr2].map(String))
      assert.deepEqual(peer.protocols, original.protocols)
      assert.deepEqual(peer.metadata, original.metadata)
      assert.deepEqual(peer.tags, original.tags)
    })

    it('unions protocols', async () => {
      const h = await setup()
      const other = await makePeer()
      await h.store.save(other.id, { protocols: ['/foo/bar'] })
      const peer = await h.store.merge(other.id, { protocols: ['/bar/foo', '/foo/bar'] })
      assert.deepEqual(peer.protocols, ['/bar/foo', '/foo/bar'])
    })

    it('metadata and tags: given keys are set, `undefined` deletes a key, the rest stays', async () => {
      const h = await setup()
      const other = await makePeer()
      await h.store.save(other.id, await fullData())
      const peer = await h.store.merge(other.id, {
        metadata: { baz: bytes(7), bar: undefined },
        tags: { tag3: { value: 30 }, tag2: undefined }
      })
      assert.deepEqual(
        [...peer.metadata],
        [
          ['baz', bytes(7)],
          ['foo', bytes(0, 1, 2)]
        ]
      )
      assert.deepEqual(
        [...peer.tags].map(([k, t]) => [k, t.value]),
        [
          ['tag1', 10],
          ['tag3', 30]
        ]
      )
    })

    it('replaces the envelope and keeps the rest', async () => {
      const h = await setup()
      const other = await makePeer()
      const first = await signedRecord(other.key, other.id, [addr1], 1n)
      const second = await signedRecord(other.key, other.id, [addr1], 2n)
      await h.store.save(other.id, { multiaddrs: [addr1], protocols: ['/a'], peerRecordEnvelope: first })
      const peer = await h.store.merge(other.id, { peerRecordEnvelope: second })
      assert.deepEqual(peer.peerRecordEnvelope, second)
      assert.deepEqual(peer.protocols, ['/a'])
      assert.deepEqual(addrs(peer), [addr1.toString()])
    })

    it('an uncertified address merged over a certified one stays certified', async () => {
      const h = await setup()
      const other = await makePeer()
      await h.store.save(other.id, { addresses: [{ multiaddr: addr1, isCertified: true }] })
      const peer = await h.store.merge(other.id, { multiaddrs: [addr1] })
      assert.deepEqual(addrs(peer), [`${addr1} certified`])
    })

    it(
      difference('certified-merge', 'a certified address merged over the same uncertified one is certified'),
      async () => {
        const h = await setup()
        const other = await makePeer()
        await h.store.merge(other.id, { multiaddrs: [addr1] })
        const merged = await h.store.merge(other.id, { addresses: [{ multiaddr: addr1, isCertified: true }] })
        const twice = await h.store.save(other.id, {
          addresses: [
            { multiaddr: addr2, isCertified: false },
            { multiaddr: addr2, isCertified: true }
          ]
        })
        await sides(h, {
          // Its dedupe keeps the first occurrence's flag.
          upstream: () => {
            assert.deepEqual(addrs(merged), [addr1.toString()])
            assert.deepEqual(addrs(twice), [addr2.toString()])
          },
          ours: () => {
            assert.deepEqual(addrs(merged), [`${addr1} certified`])
            assert.deepEqual(addrs(twice), [`${addr2} certified`])
          }
        })
      }
    )
  })

  describe('the /p2p/ suffix and the address filter', () => {
    it('a trailing /p2p/<the peer’s own id> is stripped by save, patch and merge', async () => {
      const h = await setup()
      const other = await makePeer()
      const own = (ma: typeof addr1) => multiaddr(`${ma}/p2p/${other.id}`)
      let peer = await h.store.save(other.id, { multiaddrs: [own(addr1)] })
      assert.deepEqual(addrs(peer), [addr1.toString()])
      peer = await h.store.patch(other.id, { addresses: [{ multiaddr: own(addr2), isCertified: true }] })
      assert.deepEqual(addrs(peer), [`${addr2} certified`])
      peer = await h.store.merge(other.id, { multiaddrs: [own(addr3)] })
      assert.deepEqual(addrs(peer), [addr3.toString(), `${addr2} certified`])
      assert.deepEqual((await h.store.getInfo(other.id)).multiaddrs.map(String), [addr3, addr2].map(String))
    })

    it('an address naming another peer is stored as given', async () => {
      const h = await setup()
      const [other, third] = [await makePeer(), await makePeer()]
      const foreign = multiaddr(`${addr1}/p2p/${third.id}`)
      const peer = await h.store.save(other.id, { multiaddrs: [foreign] })
      assert.deepEqual(addrs(peer), [foreign.toString()])
    })

    it(difference('circuit-suffix', 'a relayed address ending in the peer’s own id'), async () => {
      const h = await setup()
      const [other, relay] = [await makePeer(), await makePeer()]
      const circuit = `${addr2}/p2p/${relay.id}/p2p-circuit`
      const peer = await h.store.save(other.id, { multiaddrs: [multiaddr(`${circuit}/p2p/${other.id}`)] })
      await sides(h, {
        // It strips only when the first /p2p/ component is the peer's own (here it is the relay's).
        upstream: () => assert.deepEqual(addrs(peer), [`${circuit}/p2p/${other.id}`]),
        ours: () => assert.deepEqual(addrs(peer), [circuit])
      })
    })

    it('addresses the filter refuses are not stored, in any write', async () => {
      const refused = addr2.toString()
      const h = await setup({ addressFilter: (_peer, ma) => ma.toString() !== refused })
      const other = await makePeer()
      let peer = await h.store.save(other.id, { multiaddrs: [addr1, addr2] })
      assert.deepEqual(addrs(peer), [addr1.toString()])
      peer = await h.store.merge(other.id, { addresses: [{ multiaddr: addr2, isCertified: true }] })
      assert.deepEqual(addrs(peer), [addr1.toString()])
      peer = await h.store.patch(other.id, { multiaddrs: [addr2, addr3] })
      assert.deepEqual(addrs(peer), [addr3.toString()])
      const record = await signedRecord(other.key, other.id, [addr1, addr2], 1n)
      assert.equal(await h.store.consumePeerRecord(record), true)
      assert.ok(!addrs(await h.store.get(other.id)).some((a) => a.startsWith(refused)))
    })
  })
}
