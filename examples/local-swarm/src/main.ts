// N libp2p nodes on loopback exchanging echo traffic, each with a persistent peerscope peer store and its own
// /metrics; node 0's HTTP server is the one printed (dashboard and API). A prometheus.yml for all of them is
// written next to their data. Stop it (Ctrl-C) and start it again: the nodes remember their peers.
//   node examples/local-swarm/src/main.ts [--nodes 5] [--port 9102] [--dir .peerscope/local-swarm] [--duration s]
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { echo } from './echo.ts'
import { prometheusConfig } from './prometheus-config.ts'
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
try {
  for (let i = 0; i < count; i++) {
    // Every node serves /metrics, so Prometheus can scrape each; the others take any free port.
    nodes.push(await startSwarmNode({ dir: values.dir, index: i, httpPort: i === 0 ? port : 0 }))
  }
} catch (err) {
  await Promise.all(nodes.map((node) => node.stop()))
  // The dashboard's port is the one thing a user picks: say which flag changes it.
  const listen = err as { code?: string; port?: number; host?: string; reason?: string }
  if (listen.code === 'ERR_HTTP_LISTEN' && listen.port === port) {
    const why = listen.reason === 'EADDRINUSE' ? 'is already in use' : `cannot be used (${listen.reason})`
    console.error(
      `local-swarm: the dashboard's port ${port} on ${listen.host} ${why}; choose another with --port <N> ` +
        '(or PEERSCOPE_PORT=<N>), or --port 0 for any free port'
    )
    process.exit(1)
  }
  throw err
}
// One address GC now, so the Grafana board's GC panels have figures before the first timed one (10 min).
await Promise.all(nodes.map((node) => node.services.peerscope.gc()))
const scrapeConfig = join(values.dir, 'prometheus.yml')
await writeFile(
  scrapeConfig,
  prometheusConfig({ targets: nodes.map((node) => new URL(node.services.peerscope.httpUrl!).host) })
)

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
console.log(
  `prometheus.yml for all ${count} nodes (Grafana board: dashboards/peerscope.json): ${scrapeConfig}`
)
console.log('traffic is flowing; press Ctrl-C to stop\n')
if (values.duration !== undefined) setTimeout(() => void stop(), Number(values.duration) * 1000).unref()
