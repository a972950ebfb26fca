import assert from 'node:assert/strict'
import { test } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import type { Connection } from '@libp2p/interface'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { StreamOwners } from '../src/libp2p/stream-owners.ts'

function node() {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), ping: ping() }
  })
}

test('streams of a watched connection are attributed without scanning any connection list', async () => {
  const a = await node()
  const b = await node()
  try {
    // Protocols of this test only: libp2p's own (ping, identify) limit concurrent streams per connection.
    for (const protocol of ['/test/a/1.0.0', '/test/b/1.0.0'])
      await b.handle(protocol, (stream) => stream.close())
    const connection = await a.dial(b.getMultiaddrs()[0]!)
    let scans = 0
    const owners = new StreamOwners(() => {
      scans++
      return [] as Connection[]
    })
    owners.watch(connection)
    const streams = await Promise.all(['/test/a/1.0.0', '/test/b/1.0.0'].map((p) => connection.newStream(p)))
    for (const stream of streams) assert.equal(owners.owner(stream), connection)
    assert.equal(scans, 0, 'no fallback scan was needed')
    for (const stream of streams) await stream.close()
  } finally {
    await a.stop()
    await b.stop()
  }
})

test('a stream of an unwatched connection is found by one scan, then cached', async () => {
  const a = await node()
  const b = await node()
  try {
    const connection = await a.dial(b.getMultiaddrs()[0]!)
    let scans = 0
    const owners = new StreamOwners(() => {
      scans++
      return [connection]
    })
    const stream = await connection.newStream('/ipfs/ping/1.0.0')
    assert.equal(owners.owner(stream), connection)
    assert.equal(owners.owner(stream), connection)
    assert.equal(scans, 1)
    await stream.close()
  } finally {
    await a.stop()
    await b.stop()
  }
})
