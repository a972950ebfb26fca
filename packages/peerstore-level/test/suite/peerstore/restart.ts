// What a close and reopen keep: exact expiries, every record kind; Connected addresses come back downgraded.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  AddressTTL,
  ConnectedAddrTTL,
  PermanentAddrTTL,
  RecentlyConnectedAddrTTL,
  TempAddrTTL
} from '../../../src/node.ts'
import { type Backend, makeAddrs, makePeer, strings } from '../helpers.ts'
import { h, s, storeSetup } from './setup.ts'

export function restartSuite(backend: Backend): void {
  describe('restart', () => {
    const setup = storeSetup(backend)

    it('keeps exact expiries, downgrades Connected, keeps Permanent', async () => {
      const { store, clock, reopen } = await setup()
      const { id, key } = await makePeer()
      const [temp, hour, conn, perm] = makeAddrs(4)
      await store.addAddrs(id, [temp!], TempAddrTTL)
      await store.addAddrs(id, [hour!], AddressTTL)
      await store.addAddrs(id, [conn!], ConnectedAddrTTL)
      await store.addAddrs(id, [perm!], PermanentAddrTTL)
      await store.setProtocols(id, ['/a', '/b'])
      await store.addPubKey(id, key.publicKey)
      await store.putMetadata(id, 'AgentVersion', 'x/1')
      await store.pin(id, 'kad')
      const before = new Map(store.addrInfos(id).map((a) => [a.multiaddr.toString(), a]))
      clock.advance(60 * s)
      const again = await reopen()
      assert.equal(again.openReport.downgraded, 1)
      const after = new Map(again.addrInfos(id).map((a) => [a.multiaddr.toString(), a]))
      assert.equal(after.get(temp!.toString())?.expiresAt, before.get(temp!.toString())?.expiresAt)
      assert.equal(after.get(hour!.toString())?.expiresAt, before.get(hour!.toString())?.expiresAt)
      assert.equal(after.get(conn!.toString())?.ttl, RecentlyConnectedAddrTTL)
      assert.equal(after.get(conn!.toString())?.expiresAt, clock.now + RecentlyConnectedAddrTTL)
      assert.equal(after.get(perm!.toString())?.ttl, PermanentAddrTTL)
      assert.equal(after.get(perm!.toString())?.expiresAt, Number.POSITIVE_INFINITY)
      assert.deepEqual(again.getProtocols(id), ['/a', '/b'])
      assert.ok(again.pubKey(id)?.equals(key.publicKey))
      assert.equal(again.getMetadata(id, 'AgentVersion'), 'x/1')
      assert.deepEqual(again.pins(id), ['kad'])
      // Expiry keeps running across the restart.
      clock.advance(TempAddrTTL)
      assert.ok(!strings(again.addrs(id)).includes(temp!.toString()))
    })

    it('a write that resolved is in the database, without close()', async () => {
      const { store } = await setup()
      const { id } = await makePeer()
      await store.addAddrs(id, makeAddrs(2), h)
      const exported = await store.export()
      assert.equal(exported.peers.length, 1)
    })
  })
}
