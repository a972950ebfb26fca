import { after, test } from 'node:test'
import { identify } from '@libp2p/identify'
import type { PeerId } from '@libp2p/interface'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { ping } from '@libp2p/ping'
import { createLibp2p } from 'libp2p'
import { peerscopeService } from '../src/service.ts'
import { KAD_PIN_REASON } from '../src/swarm/kad-pins.ts'
import { baseOptions, eventually, runCleanup } from './helpers/nodes.ts'

/** kad-dht on loopback: a private protocol, no public-address filter. */
function dht() {
  return kadDHT({
    protocol: '/peerscope-test/kad/1.0.0',
    clientMode: false,
    peerInfoMapper: passthroughMapper
  })
}

interface RoutingTableInternals {
  routingTable: { remove(peer: PeerId): Promise<void>; size: number }
}

const cleanup: Array<() => unknown> = []
after(() => runCleanup(cleanup))

test('kad-dht routing-table peers are pinned, and unpinned when evicted', async () => {
  const a = await createLibp2p({
    ...baseOptions(),
    services: {
      identify: identify(),
      ping: ping(),
      dht: dht(),
      peerscope: peerscopeService({ peerStore: { memory: true } })
    }
  })
  const b = await createLibp2p({
    ...baseOptions(),
    services: { identify: identify(), ping: ping(), dht: dht() }
  })
  cleanup.push(
    () => a.stop(),
    () => b.stop()
  )
  await a.dial(b.getMultiaddrs()[0]!)
  const store = await a.services.peerscope.store()
  await eventually('b pinned as a kad peer', () => store.pins(b.peerId).includes(KAD_PIN_REASON))

  await (a.services.dht as unknown as RoutingTableInternals).routingTable.remove(b.peerId)
  await eventually('b unpinned', () => !store.pins(b.peerId).includes(KAD_PIN_REASON))
})
