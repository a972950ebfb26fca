// Export and import (versioned JSON, lossless) and the libp2p-rs address book import.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConnectedAddrTTL, type LevelPeerStore, PermanentAddrTTL, TempAddrTTL } from '../../../src/node.ts'
import { type Backend, makeAddrs, makePeer, makePeers, signedRecord } from '../helpers.ts'
import { h, hasCode, storeSetup } from './setup.ts'

export function transferSuite(backend: Backend): void {
  describe('import and export', () => {
    const setup = storeSetup(backend)

    it('round-trips losslessly through versioned JSON', async () => {
      const { store, clock } = await setup()
      const { id, key } = await makePeer()
      const certified = makeAddrs(2)
      await store.consumePeerRecord(await signedRecord(key, id, certified, 7n), h)
      await store.addAddrs(id, makeAddrs(2), TempAddrTTL)
      await store.addAddrs(id, makeAddrs(1), ConnectedAddrTTL)
      await store.addAddrs(id, makeAddrs(1), PermanentAddrTTL)
      await store.setProtocols(id, ['/a'])
      await store.putMetadata(id, 'n', { nested: [1, 'two'] })
      await store.putMetadata(id, 'b', new Uint8Array([9]))
      await store.pin(id, 'kad')
      const json = JSON.stringify(await store.export())
      const { store: target } = await setup()
      clock.advance(0)
      const count = await target.import(JSON.parse(json))
      assert.equal(count, 1)
      // Compared by text: a multiaddr read back from storage is a StoredMultiaddr, not a parsed one.
      const infos = (s: LevelPeerStore) =>
        s.addrInfos(id).map((a) => ({ ...a, multiaddr: a.multiaddr.toString() }))
      assert.deepEqual(infos(target), infos(store))
      assert.deepEqual(target.getProtocols(id), ['/a'])
      assert.deepEqual(target.getMetadata(id, 'n'), { nested: [1, 'two'] })
      assert.deepEqual(target.getMetadata(id, 'b'), new Uint8Array([9]))
      assert.deepEqual(target.pins(id), ['kad'])
      assert.deepEqual(target.peerRecord(id), store.peerRecord(id))
      assert.equal(JSON.stringify(await target.export()), json)
      assert.ok(target.pubKey(id)?.equals(key.publicKey))
    })

    it('rejects a bad import with ERR_INVALID_IMPORT and changes nothing', async () => {
      const { store } = await setup()
      await assert.rejects(store.import({ version: 99, peers: [] }), hasCode('ERR_INVALID_IMPORT'))
      await assert.rejects(
        store.import({ version: 1, peers: [{ id: 'nope', addrs: [] }] }),
        hasCode('ERR_INVALID_IMPORT')
      )
      assert.deepEqual(store.peers(), [])
    })

    it('imports the libp2p-rs ds_addr_book.txt format', async () => {
      const { store, clock } = await setup()
      const [a, b] = await makePeers(2)
      // The u64::MAX TTL is kept as raw JSON text, as libp2p-rs writes it.
      const text = `{
        "${a!.id}": [
          { "addr": "/ip4/1.1.1.1/tcp/4001", "ttl": { "secs": 3600, "nanos": 0 } },
          { "addr": "/ip4/1.1.1.2/tcp/4001", "ttl": { "secs": 0, "nanos": 500000000 } }
        ],
        "${b!.id}": [
          { "addr": "/ip4/2.2.2.2/tcp/4001", "ttl": { "secs": 18446744073709551615, "nanos": 999999999 } }
        ]
      }`
      assert.equal(await store.importRustAddrBook(text), 2)
      const infos = store.addrInfos(a!.id)
      assert.deepEqual(
        infos.map((i) => [i.multiaddr.toString(), i.ttl, i.expiresAt]),
        [
          ['/ip4/1.1.1.1/tcp/4001', h, clock.now + h],
          ['/ip4/1.1.1.2/tcp/4001', 500, clock.now + 500]
        ]
      )
      assert.equal(store.addrInfos(b!.id)[0]?.ttl, PermanentAddrTTL)
      await assert.rejects(store.importRustAddrBook('{"x": 1}'), hasCode('ERR_INVALID_IMPORT'))
    })
  })
}
