import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import type { Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import type { PeerscopeMetrics } from '@peerscope/metrics'
import { ConnectedAddrTTL, openPeerStore, RecentlyConnectedAddrTTL } from '@peerscope/peerstore-level'
import { peerscope } from '@peerscope/swarm-adapter'
import { createLibp2p } from 'libp2p'
import { MemoryLevel } from 'memory-level'
import { goSkipReason } from '../src/go-binary.ts'
import { echoPattern, type GoBandwidth, GoNode, type GoStats } from '../src/go-node.ts'

// A peerscope JS node and a go-libp2p v0.52.0 host over tcp+noise+yamux on 127.0.0.1 (issue 6, live interop).
const skip = goSkipReason()
if (skip !== undefined) console.log(`# skipped: ${skip}`)

const ECHO = '/peerscope/echo/1.0.0'
const PING = '/ipfs/ping/1.0.0'
const IDENTIFY = '/ipfs/id/1.0.0'
const MiB = 1024 * 1024
const CHUNK = 64 * 1024

function jsNode() {
  const ps = peerscope({ peerStore: { memory: true }, latencySampleInterval: 100 })
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // The connection monitor's own pings are what fill `connection.rtt`; run them often enough to observe one.
    connectionMonitor: { pingInterval: 1000 },
    metrics: ps.metrics,
    services: { identify: identify(), ping: ping(), peerscope: ps.service }
  })
}
type JsNode = Awaited<ReturnType<typeof jsNode>>

async function eventually(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  assert.fail(`timed out waiting for ${what}`)
}

