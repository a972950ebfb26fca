// Two real nodes on loopback (tcp, noise, yamux, identify, ping), both with our peer store installed: identify
// and ping work, and so does a reconnect after one peer's addresses expired in the other's store. Also the
// peer-store options that mirror @libp2p/peer-store's (maxPeerAge, addressFilter via the connection gater).
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { identify } from '@libp2p/identify'
import type { PeerId } from '@libp2p/interface'
import { ping } from '@libp2p/ping'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { pEvent } from 'p-event'
import { peerscopeService } from '../src/service.ts'
import {
  baseOptions,
  dialAndIdentify,
  eventually,
  runCleanup,
  type ScopedNode,
  scopedNode
} from './helpers/nodes.ts'

const cleanup: Array<() => unknown> = []
after(() => runCleanup(cleanup))

test('identify, ping, and a reconnect after the peer’s addresses expired, with our store on both nodes', async () => {
  const a = await scopedNode({ peerStore: { memory: true } })
  cleanup.push(() => a.stop())
  const b = await scopedNode({ peerStore: { memory: true } })
  cleanup.push(() => b.stop())
  const discovered: PeerId[] = []
  a.addEventListener('peer:discovery', (evt) => discovered.push(evt.detail.id))

  // First contact: identify both ways, ping.
  const bIdentifiesA = pEvent(b, 'peer:identify')
  await dialAndIdentify(a, b)
  await bIdentifiesA
  assert.ok((await a.services.ping.ping(b.peerId)) >= 0)
  const known = await a.peerStore.get(b.peerId)
  assert.ok(known.protocols.includes('/ipfs/ping/1.0.0'), 'identify stored the protocols through our store')
  assert.ok(known.addresses.length > 0)
  assert.ok((await b.peerStore.get(a.peerId)).protocols.includes('/ipfs/id/1.0.0'))

  // Disconnect, then let B's addresses expire in A's store (a 1 ms TTL, for real, instead of an hour).
  const discoveredBefore = discovered.length
  await a.hangUp(b.peerId)
  await eventually('A saw the disconnect', () => a.getConnections(b.peerId).length === 0)
  await a.services.peerscope.settled()
  const store = await a.services.peerscope.store()
  await store.setAddrs(b.peerId, store.addrs(b.peerId), 1)
  await delay(20)
  assert.deepEqual(store.addrs(b.peerId), [])

  // B still exists for A (it was written less than maxPeerAge ago), with zero addresses and its protocols.
  assert.equal(await a.peerStore.has(b.peerId), true)
  const stale = await a.peerStore.get(b.peerId)
  assert.deepEqual(stale.addresses, [])
  assert.ok(stale.protocols.includes('/ipfs/ping/1.0.0'))
  // The local peer always answers (identify reads it to answer B).
  assert.equal((await a.peerStore.get(a.peerId)).id.equals(a.peerId), true)

  // Found again (as discovery or routing would write it), then dialled by id alone: the dialer reads our store.
  await a.peerStore.merge(b.peerId, { multiaddrs: b.getMultiaddrs() })
  const aIdentifiesB = pEvent(a, 'peer:identify')
  const bIdentifiesAAgain = pEvent(b, 'peer:identify')
  await a.dial(b.peerId)
  await aIdentifiesB
  await bIdentifiesAAgain
  await a.services.peerscope.settled()
  assert.ok((await a.services.ping.ping(b.peerId)) >= 0)
  assert.ok(store.addrs(b.peerId).length > 0, 'identify stored the addresses again')
  // B was known throughout: libp2p did not announce it as discovered again.
  assert.equal(discovered.length, discoveredBefore)
})

test('peer-store options: maxPeerAge reaches the store; the connection gater filters addresses', async () => {
  const refused = '/ip4/192.0.2.2/tcp/2'
  const node = (await createLibp2p({
    ...baseOptions(),
    connectionGater: { filterMultiaddrForPeer: (_peer, ma) => ma.toString() !== refused },
    services: {
      identify: identify(),
      ping: ping(),
      peerscope: peerscopeService({ peerStore: { memory: true, maxPeerAge: 60_000 } })
    }
  })) as ScopedNode
  cleanup.push(() => node.stop())
  const store = await node.services.peerscope.store()
  assert.equal(store.maxPeerAge, 60_000)
  const other = await scopedNode({ peerStore: { memory: true } })
  cleanup.push(() => other.stop())
  const peer = await node.peerStore.merge(other.peerId, {
    multiaddrs: [multiaddr('/ip4/192.0.2.1/tcp/1'), multiaddr(refused)]
  })
  assert.deepEqual(
    peer.addresses.map((a) => a.multiaddr.toString()),
    ['/ip4/192.0.2.1/tcp/1']
  )

  // A filter given in the options replaces the gater's, as `peerStore.addressFilter` does in libp2p.
  const own = await scopedNode({
    peerStore: { memory: true, addressFilter: (_peer, ma) => !ma.toString().startsWith('/ip4/192.0.2.1/') }
  })
  cleanup.push(() => own.stop())
  const filtered = await own.peerStore.merge(other.peerId, {
    multiaddrs: [multiaddr('/ip4/192.0.2.1/tcp/1'), multiaddr(refused)]
  })
  assert.deepEqual(
    filtered.addresses.map((a) => a.multiaddr.toString()),
    [refused]
  )
})
