import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { libp2pMetrics, type PeerscopeMetrics } from '@peerscope/metrics'
import { createLibp2p } from 'libp2p'
import { pEvent } from 'p-event'
import { Counter, Registry } from 'prom-client'
import { peerscope } from '../src/index.ts'
import { plainNode } from './helpers/nodes.ts'

/** Our metrics on a node that keeps libp2p's own peer store: its text. */
async function plainMetricsText(): Promise<string> {
  const node = await createLibp2p({ transports: [tcp()], metrics: libp2pMetrics({ processMetrics: false }) })
  try {
    return await (node.metrics as PeerscopeMetrics).prometheus()
  } finally {
    await node.stop()
  }
}

/** The quick-start shape from the README: one call, two halves, real nodes on loopback. */
async function quickStartNode() {
  const ps = peerscope({ peerStore: { memory: true }, http: { port: 0, token: 'secret' } })
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    metrics: ps.metrics,
    services: { identify: identify(), ping: ping(), peerscope: ps.service }
  })
}

describe('peerscope(): metrics, peer store and HTTP API in one node', () => {
  let node: Awaited<ReturnType<typeof quickStartNode>>
  let other: Awaited<ReturnType<typeof plainNode>>
  let base: string
  // biome-ignore lint/suspicious/noExplicitAny: the answers are arbitrary JSON the assertions walk into
  const get = async (path: string): Promise<{ status: number; body: any }> => {
    const res = await fetch(new URL(path, base), { headers: { Authorization: 'Bearer secret' } })
    const json = res.headers.get('content-type')?.includes('json') === true
    return { status: res.status, body: json ? await res.json() : await res.text() }
  }

  before(async () => {
    node = await quickStartNode()
    other = await plainNode()
    const identified = pEvent(node, 'peer:identify')
    await node.dial(other.getMultiaddrs()[0]!)
    await identified
    await node.services.ping.ping(other.peerId)
    await node.services.peerscope.settled()
    base = node.services.peerscope.httpUrl!
  })

  after(async () => {
    await node?.stop()
    await other?.stop()
  })

  test('serves on 127.0.0.1 and needs the token', async () => {
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+\/$/)
    assert.equal((await fetch(new URL('/api/v1/bandwidth', base))).status, 401)
  })

  test('bandwidth routes show the real ping and identify traffic with this peer', async () => {
    const peer = other.peerId.toString()
    const one = await get(`/api/v1/bandwidth/peers/${peer}`)
    assert.equal(one.status, 200)
    assert.ok(one.body.totalOut >= 32 && one.body.totalIn >= 32)
    const protocol = await get(`/api/v1/bandwidth/protocols/${encodeURIComponent('/ipfs/ping/1.0.0')}`)
    assert.equal(protocol.body.totalOut, 32)
    const totals = await get('/api/v1/bandwidth')
    assert.ok(totals.body.totalIn >= one.body.totalIn)
  })

  test('peer routes show connected addresses, protocols and the public key from the real store', async () => {
    const detail = await get(`/api/v1/peers/${other.peerId}`)
    assert.equal(detail.status, 200)
    assert.ok(detail.body.addresses.length > 0)
    for (const address of detail.body.addresses) assert.equal(address.ttlName, 'connected')
    assert.ok(detail.body.protocols.includes('/ipfs/ping/1.0.0'))
    assert.equal(detail.body.connected, true)
    assert.equal(typeof detail.body.publicKey, 'string')
    assert.ok(detail.body.bandwidth.totalOut > 0)
    const list = await get('/api/v1/peers')
    assert.deepEqual(
      list.body.items.map((p: { peerId: string }) => p.peerId),
      [other.peerId.toString()]
    )
    const connections = await get('/api/v1/connections')
    assert.equal(connections.body.connections[0].peerId, other.peerId.toString())
    assert.ok(connections.body.connections[0].bytesOut > 0, 'wire bytes per connection')
  })

  test('/metrics carries bandwidth, libp2p and peer store families', async () => {
    const { status, body } = await get('/metrics')
    assert.equal(status, 200)
    assert.match(body, /^libp2p_transfer_bytes_total\{direction="in"\} \d+/m)
    assert.match(body, /^libp2p_connection_manager_connections/m)
    assert.match(body, /^libp2p_peerstore_peers 1$/m)
  })

  test('node info and an on-demand GC show up in the API', async () => {
    const info = await get('/api/v1/node')
    assert.equal(info.body.node.peerId, node.peerId.toString())
    await node.services.peerscope.gc()
    const stats = await get('/api/v1/peerstore')
    assert.equal(stats.body.peers, 1)
    assert.equal(typeof stats.body.lastGc.at, 'number')
  })

  test('/metrics has the last GC once one ran, and not the lock gauge of the peer store it replaces', async () => {
    const { body } = await get('/metrics')
    const { lastGc } = (await get('/api/v1/peerstore')).body
    assert.ok(lastGc !== null, 'the test above ran a GC')
    assert.match(
      body,
      new RegExp(`^libp2p_peerstore_gc_last_run_timestamp_seconds ${lastGc.at / 1000}$`, 'm')
    )
    assert.match(
      body,
      new RegExp(`^libp2p_peerstore_gc_last_removed_addresses ${lastGc.addressesRemoved}$`, 'm')
    )
    assert.match(body, /^libp2p_peerstore_gc_last_duration_seconds \d/m)
    assert.doesNotMatch(body, /libp2p_peer_store_locks/)
    // libp2p did register it: with its own peer store and our metrics, it is there.
    assert.match(await plainMetricsText(), /^# TYPE libp2p_peer_store_locks gauge$/m)
  })
})

test("one /metrics serves the node's metrics and the application's prom-client registry", async () => {
  const app = new Registry()
  new Counter({ name: 'app_jobs_done_total', help: 'Jobs the application finished', registers: [app] }).inc(
    42
  )
  const ps = peerscope({ peerStore: { memory: true }, http: { port: 0 }, metrics: { registries: [app] } })
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    metrics: ps.metrics,
    services: { identify: identify(), peerscope: ps.service }
  })
  try {
    const body = await (await fetch(new URL('/metrics', node.services.peerscope.httpUrl))).text()
    assert.match(body, /^app_jobs_done_total 42$/m)
    assert.match(body, /^libp2p_transfer_bytes_total\{direction="in"\} \d+$/m)
    assert.match(body, /^libp2p_peerstore_peers 0$/m)
    assert.match(body, /^process_cpu_seconds_total \S+$/m)
    const types = [...body.matchAll(/^# TYPE (\S+) /gm)].map(([, name]) => name)
    assert.equal(new Set(types).size, types.length, 'one TYPE line per family')
  } finally {
    await node.stop()
  }
})