/** Sends `payload` in chunks, closes the write side, and returns everything read back until the remote closes. */
async function sendAndReadBack(stream: Stream, payload: Uint8Array): Promise<Uint8Array> {
  const reading = (async () => {
    const parts: Uint8Array[] = []
    for await (const chunk of stream) parts.push(chunk.subarray())
    return Buffer.concat(parts)
  })()
  for (let i = 0; i < payload.byteLength; i += CHUNK) {
    if (!stream.send(payload.subarray(i, i + CHUNK))) await stream.onDrain()
  }
  await stream.close()
  return new Uint8Array(await reading)
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64')

const PING_BYTES = 32

/** Bytes one side of a multistream-select 1.0.0 handshake writes: the header and the protocol, each a
 * varint-length-prefixed line. Both sides write the same two lines, so it is also what each side reads. */
function negotiationBytes(protocol: string): number {
  const line = (text: string) => {
    const n = Buffer.byteLength(text) + 1
    return n + (n < 128 ? 1 : 2)
  }
  return line('/multistream/1.0.0') + line(protocol)
}

function inOut(stats: { totalIn: number; totalOut: number } | undefined): GoStats {
  return { totalIn: stats?.totalIn ?? 0, totalOut: stats?.totalOut ?? 0 }
}

/** What a go counter gained between two reads (absent = zero, go creates entries lazily). */
function delta(start: GoBandwidth, end: GoBandwidth, pick: (b: GoBandwidth) => GoStats | undefined): GoStats {
  const a = inOut(pick(end))
  const b = inOut(pick(start))
  return { totalIn: a.totalIn - b.totalIn, totalOut: a.totalOut - b.totalOut }
}

describe('live interop: peerscope JS node ↔ go-libp2p v0.52.0 host', { skip, timeout: 30_000 }, () => {
  let node: JsNode
  let go: GoNode
  let goPeer: ReturnType<typeof peerIdFromString>
  let jsId: string

  before(async () => {
    go = await GoNode.start()
    node = await jsNode()
    await node.handle(ECHO, async (stream) => {
      for await (const chunk of stream) if (!stream.send(chunk)) await stream.onDrain()
      await stream.close()
    })
    goPeer = peerIdFromString(go.id)
    jsId = node.peerId.toString()
  })

  // Always runs, even after a failure in before(): the Go process must not outlive the test.
  after(async () => {
    await go?.close()
    await node?.stop()
  })

  it('identify: each peer store holds the other side’s protocols, listen addresses and public key', async () => {
    const identified = new Promise<void>((resolve) =>
      node.addEventListener('peer:identify', (e) => e.detail.peerId.equals(goPeer) && resolve())
    )
    await node.dial(multiaddr(`${go.addrs[0]}/p2p/${go.id}`))
    await identified
    await node.services.peerscope.settled()

    const store = await node.services.peerscope.store()
    const protocols = store.getProtocols(goPeer)
    for (const p of [ECHO, PING, IDENTIFY]) assert.ok(protocols.includes(p), `JS store lacks go's ${p}`)
    const infos = store.addrInfos(goPeer)
    assert.deepEqual(infos.map((a) => a.multiaddr.toString()).sort(), [...go.addrs].sort())
    for (const info of infos) assert.equal(info.ttl, ConnectedAddrTTL, `${info.multiaddr} while connected`)
    const key = store.pubKey(goPeer)
    assert.ok(key !== undefined, 'JS store holds go’s public key')
    assert.ok(key.equals(goPeer.publicKey), 'the key go’s peer id embeds')

    // go records identify on its own goroutine: poll its view until the echo protocol shows up.
    await eventually('go identify of the JS node', async () =>
      (await go.peerstore(jsId)).protocols.includes(ECHO)
    )
    const view = await go.peerstore(jsId)
    for (const p of [ECHO, PING, IDENTIFY]) assert.ok(view.protocols.includes(p), `go store lacks JS's ${p}`)
    for (const addr of node.getMultiaddrs()) {
      const plain = addr.decapsulateCode(421).toString()
      assert.ok(view.addrs.includes(plain), `go store lacks JS listen addr ${plain}: ${view.addrs}`)
    }
    assert.equal(view.connected, true)
    assert.ok(node.peerId.publicKey !== undefined)
    assert.equal(view.publicKey, b64(publicKeyToProtobuf(node.peerId.publicKey)))
  })

  it('echo 1 MiB each way; both bandwidth counters agree on the echo payload bytes', async () => {
    const start = await go.bandwidth()
    const payload = echoPattern(MiB)
    const stream = await node.dialProtocol(goPeer, ECHO)
    const back = await sendAndReadBack(stream, payload)
    assert.equal(back.byteLength, MiB)
    assert.ok(Buffer.from(back).equals(payload), 'go echoed the JS payload unchanged')
    assert.deepEqual(await go.echo(jsId, MiB), { bytes: MiB })
    const end = await go.bandwidth()

    // JS counts a protocol stream from the moment it is negotiated: exactly the payload, per protocol and per peer.
    const js = node.metrics as PeerscopeMetrics
    const snapshot = js.snapshot()
    const payloadBytes = { totalIn: 2 * MiB, totalOut: 2 * MiB }
    assert.deepEqual(inOut(snapshot.protocols[ECHO]), payloadBytes)
    assert.deepEqual(inOut(snapshot.peerProtocols[go.id]?.[ECHO]), payloadBytes)
    // DIFFERENCES.md negotiationBytesUnderEmptyProtocol: peerscope books no handshake under "".
    assert.equal(snapshot.protocols[''], undefined)

    // go counts the stream it opened from its first write (protocol set before the lazy handshake), so its
    // echo protocol also holds that one stream's multistream-select bytes, each way; the stream JS opened was
    // negotiated under protocol "" (DIFFERENCES.md, negotiationBytesUnderEmptyProtocol).
    const echo = delta(start, end, (b) => b.byProtocol[ECHO])
    assert.deepEqual(echo, {
      totalIn: 2 * MiB + negotiationBytes(ECHO),
      totalOut: 2 * MiB + negotiationBytes(ECHO)
    })
    // Under "": the echo stream JS opened, plus one ping negotiation per ping the JS connection monitor sent.
    const pings = delta(start, end, (b) => b.byProtocol[PING]).totalIn / PING_BYTES
    assert.ok(Number.isInteger(pings), 'whole pings only')
    const negotiated = negotiationBytes(ECHO) + pings * negotiationBytes(PING)
    assert.deepEqual(
      delta(start, end, (b) => b.byProtocol['']),
      { totalIn: negotiated, totalOut: negotiated }
    )

    // Per peer, go's counter is the sum of its protocols (the JS node is its only peer): payload plus every
    // negotiation byte. Taking those away leaves exactly the payload JS counts for go on the echo protocol.
    const peer = delta(start, end, (b) => b.byPeer[jsId])
    const sum = (pick: (s: GoStats) => number) =>
      Object.keys(end.byProtocol).reduce(
        (total, p) => total + pick(delta(start, end, (b) => b.byProtocol[p])),
        0
      )
    assert.deepEqual(peer, { totalIn: sum((s) => s.totalIn), totalOut: sum((s) => s.totalOut) })
    const pingPayload = pings * PING_BYTES
    assert.deepEqual(
      {
        totalIn: peer.totalIn - 2 * negotiationBytes(ECHO) - pings * negotiationBytes(PING) - pingPayload,
        totalOut: peer.totalOut - 2 * negotiationBytes(ECHO) - pings * negotiationBytes(PING) - pingPayload
      },
      inOut(snapshot.peerProtocols[go.id]?.[ECHO])
    )
  })

  it('a ping RTT is recorded on both sides', async () => {
    const rtt = await node.services.ping.ping(goPeer)
    assert.ok(rtt >= 0)
    const store = await node.services.peerscope.store()
    await eventually(
      'the connection monitor’s RTT in the JS latency EWMA',
      () => store.latencyEWMA(goPeer) > 0
    )
    const { rttMs } = await go.ping(jsId)
    assert.ok(Number.isFinite(rttMs) && rttMs > 0, `go ping RTT ${rttMs} ms`)
  })

  it("go's LatencyEWMA for its pings equals peerscope's EWMA of the same RTTs", async () => {
    const { rttNs, ewmaBeforeNs, ewmaNs } = await go.pings(jsId, 8)
    assert.ok(rttNs.length >= 8 && rttNs.every((ns) => Number.isInteger(ns) && ns > 0), `RTTs ${rttNs}`)
    // The same samples through peerscope's store: go's state before the pings (if any) is its first sample.
    const store = await openPeerStore({ db: new MemoryLevel() })
    try {
      const js = peerIdFromString(jsId)
      if (ewmaBeforeNs > 0) store.recordLatency(js, ewmaBeforeNs / 1e6)
      for (const ns of rttNs) store.recordLatency(js, ns / 1e6)
      const ours = store.latencyEWMA(js)
      // DIFFERENCES.md latencyNanosecondTruncation: go truncates to whole ns at every sample.
      const samples = rttNs.length + (ewmaBeforeNs > 0 ? 1 : 0)
      assert.ok(
        Math.abs(ours * 1e6 - ewmaNs) <= samples,
        `go ${ewmaNs} ns, peerscope ${ours * 1e6} ns over ${samples} samples`
      )
      assert.notEqual(ewmaNs, rttNs.at(-1), 'an average, not the last sample')
    } finally {
      await store.close()
    }
  })

  it('after the disconnect: JS holds go’s addrs at RecentlyConnectedAddrTTL; go still has the JS addrs', async () => {
    const disconnected = new Promise<void>((resolve) =>
      node.addEventListener('peer:disconnect', (e) => e.detail.equals(goPeer) && resolve())
    )
    await go.disconnect(jsId)
    await disconnected
    await node.services.peerscope.settled()
    const store = await node.services.peerscope.store()
    const infos = store.addrInfos(goPeer)
    assert.deepEqual(infos.map((a) => a.multiaddr.toString()).sort(), [...go.addrs].sort())
    for (const info of infos)
      assert.equal(info.ttl, RecentlyConnectedAddrTTL, `${info.multiaddr} after disconnect`)
    const view = await go.peerstore(jsId)
    assert.equal(view.connected, false)
    assert.ok(view.addrs.length > 0, 'go keeps the addrs (at its RecentlyConnectedAddrTTL)')
  })
})
