import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type HttpServer, startHttpServer } from '../src/http/index.ts'
import type { PeerSummary } from '../src/http/view.ts'
import { MemoryView } from './fixtures/memory-view.ts'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Json = any

describe('peer list: search, filter, sort, pages', () => {
  let view: MemoryView
  let server: HttpServer
  const get = async (path: string): Promise<{ status: number; body: Json }> => {
    const res = await fetch(new URL(`api/v1/${path}`, server.url))
    return { status: res.status, body: await res.json() }
  }
  const all = async (query: string): Promise<PeerSummary[]> =>
    (await get(`peers?limit=1000&${query}`)).body.items

  before(async () => {
    view = await MemoryView.create({ peers: 120, connected: 9 })
    for (let i = 0; i < 3; i++) view.grow(100_000)
    server = await startHttpServer({ view })
  })
  after(() => server.close())

  it('default order is by peer id; pages tile the list with no gap and no repeat', async () => {
    const full = await all('')
    assert.equal(full.length, 120)
    const ids = full.map((p) => p.peerId)
    assert.deepEqual(ids, [...ids].sort())
    const paged: string[] = []
    for (let offset = 0; offset < 120; offset += 25) {
      const { body } = await get(`peers?limit=25&offset=${offset}`)
      assert.equal(body.total, 120)
      paged.push(...body.items.map((p: PeerSummary) => p.peerId))
    }
    assert.deepEqual(paged, ids)
  })

  it('summaries carry agent, pins and bandwidth', async () => {
    const connected = await all('connected=true')
    assert.equal(connected.length, view.connectedIds.length)
    for (const p of connected) {
      assert.deepEqual(p.bandwidth, view.bandwidthForPeer(p.peerId))
      const detail = await view.peer(p.peerId)
      assert.equal(p.agent, detail?.agent)
      assert.deepEqual(p.pins, detail?.pins)
    }
    const stored = await all('connected=false')
    assert.equal(stored.length, 120 - view.connectedIds.length)
    assert.ok(stored.every((p) => !p.connected && p.bandwidth === null))
  })

  it('sorts by rate, most first, and by latency with unknown values last in either order', async () => {
    const byRate = await all('sort=rate')
    const rates = byRate.slice(0, 9).map((p) => (p.bandwidth?.rateIn ?? 0) + (p.bandwidth?.rateOut ?? 0))
    assert.deepEqual(
      rates,
      [...rates].sort((a, b) => b - a)
    )
    assert.ok(
      byRate.slice(9).every((p) => p.bandwidth === null),
      'peers without traffic come last'
    )
    for (const order of ['asc', 'desc']) {
      const list = await all(`sort=latency&order=${order}`)
      const known = list.filter((p) => p.latencyMs !== null).map((p) => p.latencyMs as number)
      assert.deepEqual(
        known,
        [...known].sort((a, b) => (order === 'asc' ? a - b : b - a))
      )
      const firstNull = list.findIndex((p) => p.latencyMs === null)
      assert.ok(firstNull > 0 && list.slice(firstNull).every((p) => p.latencyMs === null), order)
    }
    const byAgent = await all('sort=agent&order=desc')
    assert.equal(byAgent[0]?.agent, 'kubo/0.29.0/')
  })

  it('searches the id, agent, addresses and protocols, case-insensitively', async () => {
    const target = view.peerIds[17] ?? ''
    assert.deepEqual(
      (await all(`q=${target.slice(-10).toLowerCase()}`)).map((p) => p.peerId),
      [target]
    )
    const goIpfs = await all('q=GO-IPFS')
    assert.ok(goIpfs.length > 0 && goIpfs.every((p) => p.agent?.startsWith('go-ipfs')))
    const dns = await all(`q=${encodeURIComponent('/dns4/')}`)
    assert.equal(dns.length, 120 / 5)
    const relay = await all(`q=${encodeURIComponent('circuit/relay')}&connected=true`)
    for (const p of relay) {
      const detail = await view.peer(p.peerId)
      assert.ok(detail?.protocols.some((x) => x.includes('circuit/relay')))
    }
    const { body } = await get('peers?q=no-such-thing-anywhere')
    assert.deepEqual([body.total, body.items], [0, []])
  })

  it('bad parameters get 400 ERR_BAD_PARAMETER naming the parameter', async () => {
    const cases: Array<[string, RegExp]> = [
      ['sort=bandwidth', /"sort" must be one of id, connected, rate/],
      ['order=up', /"order" must be one of asc, desc/],
      ['connected=yes', /"connected" must be one of true, false/],
      [`q=${'x'.repeat(257)}`, /"q" is limited to 256 characters/],
      ['sort=rate&sort=id', /"sort" is given more than once/]
    ]
    for (const [query, message] of cases) {
      const { status, body } = await get(`peers?${query}`)
      assert.equal(status, 400, query)
      assert.equal(body.error.code, 'ERR_BAD_PARAMETER')
      assert.match(body.error.message, message)
    }
  })
})

