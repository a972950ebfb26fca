import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import type { HistoryOptions } from '../src/history/history.ts'
import type { ConnectionView, HistoryPage, PeerDetail } from '../src/http/view.ts'
import { peerscope } from '../src/index.ts'
import { eventually, plainNode, scopedNode } from './helpers/nodes.ts'

function node(history?: HistoryOptions | false) {
  const ps = peerscope({
    peerStore: { memory: true },
    http: { port: 0 },
    ...(history === undefined ? {} : { history })
  })
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    metrics: ps.metrics,
    services: { identify: identify(), ping: ping(), peerscope: ps.service }
  })
}

describe('history and stream counts of a real node', () => {
  test('samples every fine interval; counts every stream a connection opened, short-lived ones included', async () => {
    const a = await node({
      fine: { intervalMs: 200, samples: 50 },
      coarse: { intervalMs: 1000, samples: 10 }
    })
    const b = await plainNode()
    const get = async <T>(path: string): Promise<T> =>
      (await (await fetch(new URL(`api/v1/${path}`, a.services.peerscope.httpUrl))).json()) as T
    try {
      await a.dial(b.getMultiaddrs()[0]!)
      for (let i = 0; i < 12; i++) await a.services.ping.ping(b.peerId)
      const { connections } = await get<{ connections: ConnectionView[] }>('connections')
      assert.equal(connections.length, 1)
      // Identify and 12 pings, each closed again at once: `streams` (open now) misses them, the tally does not.
      assert.ok((connections[0]?.streamsOpened ?? 0) >= 13, JSON.stringify(connections[0]))
      assert.ok((connections[0]?.streams ?? 0) < (connections[0]?.streamsOpened ?? 0))
      const detail = await get<PeerDetail>(`peers/${b.peerId}`)
      assert.ok((detail.protocolBandwidth['/ipfs/ping/1.0.0']?.totalOut ?? 0) >= 12 * 32, 'its ping traffic')
      assert.deepEqual(
        detail.connections.map((c) => c.id),
        [connections[0]?.id]
      )
      await eventually('a coarse sample and five fine ones', async () => {
        const [fine, coarse] = await Promise.all([
          get<HistoryPage>('history'),
          get<HistoryPage>('history?resolution=coarse')
        ])
        return fine.t.length >= 5 && coarse.t.length >= 1
      })
      const fine = await get<HistoryPage>('history')
      assert.equal(fine.intervalMs, 200)
      assert.equal(fine.capacity, 50)
      assert.ok(fine.t.length >= 5)
      const gaps = fine.t.slice(1).map((t, i) => t - (fine.t[i] ?? 0))
      assert.ok(
        gaps.every((g) => g > 0),
        'samples in time order'
      )
      const opened = fine.totals.streamsOpened.reduce<number>((s, v) => s + (v ?? 0), 0)
      assert.ok(opened >= 12, `streams opened over the samples: ${opened}`)
      assert.equal(fine.totals.connections.at(-1), 1)
      assert.equal(fine.totals.outbound.at(-1), 1)
      // The peer store is recounted when the connections change (or every 10 s): it soon shows the peer.
      await eventually(
        'the peer store count',
        async () => (await get<HistoryPage>('history')).totals.peers.at(-1) === 1,
        15_000
      )
    } finally {
      await a.stop()
      await b.stop()
    }
  })

  test('history: false keeps none; bad history options fail at creation with a typed error', async () => {
    const a = await node(false)
    try {
      const page = (await (
        await fetch(new URL('api/v1/history', a.services.peerscope.httpUrl))
      ).json()) as HistoryPage
      assert.deepEqual([page.capacity, page.t], [0, []])
    } finally {
      await a.stop()
    }
    // Checked by peerscope() itself, before a node is made.
    assert.throws(() => node({ fine: { samples: 0 } }), {
      code: 'ERR_INVALID_OPTIONS',
      option: 'history.fine.samples'
    })
  })

  test('a node without metrics: no stream counts and no rates, the rest is still sampled', async () => {
    const a = await scopedNode({ peerStore: { memory: true }, http: { port: 0 } })
    const b = await plainNode()
    const get = async <T>(path: string): Promise<T> =>
      (await (await fetch(new URL(`api/v1/${path}`, a.services.peerscope.httpUrl))).json()) as T
    try {
      await a.dial(b.getMultiaddrs()[0]!)
      await a.services.ping.ping(b.peerId)
      const { connections } = await get<{ connections: ConnectionView[] }>('connections')
      assert.equal(connections[0]?.streamsOpened, null)
      await eventually('a sample with the connection', async () => {
        const h = await get<HistoryPage>('history')
        return h.totals.connections.at(-1) === 1
      })
      const h = await get<HistoryPage>('history')
      assert.equal(h.totals.rateIn.at(-1), null)
      assert.equal(h.totals.streamsOpened.at(-1), null)
      assert.deepEqual([h.protocols, h.peers], [[], []])
    } finally {
      await a.stop()
      await b.stop()
    }
  })
})
