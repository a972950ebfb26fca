// One libp2p node with peerscope: a persistent TTL peer store, per-peer metrics, the HTTP API and dashboard.
//   node examples/basic-node/src/main.ts [--dir .peerscope/basic-node] [--port 9102] [--dial <multiaddr>]
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { loadOrCreatePrivateKey, peerscope } from '@peerscope/swarm-adapter'
import { createLibp2p } from 'libp2p'

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: '.peerscope/basic-node' },
    port: { type: 'string', default: '9102' },
    dial: { type: 'string' }
  }
})

const ps = peerscope({
  peerStore: { path: join(values.dir, 'peerstore') },
  http: { port: Number(values.port) }
})

const node = await createLibp2p({
  privateKey: await loadOrCreatePrivateKey(join(values.dir, 'key')),
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  metrics: ps.metrics,
  services: { identify: identify(), ping: ping(), peerscope: ps.service }
})

// Before anything is printed: whoever reads the output may signal as soon as it sees a line.
const stop = async () => {
  await node.stop()
  console.log('stopped')
}
process.once('SIGINT', () => void stop())
process.once('SIGTERM', () => void stop())

console.log(`peer id    ${node.peerId}`)
console.log(`listening  ${node.getMultiaddrs().join(' ')}`)
console.log(`dashboard  ${node.services.peerscope.httpUrl}`)
console.log(`remembers  ${(await node.peerStore.all()).length} peer(s)`)
if (values.dial !== undefined) {
  const rtt = await node.services.ping.ping(multiaddr(values.dial))
  console.log(`pinged     ${values.dial} in ${rtt} ms`)
}
