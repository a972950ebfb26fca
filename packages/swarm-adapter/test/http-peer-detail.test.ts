// The API shows what the store accepted: metadata keys the store round-trips (`__proto__` among them) are keys of
// the peer's JSON too.
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { openPeerStore } from '@peerscope/peerstore-level'
import { MemoryLevel } from 'memory-level'
import { startHttpServer } from '../src/http/server.ts'
import { offlineView } from '../src/view/offline-view.ts'

it('a peer shows every metadata key, __proto__ and constructor included', async () => {
  const store = await openPeerStore({ db: new MemoryLevel<string, string>() })
  const server = await startHttpServer({ view: offlineView(store) })
  try {
    const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    await store.putMetadata(peer, '__proto__', 'p')
    await store.putMetadata(peer, 'constructor', 'c')
    await store.putMetadata(peer, 'AgentVersion', new TextEncoder().encode('agent/1'))
    const res = await fetch(`${server.url}api/v1/peers/${peer.toString()}`)
    assert.equal(res.status, 200)
    // Parsed as JSON.parse parses: every key an own key.
    const { metadata } = (await res.json()) as { metadata: Record<string, string> }
    assert.deepEqual(Object.keys(metadata).sort(), ['AgentVersion', '__proto__', 'constructor'])
    // An own key (read as a descriptor, not through the accessor); a JSON value is shown as its JSON text.
    assert.equal(Object.getOwnPropertyDescriptor(metadata, '__proto__')?.value, '"p"')
    assert.equal(metadata.constructor, '"c"')
  } finally {
    await server.close()
    await store.close()
  }
})
