// go's key book suite: public keys checked against the id, the local private key in memory only.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { type Backend, makeAddrs, makePeer, makePeers } from '../helpers.ts'
import { h, hasCode, storeSetup } from './setup.ts'

export function keyBookSuite(backend: Backend): void {
  describe('KeyBook', () => {
    const setup = storeSetup(backend)

    it('AddGetPrivKey (only the local peer has one, and only in memory)', async () => {
      const key = await generateKeyPair('RSA', 2048)
      const self = peerIdFromPrivateKey(key)
      const { store } = await setup({ privateKey: key })
      assert.ok(store.privKey(self)?.equals(key))
      // go-libp2p lists the local peer as soon as its private key is known.
      assert.deepEqual(store.peersWithKeys().map(String), [self.toString()])
      assert.deepEqual(store.peers().map(String), [self.toString()], 'a peer with a key is a peer (go Peers)')
      await store.addPubKey(self, key.publicKey)
      assert.deepEqual(store.peersWithKeys().map(String), [self.toString()])
      const other = await makePeer()
      assert.equal(store.privKey(other.id), undefined)
      assert.deepEqual(Object.keys(await store.export()).sort(), ['exportedAt', 'peers', 'version'])
      assert.ok(!JSON.stringify(await store.export()).includes('priv'))
    })

    it('removePeer(self) drops the private key too, as go (until the next open)', async () => {
      const key = await generateKeyPair('Ed25519')
      const self = peerIdFromPrivateKey(key)
      const { store, reopen } = await setup({ privateKey: key })
      await store.addAddrs(self, makeAddrs(1), h)
      await store.removePeer(self)
      assert.equal(store.privKey(self), undefined)
      assert.deepEqual(store.peersWithKeys(), [])
      assert.equal(store.addrs(self).length, 1, 'addrs stay, as for any peer')
      await store.clearAddrs(self)
      assert.deepEqual(store.peers(), [])
      const again = await reopen({ privateKey: key })
      assert.ok(again.privKey(self)?.equals(key))
    })

    it('AddGetPubKey', async () => {
      const { store } = await setup()
      const key = await generateKeyPair('RSA', 2048)
      const id = peerIdFromPrivateKey(key)
      // RSA ids do not inline the key: nothing is known until it is added.
      const bare = peerIdFromString(id.toString())
      assert.equal(store.pubKey(bare), undefined)
      await store.addPubKey(bare, key.publicKey)
      assert.ok(store.pubKey(bare)?.equals(key.publicKey))
      assert.deepEqual(store.peersWithKeys().map(String), [id.toString()])
      const wrong = await makePeer()
      await assert.rejects(
        async () => store.addPubKey(bare, wrong.key.publicKey),
        hasCode('ERR_INVALID_PUBLIC_KEY')
      )
    })

    it('PeersWithKeys', async () => {
      const { store } = await setup()
      const peers = await makePeers(20)
      for (const p of peers) await store.addPubKey(p.id, p.key.publicKey)
      assert.equal(store.peersWithKeys().length, 20)
    })

    it('PubKeyAddedOnRetrieve (identity ids: derived and cached)', async () => {
      const { store } = await setup()
      const { id, key } = await makePeer()
      assert.ok(store.pubKey(id)?.equals(key.publicKey))
      assert.deepEqual(store.peersWithKeys().map(String), [id.toString()])
    })

    it('Delete', async () => {
      const { store } = await setup()
      const { id, key } = await makePeer()
      await store.addPubKey(id, key.publicKey)
      await store.removePeer(id)
      assert.deepEqual(store.peersWithKeys(), [])
    })
  })
}
