// N libp2p nodes on loopback exchanging echo traffic, each with a persistent peerscope peer store; node 0 serves
// the HTTP API and dashboard. Stop it (Ctrl-C) and start it again: the nodes remember their peers.
//   node examples/local-swarm/src/main.ts [--nodes 5] [--port 9102] [--dir .peerscope/local-swarm] [--duration s]
import { parseArgs } from 'node:util'
import { echo } from './echo.ts'
import { type SwarmNode, startSwarmNode } from './swarm.ts'

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

const nodes: SwarmNode[] = []
for (let i = 0; i < count; i++) {
  nodes.push(await startSwarmNode({ dir: values.dir, index: i, httpPort: i === 0 ? port : undefined }))
}

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

// Printed once the signal handlers are in place: whoever reads the output may signal as soon as it sees a line.
console.log(`\ndashboard: ${nodes[0]!.services.peerscope.httpUrl}`)
console.log('traffic is flowing; press Ctrl-C to stop\n')
if (values.duration !== undefined) setTimeout(() => void stop(), Number(values.duration) * 1000).unref()
