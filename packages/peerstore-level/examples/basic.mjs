// basic.mjs: open a store on a path, add addresses, read them back, close, reopen.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { AddressTTL, ConnectedAddrTTL, openPeerStore } from '@peerscope/peerstore-level'

const dir = await mkdtemp(join(tmpdir(), 'peerstore-example-'))
const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))

let store = await openPeerStore({ path: join(dir, 'peers') })
await store.addAddrs(peer, [multiaddr('/ip4/192.0.2.1/tcp/4001')], AddressTTL)
await store.addAddrs(peer, [multiaddr('/ip4/192.0.2.1/udp/4001/quic-v1')], ConnectedAddrTTL)
await store.setProtocols(peer, ['/ipfs/id/1.0.0', '/ipfs/ping/1.0.0'])
await store.pin(peer, 'kad')
console.log(
  'before restart:',
  store.addrInfos(peer).map((a) => `${a.multiaddr} ttl=${a.ttl}`)
)
await store.close()

// A restart: the 1 h address keeps its exact expiry; the Connected one comes back as RecentlyConnected (15 min).
store = await openPeerStore({ path: join(dir, 'peers') })
console.log(
  'after restart: ',
  store.addrInfos(peer).map((a) => `${a.multiaddr} ttl=${a.ttl}`)
)
console.log('protocols:', store.getProtocols(peer), 'pins:', store.pins(peer))
console.log('gc:', await store.gc())
await store.close()
await rm(dir, { recursive: true, force: true })
