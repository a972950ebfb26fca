// How one node of the local swarm is built; shared by main.ts (the demo) and soak.ts (the reliability soak).
import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { loadOrCreatePrivateKey, type PeerscopeService, peerscope } from '@peerscope/swarm-adapter'
import { createLibp2p, type Libp2p } from 'libp2p'
import { handleEcho } from './echo.ts'

export type SwarmNode = Libp2p<{ peerscope: PeerscopeService }>

export interface SwarmNodeOptions {
  /** The swarm's directory: node `index` keeps its key and peer store in `<dir>/node-<index>`. */
  dir: string
  index: number
  /** Port of the HTTP API and dashboard (0: any free port); no HTTP server when undefined. */
  httpPort?: number | undefined
  /** TCP port to listen on (default 0: any free port); a restarted node asks for its old one. */
  listenPort?: number | undefined
  /** Called with the node before it starts, e.g. to add event listeners that must see its first connection. */
  beforeStart?: ((node: SwarmNode) => void) | undefined
}

/** Starts one node: same key and same peer store on every start with the same `dir` and `index`. */
export async function startSwarmNode(options: SwarmNodeOptions): Promise<SwarmNode> {
  const dir = join(options.dir, `node-${options.index}`)
  const ps = peerscope({
    peerStore: { path: join(dir, 'peerstore') },
    http: options.httpPort === undefined ? false : { port: options.httpPort },
    // Per-peer Prometheus series (the busiest 100 peers): the Grafana board's top-peers panels need them.
    metrics: { prometheus: { perPeer: true } }
  })
  const node = await createLibp2p({
    // Started below, once the echo handler is registered: identify push is not enabled, so a protocol added
    // after start would never reach peers that identified this node already.
    start: false,
    privateKey: await loadOrCreatePrivateKey(join(dir, 'key')),
    addresses: { listen: [`/ip4/127.0.0.1/tcp/${options.listenPort ?? 0}`] },
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
  options.beforeStart?.(node)
  await node.start()
  return node
}