describe('history routes', () => {
  let view: MemoryView
  let server: HttpServer
  const start = 1_800_000_000_000
  const get = async (path: string): Promise<{ status: number; body: Json }> => {
    const res = await fetch(new URL(`api/v1/${path}`, server.url))
    return { status: res.status, body: await res.json() }
  }

  before(async () => {
    view = await MemoryView.create({ peers: 30, connected: 5 })
    for (let i = 0; i < 150; i++) view.grow(50_000 + i * 100, { at: start + i * 1000 })
    server = await startHttpServer({ view })
  })
  after(() => server.close())

  it('serves what the node recorded, in time order; `since` returns only newer samples', async () => {
    const { status, body } = await get('history')
    assert.equal(status, 200)
    assert.equal(body.resolution, 'fine')
    assert.equal(body.intervalMs, 1000)
    assert.equal(body.capacity, 3600)
    assert.equal(body.t.length, 150)
    assert.deepEqual(body.t.slice(0, 2), [start, start + 1000])
    for (const column of Object.values(body.totals) as unknown[][]) assert.equal(column.length, 150)
    assert.equal(body.totals.totalIn.at(-1), view.bandwidthTotals().totalIn)
    assert.equal(body.totals.connections[0], 5)
    assert.ok(body.protocols.length === 7 && body.peers.length === 5)
    const since = await get(`history?since=${start + 147_000}`)
    assert.deepEqual(since.body.t, [start + 148_000, start + 149_000])
    const limited = await get('history?peers=2&protocols=1')
    assert.deepEqual([limited.body.peers.length, limited.body.protocols.length], [2, 1])
    // The busiest peer (the first connected one) ranks first.
    assert.equal(limited.body.peers[0].id, view.connectedIds[0])
  })

  it('coarse samples are the means of their minute', async () => {
    const { body } = await get('history?resolution=coarse')
    assert.equal(body.intervalMs, 60_000)
    const fine = (await get('history')).body
    const minute = Math.floor(start / 60_000) * 60_000
    assert.equal(body.t[0], minute)
    const inFirst = fine.t
      .map((t: number, i: number) => [t, i])
      .filter(([t]: number[]) => (t ?? 0) < minute + 60_000)
    const mean =
      inFirst.reduce((s: number, [, i]: number[]) => s + fine.totals.rateIn[i ?? 0], 0) / inFirst.length
    // Rates of 1,000 B/s and more are answered in whole bytes.
    assert.ok(Math.abs(body.totals.rateIn[0] - mean) <= 0.5, `${body.totals.rateIn[0]} vs ${mean}`)
  })

  it('a peer over time, with its protocols; a peer never among the busiest has only nulls', async () => {
    const busy = view.connectedIds[0] ?? ''
    const { status, body } = await get(`history/peers/${busy}`)
    assert.equal(status, 200)
    assert.equal(body.peerId, busy)
    assert.equal(body.t.length, 150)
    assert.ok(body.rateIn.every((v: number | null) => v !== null && v > 0))
    assert.equal(body.rateIn.at(-1), view.bandwidthForPeer(busy)?.rateIn)
    assert.ok(body.protocols.length > 0)
    const idle = view.peerIds.at(-1) ?? ''
    const quiet = (await get(`history/peers/${idle}`)).body
    assert.ok(quiet.rateIn.every((v: number | null) => v === null))
  })

  it('bad parameters get 400 with a stable code', async () => {
    for (const [path, code] of [
      ['history?resolution=minute', 'ERR_BAD_PARAMETER'],
      ['history?peers=65', 'ERR_BAD_PARAMETER'],
      ['history?since=-1', 'ERR_BAD_PARAMETER'],
      ['history/peers/not-a-peer', 'ERR_INVALID_PEER_ID'],
      [`history/peers/${view.connectedIds[0]}?protocols=x`, 'ERR_BAD_PARAMETER']
    ]) {
      const { status, body } = await get(path ?? '')
      assert.equal(status, 400, path)
      assert.equal(body.error.code, code, path)
    }
  })
})
