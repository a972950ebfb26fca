// Public keys (Ed25519, secp256k1, RSA), the peer record envelope, and consumePeerRecord.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { makePeer, signedRecord } from '../helpers.ts'
import { addrs, type Ctx, difference, invalidParameters, peerOf, sides } from './context.ts'

const addr1 = multiaddr('/ip4/127.0.0.1/tcp/4001')
const addr2 = multiaddr('/ip4/20.0.0.1/tcp/8002')
const addr3 = multiaddr('/ip4/127.0.0.1/tcp/4003')

const KEY_TYPES = ['Ed25519', 'secp256k1', 'RSA'] as const

export function recordsAndKeys({ setup }: Ctx): void {
  describe('public keys', () => {
    for (const type of KEY_TYPES) {
      it(`${type}: a key given with the peer is on the id that get returns for the bare id`, async () => {
        const h = await setup()
        const { key, id } = await peerOf(type, 'given')
        const bare = peerIdFromString(id.toString())
        await h.store.save(bare, { publicKey: key.publicKey, multiaddrs: [addr1] })
        const peer = await h.store.get(peerIdFromString(id.toString()))
        assert.ok(peer.id.publicKey?.equals(key.publicKey), `${type} key on the id`)
        // patch and merge keep it.
        await h.store.patch(bare, { protocols: ['/a'] })
        await h.store.merge(bare, { protocols: ['/b'] })
        assert.ok((await h.store.get(bare)).id.publicKey?.equals(key.publicKey))
      })
    }

    it('RSA: an id that carries its key stores it without `publicKey` being given', async () => {
      const h = await setup()
      const { key, id } = await peerOf('RSA', 'carried')
      await h.store.save(id, { multiaddrs: [addr1] })
      const peer = await h.store.get(peerIdFromString(id.toString()))
      assert.ok(peer.id.publicKey?.equals(key.publicKey))
    })

    it(difference('rsa-key-kept', 'RSA: a save that does not give the key again'), async () => {
      const h = await setup()
      const { key, id } = await peerOf('RSA', 'resaved')
      const bare = peerIdFromString(id.toString())
      await h.store.save(bare, { publicKey: key.publicKey })
      await h.store.save(bare, { multiaddrs: [addr2] })
      const peer = await h.store.get(bare)
      await sides(h, {
        // save replaces every field, the key included.
        upstream: () => assert.equal(peer.id.publicKey, undefined),
        ours: () => assert.ok(peer.id.publicKey?.equals(key.publicKey))
      })
    })

    it('a key that does not match the id is InvalidParametersError', async () => {
      const h = await setup()
      const rsa = await peerOf('RSA', 'given')
      const ed = await makePeer()
      await assert.rejects(h.store.save(ed.id, { publicKey: rsa.key.publicKey }), invalidParameters)
      await assert.rejects(
        h.store.merge(peerIdFromString(rsa.id.toString()), { publicKey: ed.key.publicKey }),
        invalidParameters
      )
    })

    it('a peer saved with only its (inlined) key exists, once: the repeat changes nothing', async () => {
      const h = await setup()
      const other = await makePeer()
      await h.store.save(other.id, { publicKey: other.key.publicKey })
      await h.store.save(other.id, { publicKey: other.key.publicKey })
      assert.equal(await h.store.has(other.id), true)
      assert.equal(h.events.events.length, 1)
      assert.equal(h.events.events[0]?.detail.previous, undefined)
    })
  })

  describe('peer record envelope', () => {
    it(difference('envelope-validated', 'an envelope that is not a signed peer record'), async () => {
      const h = await setup()
      const other = await makePeer()
      const garbage = Uint8Array.from([3, 4, 5])
      await sides(h, {
        upstream: async () => {
          const peer = await h.store.save(other.id, { multiaddrs: [addr1], peerRecordEnvelope: garbage })
          assert.deepEqual(peer.peerRecordEnvelope, garbage)
        },
        ours: async () => {
          for (const write of ['save', 'patch', 'merge'] as const) {
            await assert.rejects(
              h.store[write](other.id, { multiaddrs: [addr1], peerRecordEnvelope: garbage }),
              invalidParameters
            )
          }
          assert.equal(await h.store.has(other.id), false)
        }
      })
    })

    it(difference('envelope-needs-addresses', 'an envelope saved with no address'), async () => {
      const h = await setup()
      const other = await makePeer()
      const envelope = await signedRecord(other.key, other.id, [addr1], 1n)
      const saved = await h.store.save(other.id, { protocols: ['/a'], peerRecordEnvelope: envelope })
      await h.store.save(other.id, { multiaddrs: [addr1], protocols: ['/a'], peerRecordEnvelope: envelope })
      const cleared = await h.store.patch(other.id, { multiaddrs: [] })
      await sides(h, {
        upstream: () => {
          assert.deepEqual(saved.peerRecordEnvelope, envelope)
          assert.deepEqual(cleared.peerRecordEnvelope, envelope)
        },
        // go's rule: a signed record is kept only with at least one address.
        ours: () => {
          assert.equal(saved.peerRecordEnvelope, undefined)
          assert.equal(cleared.peerRecordEnvelope, undefined)
        }
      })
      assert.deepEqual(saved.protocols, ['/a'])
    })
  })

  describe('consumePeerRecord', () => {
    it('creates the peer with the record’s addresses, certified, and the envelope; one event', async () => {
      const h = await setup()
      const other = await makePeer()
      const envelope = await signedRecord(
        other.key,
        other.id,
        [addr2, multiaddr(`${addr1}/p2p/${other.id}`)],
        5n
      )
      assert.equal(await h.store.has(other.id), false)
      assert.equal(await h.store.consumePeerRecord(envelope), true)
      const peer = await h.store.get(other.id)
      assert.deepEqual(addrs(peer), [`${addr1} certified`, `${addr2} certified`])
      assert.deepEqual(peer.peerRecordEnvelope, envelope)
      assert.equal(h.events.events.length, 1)
      assert.equal(h.events.events[0]?.type, 'peer:update')
    })

    it('an equal or older sequence number returns false and changes nothing', async () => {
      const h = await setup()
      const other = await makePeer()
      const newer = await signedRecord(other.key, other.id, [addr2], 2n)
      assert.equal(await h.store.consumePeerRecord(newer), true)
      assert.equal(await h.store.consumePeerRecord(newer), false)
      const same = await signedRecord(other.key, other.id, [addr3], 2n)
      assert.equal(await h.store.consumePeerRecord(same), false)
      const older = await signedRecord(other.key, other.id, [addr1], 1n)
      assert.equal(await h.store.consumePeerRecord(older), false)
      const peer = await h.store.get(other.id)
      assert.deepEqual(addrs(peer), [`${addr2} certified`])
      assert.deepEqual(peer.peerRecordEnvelope, newer)
      assert.equal(h.events.events.length, 1)
    })

    it('a newer record replaces the certified addresses of the older one', async () => {
      const h = await setup()
      const other = await makePeer()
      assert.equal(
        await h.store.consumePeerRecord(await signedRecord(other.key, other.id, [addr1], 1n)),
        true
      )
      const newer = await signedRecord(other.key, other.id, [addr2], 2n)
      assert.equal(await h.store.consumePeerRecord(newer), true)
      const peer = await h.store.get(other.id)
      assert.deepEqual(addrs(peer), [`${addr2} certified`])
      assert.deepEqual(peer.peerRecordEnvelope, newer)
      assert.ok(h.events.events.at(-1)?.detail.previous?.peerRecordEnvelope != null)
    })

    it(difference('record-keeps-uncertified', 'a record over addresses learned elsewhere'), async () => {
      const h = await setup()
      const other = await makePeer()
      await h.store.save(other.id, { multiaddrs: [addr1], protocols: ['/a'] })
      assert.equal(
        await h.store.consumePeerRecord(await signedRecord(other.key, other.id, [addr2], 1n)),
        true
      )
      const peer = await h.store.get(other.id)
      assert.deepEqual(peer.protocols, ['/a'])
      await sides(h, {
        upstream: () => assert.deepEqual(addrs(peer), [`${addr2} certified`]),
        ours: () => assert.deepEqual(addrs(peer), [addr1.toString(), `${addr2} certified`])
      })
    })

    it('a record from another peer than the expected one returns false and stores nothing', async () => {
      const h = await setup()
      const [other, third] = [await makePeer(), await makePeer()]
      const envelope = await signedRecord(other.key, other.id, [addr1], 1n)
      assert.equal(await h.store.consumePeerRecord(envelope, { expectedPeer: third.id }), false)
      // The older call form, a PeerId in second place, still works on both.
      const legacy = h.store.consumePeerRecord as unknown as (b: Uint8Array, p: unknown) => Promise<boolean>
      assert.equal(await legacy.call(h.store, envelope, third.id), false)
      assert.equal(await h.store.has(other.id), false)
      assert.equal(h.events.events.length, 0)
      assert.equal(await legacy.call(h.store, envelope, other.id), true)
      assert.equal(await h.store.has(other.id), true)
    })

    it('a record naming another peer than its signer returns false', async () => {
      const h = await setup()
      const [other, signer] = [await makePeer(), await makePeer()]
      const forged = await signedRecord(signer.key, other.id, [addr1], 1n)
      assert.equal(await h.store.consumePeerRecord(forged), false)
      assert.equal(await h.store.has(other.id), false)
      assert.equal(await h.store.has(signer.id), false)
    })

    it('bytes that are not a signed envelope are rejected', async () => {
      const h = await setup()
      await assert.rejects(h.store.consumePeerRecord(Uint8Array.from([1, 2, 3])))
      assert.deepEqual(await h.store.all(), [])
    })

    it('the local peer’s own record is stored and announced as self:peer:update', async () => {
      const h = await setup()
      const envelope = await signedRecord(h.self.key, h.self.id, [addr1], 1n)
      assert.equal(await h.store.consumePeerRecord(envelope), true)
      assert.deepEqual(addrs(await h.store.get(h.self.id)), [`${addr1} certified`])
      assert.deepEqual(
        h.events.events.map((e) => e.type),
        ['self:peer:update']
      )
    })

    it(difference('record-stores-rsa-key', 'RSA: the signer’s key from a consumed record'), async () => {
      const h = await setup()
      const { key, id } = await peerOf('RSA', 'record')
      assert.equal(await h.store.consumePeerRecord(await signedRecord(key, id, [addr1], 1n)), true)
      const peer = await h.store.get(peerIdFromString(id.toString()))
      await sides(h, {
        upstream: () => assert.equal(peer.id.publicKey, undefined),
        ours: () => assert.ok(peer.id.publicKey?.equals(key.publicKey))
      })
    })
  })
}
