// A restart (ours: close and reopen the database; the control: a new store over the same datastore) keeps
// everything written, public keys of every type included, and the peers' ages.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { makePeer, signedRecord } from '../helpers.ts'
import { addrs, type Ctx, notFound, PEER_AGE, peerOf } from './context.ts'

const addr1 = multiaddr('/ip4/127.0.0.1/tcp/4001')
const addr2 = multiaddr('/ip4/20.0.0.1/tcp/8002')

export function restart({ setup }: Ctx): void {
  describe('restart', () => {
    it('every field written survives', async () => {
      const h = await setup()
      const other = await makePeer()
      const envelope = await signedRecord(other.key, other.id, [addr1], 4n)
      const saved = await h.store.save(other.id, {
        addresses: [
          { multiaddr: addr1, isCertified: true },
          { multiaddr: addr2, isCertified: false }
        ],
        protocols: ['/a', '/b'],
        metadata: { m: Uint8Array.from([1, 2]) },
        tags: { forever: { value: 7 }, later: { value: 3, ttl: 3_600_000 } },
        peerRecordEnvelope: envelope
      })
      await h.store.save(h.self.id, { multiaddrs: [addr2], protocols: ['/self'] })
      await h.restart()
      const peer = await h.store.get(peerIdFromString(other.id.toString()))
      assert.deepEqual(addrs(peer), addrs(saved))
      assert.deepEqual(peer.protocols, ['/a', '/b'])
      assert.deepEqual([...peer.metadata], [['m', Uint8Array.from([1, 2])]])
      assert.deepEqual(
        [...peer.tags].map(([k, t]) => [k, t.value]),
        [
          ['forever', 7],
          ['later', 3]
        ]
      )
      assert.deepEqual(peer.peerRecordEnvelope, envelope)
      assert.deepEqual((await h.store.get(h.self.id)).protocols, ['/self'])
      // A record not newer than the one kept is still refused.
      assert.equal(await h.store.consumePeerRecord(envelope), false)
    })

    it('RSA, secp256k1 and Ed25519 public keys survive, on the id that get returns', async () => {
      const h = await setup()
      const peers = await Promise.all(
        (['RSA', 'secp256k1', 'Ed25519'] as const).map((t) => peerOf(t, 'restart'))
      )
      for (const { key, id } of peers) {
        await h.store.save(peerIdFromString(id.toString()), { publicKey: key.publicKey, multiaddrs: [addr1] })
      }
      await h.restart()
      for (const [i, { key, id }] of peers.entries()) {
        const peer = await h.store.get(peerIdFromString(id.toString()))
        assert.ok(peer.id.publicKey?.equals(key.publicKey), `key ${i} (${id.type})`)
        assert.equal(peer.id.type, id.type)
      }
    })

    it('a peer’s age survives: it is gone maxPeerAge after its last write, restart or not', async () => {
      const h = await setup()
      const [early, late] = [await makePeer(), await makePeer()]
      await h.store.save(early.id, { protocols: ['/a'] })
      h.advance(PEER_AGE / 2)
      await h.store.save(late.id, { protocols: ['/a'] })
      await h.restart()
      h.advance(PEER_AGE / 2 + 1)
      await assert.rejects(h.store.get(early.id), notFound)
      assert.equal(await h.store.has(late.id), true)
    })

    it('writing again what was there before the restart announces nothing', async () => {
      const h = await setup()
      const other = await makePeer()
      const data = { multiaddrs: [addr1], protocols: ['/a'], tags: { t: { value: 1 } } }
      await h.store.save(other.id, data)
      await h.restart()
      await h.store.save(other.id, data)
      await h.store.merge(other.id, { protocols: ['/a'] })
      assert.equal(h.events.events.length, 1)
    })
  })
}
