// Pins (tags are written through the libp2p view: see libp2p-suite.ts; their expiry is GC's, see gc.ts).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type Backend, makePeer } from '../helpers.ts'
import { hasCode, storeSetup } from './setup.ts'

export function tagBookSuite(backend: Backend): void {
  describe('pins', () => {
    const setup = storeSetup(backend)

    it('owners pin independently by reason; pinning an unknown peer stores it', async () => {
      const { store, reopen } = await setup()
      const { id } = await makePeer()
      await store.pin(id, 'kad')
      await store.pin(id, 'relay')
      await store.pin(id, 'kad')
      assert.deepEqual(store.pins(id), ['kad', 'relay'])
      await store.unpin(id, 'kad')
      assert.deepEqual(store.pins(id), ['relay'])
      await assert.rejects(async () => store.pin(id, ''), hasCode('ERR_INVALID_ARGUMENT'))
      const again = await reopen()
      assert.deepEqual(again.pins(id), ['relay'])
      assert.deepEqual(again.peers().map(String), [id.toString()])
    })
  })
}
