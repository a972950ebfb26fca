import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import type { PeerStore } from '@libp2p/interface'
import { defaultLogger } from '@libp2p/logger'
import { persistentPeerStore } from '@libp2p/peer-store'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { MemoryDatastore } from 'datastore-core'
import { createLibp2p, type Libp2p } from 'libp2p'
import { pEvent } from 'p-event'
import { interposedStore, interposePeerStore, PEER_STORE_METHODS } from '../src/peer-store/interpose.ts'

/** A service that keeps the components it was given, as every libp2p service does. */
function componentsProbe() {
  return (components: { peerStore: PeerStore }) => ({ components })
}

function nodeOptions(datastore = new MemoryDatastore()) {
  return {
    datastore,
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), ping: ping(), probe: componentsProbe() },
    start: false
  }
}

/** Wraps a store so the test sees which methods libp2p called on it. */
function recording(store: PeerStore): { store: PeerStore; calls: Map<string, number> } {
  const calls = new Map<string, number>()
  const proxy = new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver)
      if (typeof value !== 'function' || typeof name !== 'string') return value
      return (...args: unknown[]) => {
        calls.set(name, (calls.get(name) ?? 0) + 1)
        return value.apply(target, args)
      }
    }
  })
  return { store: proxy, calls }
}

describe('interposePeerStore', () => {
  let a: Libp2p<{ probe: { components: { peerStore: PeerStore } } }>
  let b: Libp2p
  const builtInDatastore = new MemoryDatastore()
  let replacementDatastore: MemoryDatastore
  let calls: Map<string, number>

  before(async () => {
    a = await createLibp2p(nodeOptions(builtInDatastore))
    b = await createLibp2p(nodeOptions())
    replacementDatastore = new MemoryDatastore()
    const replacement = persistentPeerStore({
      peerId: a.peerId,
      datastore: replacementDatastore,
      events: a as never,
      logger: defaultLogger()
    })
    const recorded = recording(replacement)
    calls = recorded.calls
    interposePeerStore(a.peerStore, recorded.store)
    await a.start()
    await b.start()
  })

  after(async () => {
    await a?.stop()
    await b?.stop()
  })

  test('routes identify, the dialer and the registrar to the replacement store', async () => {
    const identified = pEvent(a, 'peer:identify')
    await a.dial(b.getMultiaddrs()[0]!)
    await identified

    const peer = await a.peerStore.get(b.peerId)
    assert.ok(peer.protocols.includes('/ipfs/ping/1.0.0'), 'identify stored the remote protocols')
    assert.ok(peer.addresses.length > 0, 'identify stored the remote addresses')
    assert.ok(peer.id.publicKey?.equals(b.peerId.publicKey), 'the public key is known')

    let keysInReplacement = 0
    for await (const _ of replacementDatastore.queryKeys({ prefix: '/peers/' })) keysInReplacement++
    assert.ok(keysInReplacement >= 1, 'the replacement datastore holds the peer')

    let keysInBuiltIn = 0
    for await (const _ of builtInDatastore.queryKeys({ prefix: '/peers/' })) keysInBuiltIn++
    assert.equal(keysInBuiltIn, 0, 'the built-in store was never written')

    assert.ok((calls.get('merge') ?? 0) + (calls.get('patch') ?? 0) > 0, 'writes reached the replacement')
    assert.ok((calls.get('get') ?? 0) > 0, 'reads reached the replacement')
  })

  test('is visible to every holder of the shared instance', () => {
    assert.equal(a.services.probe.components.peerStore, a.peerStore)
    assert.ok(interposedStore(a.peerStore) !== undefined)
  })

  test('refuses to interpose twice', () => {
    assert.throws(() => interposePeerStore(a.peerStore, a.peerStore))
  })

  test('routes every method of the contract', () => {
    for (const name of PEER_STORE_METHODS) {
      assert.ok(Object.hasOwn(a.peerStore, name), `${name} is routed`)
    }
  })
})
