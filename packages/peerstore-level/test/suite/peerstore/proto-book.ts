// go's protocol book suites: adding, removing and querying protocols, and the per-peer limit.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type Backend, makePeer } from '../helpers.ts'
import { hasCode, storeSetup } from './setup.ts'

export function protoBookSuite(backend: Backend): void {
  describe('PeerstoreProtoStore', () => {
    const setup = storeSetup(backend)

    it('adding and removing protocols', async () => {
      const { store } = await setup()
      const { id } = await makePeer()
      const protos = ['a', 'b', 'c', 'd']
      await store.addProtocols(id, protos)
      assert.deepEqual(store.getProtocols(id).sort(), protos)
      assert.deepEqual(store.supportsProtocols(id, ['q', 'w', 'a', 'y', 'b']), ['a', 'b'])
      assert.deepEqual(store.supportsProtocols(id, ['b', 'a']), ['b', 'a'])
      assert.equal(store.firstSupportedProtocol(id, ['q', 'w', 'a', 'y', 'b']), 'a')
      assert.equal(store.firstSupportedProtocol(id, ['q', 'x', 'z']), undefined)
      await store.setProtocols(id, ['other'])
      assert.deepEqual(store.getProtocols(id), ['other'])
      await store.removeProtocols(id, ['other'])
      assert.deepEqual(store.getProtocols(id), [])
      const unknown = await makePeer()
      assert.deepEqual(store.getProtocols(unknown.id), [])
    })

    it('removing peer', async () => {
      const { store } = await setup()
      const { id } = await makePeer()
      await store.setProtocols(id, ['a', 'b'])
      await store.removePeer(id)
      assert.deepEqual(store.getProtocols(id), [])
    })
  })

  describe('PeerstoreProtoStoreLimits', () => {
    const setup = storeSetup(backend)

    const limit = 10
    it('setting protocols', async () => {
      const { store } = await setup({ limits: { maxProtocols: limit } })
      const { id } = await makePeer()
      const protos = Array.from({ length: limit + 1 }, (_, i) => `/p/${i}`)
      await store.setProtocols(id, protos.slice(0, limit))
      await assert.rejects(async () => store.setProtocols(id, protos), hasCode('ERR_TOO_MANY_PROTOCOLS'))
      assert.equal(store.getProtocols(id).length, limit)
    })

    it('adding protocols', async () => {
      const { store } = await setup({ limits: { maxProtocols: limit } })
      const { id } = await makePeer()
      const protos = Array.from({ length: limit }, (_, i) => `/p/${i}`)
      await store.addProtocols(id, protos.slice(0, limit / 2))
      await store.addProtocols(id, protos.slice(limit / 2))
      await assert.rejects(
        async () => store.addProtocols(id, ['/one/more']),
        hasCode('ERR_TOO_MANY_PROTOCOLS')
      )
      // As go: re-adding a known protocol at the limit fails too.
      await assert.rejects(async () => store.addProtocols(id, ['/p/0']), hasCode('ERR_TOO_MANY_PROTOCOLS'))
    })

    it('default limit is 128', async () => {
      const { store } = await setup()
      const { id } = await makePeer()
      const protos = Array.from({ length: 129 }, (_, i) => `/p/${i}`)
      await store.setProtocols(id, protos.slice(0, 128))
      await assert.rejects(async () => store.setProtocols(id, protos), hasCode('ERR_TOO_MANY_PROTOCOLS'))
    })
  })
}
