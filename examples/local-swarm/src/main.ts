// N libp2p nodes on loopback exchanging echo traffic, each with a persistent peerscope peer store; node 0 serves
// the HTTP API and dashboard. Stop it (Ctrl-C) and start it again: the nodes remember their peers.
//   node examples/local-swarm/src/main.ts [--nodes 5] [--port 9102] [--dir .peerscope/local-swarm] [--duration s]
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { loadOrCreatePrivateKey, type PeerscopeService, peerscope } from '@peerscope/swarm-adapter'
import { createLibp2p, type Libp2p } from 'libp2p'
import { echo, handleEcho } from './echo.ts'

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: process.env.PEERSCOPE_NODES ?? '5' },
    port: { type: 'string', default: process.env.PEERSCOPE_PORT ?? '9102' },
    dir: { type: 'string', default: process.env.PEERSCOPE_SWARM_DIR ?? '.peerscope/local-swarm' },
    duration: { type: 'string' }
  }
})
const count = Number(values.nodes)
const port = Number(values.port)
if (!Number.isInteger(count) || count < 2 || count > 50) throw new Error('--nodes must be between 2 and 50')
if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be a TCP port')

type SwarmNode = Libp2p<{ peerscope: PeerscopeService }>

async function startNode(index: number): Promise<SwarmNode> {
  const dir = join(values.dir, `node-${index}`)
  const ps = peerscope({
    peerStore: { path: join(dir, 'peerstore') },
    http: index === 0 ? { port } : false
  })
  const node = await createLibp2p({
    privateKey: await loadOrCreatePrivateKey(join(dir, 'key')),
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    metrics: ps.metrics,
    services: {
      identify: identify(),
      ping: ping(),
      // A private DHT on loopback: its routing-table peers are pinned in the peer store.
      dht: kadDHT({
        protocol: '/peerscope-demo/kad/1.0.0',
        clientMode: false,
        peerInfoMapper: passthroughMapper
      }),
      peerscope: ps.service
    }
  })
  await handleEcho(node)
  return node
}

const nodes: SwarmNode[] = []
for (let i = 0; i < count; i++) nodes.push(await startNode(i))

for (const [i, node] of nodes.entries()) {
  const remembered = (await node.peerStore.all()).length
  console.log(`node-${i} ${node.peerId} remembers ${remembered} peer(s) from earlier runs`)
}

// A ring plus one chord per node, so every node has a few neighbours.
for (const [i, node] of nodes.entries()) {
  for (const j of [(i + 1) % count, (i + 2) % count]) {
    if (j !== i) await node.dial(nodes[j]!.getMultiaddrs()[0]!).catch(() => {})
  }
}

console.log(`\ndashboard: ${nodes[0]!.services.peerscope.httpUrl}`)
console.log('traffic is flowing; press Ctrl-C to stop\n')

let sent = 0
const traffic = setInterval(() => {
  const from = nodes[Math.floor(Math.random() * count)]!
  const peers = from.getPeers()
  const to = peers[Math.floor(Math.random() * peers.length)]
  if (to === undefined) return
  const bytes = 1024 + Math.floor(Math.random() * 63 * 1024)
  echo(from, to, bytes)
    .then(() => {
      sent += bytes
    })
    .catch(() => {})
}, 200)

let stopping = false
async function stop(): Promise<void> {
  if (stopping) return
  stopping = true
  clearInterval(traffic)
  await Promise.all(nodes.map((node) => node.stop()))
  console.log(
    `\nstopped cleanly after echoing ${(sent / 1024 / 1024).toFixed(1)} MiB; run again to see the peers remembered`
  )
}

process.once('SIGINT', () => void stop())
process.once('SIGTERM', () => void stop())
if (values.duration !== undefined) setTimeout(() => void stop(), Number(values.duration) * 1000).unref()
