import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { libp2pMetrics, type PeerscopeMetrics } from '@peerscope/metrics'
import { createLibp2p } from 'libp2p'
import { pEvent } from 'p-event'

const ECHO = '/peerscope-test/echo/1.0.0'
const MiB = 1024 * 1024

type MeteredNode = Libp2p<{ ping: ReturnType<ReturnType<typeof ping>> }> & { metrics: PeerscopeMetrics }

async function meteredNode(): Promise<MeteredNode> {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    metrics: libp2pMetrics({ prometheus: { perPeer: true } }),
    services: { identify: identify(), ping: ping() }
  })
  await node.handle(ECHO, async (stream: Stream) => {
    for await (const chunk of stream) {
      if (!stream.send(chunk)) await pEvent(stream, 'drain')
    }
    await stream.close()
  })
  return node as unknown as MeteredNode
}

/** A deterministic pattern, so the echo can be checked byte for byte without keeping a copy. */
function patternByte(offset: number): number {
  return (offset * 31 + (offset >>> 11)) & 0xff
}

async function echoTransfer(from: Libp2p, to: PeerId, total: number, chunk: number): Promise<number> {
  const stream = await from.dialProtocol(to, ECHO)
  let received = 0
  let mismatches = 0
  const reading = (async () => {
    for await (const data of stream) {
      const view = data.subarray()
      for (let i = 0; i < view.byteLength; i++) if (view[i] !== patternByte(received + i)) mismatches++
      received += view.byteLength
    }
  })()
  for (let offset = 0; offset < total; offset += chunk) {
    const size = Math.min(chunk, total - offset)
    const buf = new Uint8Array(size)
    for (let i = 0; i < size; i++) buf[i] = patternByte(offset + i)
    if (!stream.send(buf)) await pEvent(stream, 'drain')
  }
  await stream.close()
  await reading
  assert.equal(received, total, 'every byte came back')
  return mismatches
}

describe('libp2pMetrics in real nodes (tcp, noise, yamux, identify, ping)', () => {
  let a: MeteredNode
  let b: MeteredNode

  before(async () => {
    a = await meteredNode()
    b = await meteredNode()
    const identified = pEvent(a, 'peer:identify')
    await a.dial(b.getMultiaddrs()[0]!)
    await identified
  })

  after(async () => {
    await a?.stop()
    await b?.stop()
  })

  test('identify and ping still work, and their streams are counted per protocol and peer', async () => {
    const rtt = await a.services.ping.ping(b.peerId)
    assert.ok(rtt >= 0)
    const pingStats = a.metrics.bandwidth.forPeerProtocol(b.peerId.toString(), '/ipfs/ping/1.0.0')
    assert.equal(pingStats?.totalOut, 32, 'one 32-byte ping out')
    assert.equal(pingStats?.totalIn, 32, 'one 32-byte pong in')
    assert.ok((a.metrics.bandwidth.forProtocol('/ipfs/id/1.0.0')?.totalIn ?? 0) > 0, 'identify counted')
  })

  test('a 64 MiB echo transfer arrives intact and is counted exactly on both sides', async () => {
    const peerA = a.peerId.toString()
    const peerB = b.peerId.toString()
    const beforeA = a.metrics.bandwidth.forPeerProtocol(peerB, ECHO) ?? { totalIn: 0, totalOut: 0 }
    const beforeB = b.metrics.bandwidth.forPeerProtocol(peerA, ECHO) ?? { totalIn: 0, totalOut: 0 }
    const mismatches = await echoTransfer(a, b.peerId, 64 * MiB, 64 * 1024)
    assert.equal(mismatches, 0, 'the data came back byte for byte')
    const afterA = a.metrics.bandwidth.forPeerProtocol(peerB, ECHO)!
    const afterB = b.metrics.bandwidth.forPeerProtocol(peerA, ECHO)!
    assert.equal(afterA.totalOut - beforeA.totalOut, 64 * MiB, 'a sent 64 MiB to b on echo')
    assert.equal(afterA.totalIn - beforeA.totalIn, 64 * MiB, 'a received 64 MiB back')
    assert.equal(afterB.totalIn - beforeB.totalIn, 64 * MiB, 'b received 64 MiB from a')
    assert.equal(afterB.totalOut - beforeB.totalOut, 64 * MiB, 'b echoed 64 MiB')
    assert.ok(a.metrics.bandwidth.forPeer(peerB)!.totalOut >= 64 * MiB)
    // Wire bytes include noise and yamux overhead, so they exceed the payload.
    const wire = Object.values(a.metrics.snapshot().connections)
    assert.equal(wire.length, 1)
    assert.ok(wire[0]!.totalOut > 64 * MiB && wire[0]!.peer === peerB)
  })

  test('libp2p registers its own metrics and they are exported', async () => {
    const text = await a.metrics.prometheus()
    assert.match(text, /^libp2p_connection_manager_connections\{/m)
    assert.match(text, /^libp2p_transfer_bytes_total\{direction="out"\} \d+/m)
    assert.match(
      text,
      /^libp2p_protocol_transfer_bytes_total\{protocol="\/peerscope-test\/echo\/1.0.0",direction="in"\}/m
    )
    assert.match(
      text,
      new RegExp(`^libp2p_peer_transfer_bytes_total\\{peer="${b.peerId}",direction="in"\\}`, 'm')
    )
  })

  test('the exposition passes promtool check metrics', (t) => {
    const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p))
    if (promtool === undefined) {
      if (process.env.CI === 'true')
        assert.fail('promtool is required under CI=true (script/setup-test-deps installs it)')
      t.skip('promtool not installed (apt-get install prometheus; script/setup-test-deps does it)')
      return
    }
    return a.metrics.prometheus().then((text) => {
      const result = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' })
      // promtool exits 1 for lint findings too; only "error" lines mean the text does not parse.
      const output = `${result.stdout}${result.stderr}`
      assert.doesNotMatch(output, /error/i, output)
    })
  })

  test('JSON snapshot is plain data', () => {
    const snapshot = a.metrics.snapshot()
    const copy = JSON.parse(JSON.stringify(snapshot))
    assert.deepEqual(copy, snapshot)
    assert.ok(snapshot.peers[b.peerId.toString()] !== undefined)
    assert.ok(snapshot.protocols[ECHO] !== undefined)
  })
})
