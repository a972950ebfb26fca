// go's metadata suite, and the latency EWMA (in memory only).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type Backend, makeAddrs, makePeer } from '../helpers.ts'
import { h, hasCode, storeSetup } from './setup.ts'

export function metadataBookSuite(backend: Backend): void {
  describe('Metadata', () => {
    const setup = storeSetup(backend)

    it('putting and getting', async () => {
      const { store } = await setup()
      const { id } = await makePeer()
      await store.putMetadata(id, 'AgentVersion', 'string')
      await store.putMetadata(id, 'int', 1)
      await store.putMetadata(id, 'bytes', new Uint8Array([1, 2]))
      assert.equal(store.getMetadata(id, 'AgentVersion'), 'string')
      assert.equal(store.getMetadata(id, 'int'), 1)
      assert.deepEqual(store.getMetadata(id, 'bytes'), new Uint8Array([1, 2]))
      assert.equal(store.getMetadata(id, 'missing'), undefined)
      await store.deleteMetadata(id, 'int')
      assert.equal(store.getMetadata(id, 'int'), undefined)
    })

    it('metadataKeys lists the stored keys, sorted, and survives a reopen', async () => {
      const { store, reopen } = await setup()
      const { id } = await makePeer()
      assert.deepEqual(store.metadataKeys(id), [])
      await store.putMetadata(id, 'z', 1)
      await store.putMetadata(id, 'AgentVersion', 'x/1')
      await store.putMetadata(id, 'bytes', new Uint8Array([1]))
      assert.deepEqual(store.metadataKeys(id), ['AgentVersion', 'bytes', 'z'])
      await store.deleteMetadata(id, 'z')
      assert.deepEqual(store.metadataKeys(id), ['AgentVersion', 'bytes'])
      const again = await reopen()
      assert.deepEqual(again.metadataKeys(id), ['AgentVersion', 'bytes'])
    })

    it('removing a peer', async () => {
      const { store } = await setup()
      const { id } = await makePeer()
      await store.putMetadata(id, 'k', 1)
      await store.removePeer(id)
      assert.equal(store.getMetadata(id, 'k'), undefined)
    })
  })

  describe('Latency', () => {
    const setup = storeSetup(backend)

    it('latency EWMA: first sample as-is, then smoothing 0.1, never persisted', async () => {
      const { store, reopen } = await setup()
      const { id } = await makePeer()
      assert.equal(store.latencyEWMA(id), 0)
      store.recordLatency(id, 100)
      assert.equal(store.latencyEWMA(id), 100)
      store.recordLatency(id, 200)
      assert.equal(store.latencyEWMA(id), 110)
      assert.throws(() => store.recordLatency(id, -1), hasCode('ERR_INVALID_ARGUMENT'))
      await store.addAddrs(id, makeAddrs(1), h)
      const again = await reopen()
      assert.equal(again.latencyEWMA(id), 0)
      assert.deepEqual(again.addrInfos(id)[0]?.ttl, h)
    })
  })
}
