import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import type { Stream } from '@libp2p/interface'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { pEvent } from 'p-event'
import { peerscope } from '../src/index.ts'
import { runCleanup, tempDir } from './helpers/nodes.ts'
import { goTime, type Json, PrometheusServer, poll, skip } from './helpers/prometheus.ts'

// A real Prometheus server scrapes the /metrics of two real nodes: the proof that the exposition is valid for the
// parser that matters.
// Quotes, a backslash and non-ASCII: label values that only survive if our escaping matches the parser's.
const ECHO = '/peerscope-test/echo "quoted" \\ ünï/1.0.0'
const PING = '/ipfs/ping/1.0.0'
const ECHO_BYTES = 300_000
const TOKEN = 'prometheus-test-token'
/**
 * The `prometheus.yml` block documented in packages/metrics/README.md, with its interval, target and token
 * replaced: the test runs what the README tells users to write, and fails if the README drifts.
 */
function documentedConfig(target: string, token: string): string {
  const readme = readFileSync(new URL('../../metrics/README.md', import.meta.url), 'utf8')
  const section = readme.slice(readme.indexOf('### Scraping it with Prometheus'))
  const block = /```yaml\n([\s\S]*?)```/.exec(section)?.[1]
  assert.ok(
    block !== undefined,
    'packages/metrics/README.md has a yaml block under "Scraping it with Prometheus"'
  )
  const replace = (text: string, from: string, to: string) => {
    assert.equal(text.split(from).length - 1, 1, `the README block contains ${from} once`)
    return text.replace(from, to)
  }
  let config = replace(block, 'scrape_interval: 15s', 'scrape_interval: 1s')
  config = replace(config, "'127.0.0.1:9102'", `'${target}'`)
  config = replace(config, 'credentials: change-me', `credentials: ${token}`)
  assert.match(
    config,
    /\nscrape_configs:\n[\s\S]*\n$/,
    'scrape_configs is the last key, so jobs can be appended'
  )
  return config
}

async function scopedNode(http: { port: number; token?: string }) {
  const ps = peerscope({ peerStore: { memory: true }, http, metrics: { prometheus: { perPeer: true } } })
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // The monitor pings every 10 s on its own: off, so no byte moves after the test's traffic stops.
    connectionMonitor: { enabled: false },
    metrics: ps.metrics,
    services: { identify: identify(), ping: ping(), peerscope: ps.service }
  })
  // Registered before the dial: a handler added later triggers an identify push, i.e. more traffic.
  await node.handle(ECHO, async (stream: Stream) => {
    for await (const chunk of stream) {
      if (!stream.send(chunk)) await pEvent(stream, 'drain')
    }
    await stream.close()
  })
  return node
}
type Node = Awaited<ReturnType<typeof scopedNode>>

async function echo(from: Node, to: Node, total: number): Promise<void> {
  const stream = await from.dialProtocol(to.peerId, ECHO)
  let received = 0
  const reading = (async () => {
    for await (const data of stream) received += data.byteLength
  })()
  for (let offset = 0; offset < total; offset += 16 * 1024) {
    if (!stream.send(new Uint8Array(Math.min(16 * 1024, total - offset)).fill(offset & 0xff))) {
      await pEvent(stream, 'drain')
    }
  }
  await stream.close()
  await reading
  assert.equal(received, total, 'the echo came back whole')
}

interface Series {
  name: string
  labels: Record<string, string>
  value: number
}

/** Our text as Prometheus should read it: families (HELP and TYPE) and samples with unescaped label values. */
function exposition(text: string): {
  families: Map<string, { type: string; help: string }>
  series: Series[]
} {
  const families = new Map<string, { type: string; help: string }>()
  const series: Series[] = []
  const helps = new Map<string, string>()
  const unquote = (value: string) => value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
  for (const line of text.split('\n')) {
    const help = /^# HELP (\S+) (.*)$/.exec(line)
    const type = /^# TYPE (\S+) (\S+)$/.exec(line)
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (help !== null) helps.set(help[1]!, unquote(help[2]!))
    else if (type !== null) families.set(type[1]!, { type: type[2]!, help: helps.get(type[1]!) ?? '' })
    else if (sample !== null) {
      const labels: Record<string, string> = {}
      for (const [, key, value] of (sample[2] ?? '').matchAll(
        /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g
      )) {
        labels[key!] = unquote(value!)
      }
      series.push({ name: sample[1]!, labels, value: Number(sample[3]) })
    } else assert.ok(line === '' || line.startsWith('#'), `unparsed exposition line: ${line}`)
  }
  return { families, series }
}

/** A series' identity: name and sorted labels. */
function seriesKey(name: string, labels: Record<string, string>): string {
  return JSON.stringify([name, Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))])
}

// Node's process and runtime series (on by default) change by themselves between our reading and a scrape: their
// values, and some of their label sets (GC kinds, active resource types). They are compared by name only.
const MOVING = /^(process|nodejs)_/
const MOVING_SELECTOR = '__name__=~"(process|nodejs)_.*"'

// The series Prometheus adds to every target itself.
const SYNTHETIC = new Set([
  'up',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'scrape_samples_post_metric_relabeling',
  'scrape_series_added'
])

// Skipped per test (not per suite) so the run's summary counts them as skipped.
describe('a real Prometheus server scrapes /metrics', () => {
  const cleanup: Array<() => unknown> = []
  let a: Node
  let b: Node
  let prometheus: PrometheusServer
  let stoppedAt: number
  // What our own API reported after the traffic stopped.
  let aJson: { peers: Json; protocols: Json; metrics: string }
  let bJson: { peers: Json; protocols: Json; metrics: string }

  const api = async (node: Node, path: string, token?: string) => {
    const headers: Record<string, string> = token === undefined ? {} : { Authorization: `Bearer ${token}` }
    const res = await fetch(new URL(path, node.services.peerscope.httpUrl), { headers })
    assert.equal(res.status, 200, `${path} answered ${res.status}`)
    return res.headers.get('content-type')?.includes('json') === true ? res.json() : res.text()
  }
  const ownView = async (node: Node, token?: string) => ({
    peers: ((await api(node, '/api/v1/bandwidth/peers', token)) as Json).peers,
    protocols: ((await api(node, '/api/v1/bandwidth/protocols', token)) as Json).protocols,
    metrics: (await api(node, '/metrics', token)) as string
  })

  before(async () => {
    if (skip !== false) return
    const dir = await tempDir()
    cleanup.push(dir.remove)
    a = await scopedNode({ port: 0 })
    cleanup.push(() => a.stop())
    b = await scopedNode({ port: 0, token: TOKEN })
    cleanup.push(() => b.stop())

    // B's job is the README's block (with the token); A's has no token; the control job scrapes B without it.
    const host = (node: Node) => new URL(node.services.peerscope.httpUrl!).host
    const config = `${documentedConfig(host(b), TOKEN)}  - job_name: peerscope-a
    static_configs:
      - targets: ['${host(a)}']
  - job_name: peerscope-no-token
    static_configs:
      - targets: ['${host(b)}']
`
    // Started before the traffic, so its start-up overlaps it.
    prometheus = await PrometheusServer.start(config, dir.path)
    cleanup.push(() => prometheus.stop())

    const identified = Promise.all([pEvent(a, 'peer:identify'), pEvent(b, 'peer:identify')])
    await a.dial(b.getMultiaddrs()[0]!)
    await identified
    await a.services.ping.ping(b.peerId)
    await echo(a, b, ECHO_BYTES)
    await a.services.peerscope.settled()
    await b.services.peerscope.settled()
    aJson = await ownView(a)
    bJson = await ownView(b, TOKEN)
    stoppedAt = Date.now()

    // A scrape that started after the traffic stopped, for every job: its values are the final ones.
    await poll('every Prometheus target scraped after the traffic stopped', async () => {
      const targets = await prometheus.targets()
      return (
        targets.size === 3 &&
        [...targets.values()].every((t) => t.lastScrape !== undefined && goTime(t.lastScrape) > stoppedAt)
      )
    })
  })

  after(() => runCleanup(cleanup))

  test('the bandwidth counted is what was sent (so the comparison below compares real figures)', {
    skip
  }, () => {
    assert.equal(aJson.protocols[ECHO].totalOut, ECHO_BYTES)
    assert.equal(aJson.protocols[ECHO].totalIn, ECHO_BYTES)
    assert.equal(bJson.protocols[ECHO].totalIn, ECHO_BYTES)
    assert.equal(aJson.protocols[PING].totalOut, 32)
    assert.deepEqual(Object.keys(aJson.peers), [b.peerId.toString()])
    assert.deepEqual(Object.keys(bJson.peers), [a.peerId.toString()])
  })

  test('both jobs are up with no scrape error, and no sample was dropped', { skip }, async () => {
    const targets = await prometheus.targets()
    for (const job of ['peerscope', 'peerscope-a']) {
      const target = targets.get(job)
      assert.equal(target?.health, 'up', `${job}: ${JSON.stringify(target)}\n${prometheus.log}`)
      assert.equal(target.lastError, '', job)
    }
    const own = await prometheus.selfMetrics()
    for (const name of [
      'prometheus_target_scrapes_sample_duplicate_timestamp_total',
      'prometheus_target_scrapes_sample_out_of_order_total',
      'prometheus_target_scrapes_sample_out_of_bounds_total',
      'prometheus_target_scrapes_exceeded_sample_limit_total'
    ]) {
      assert.equal(own.get(name), 0, `${name} (Prometheus dropped samples of ours)`)
    }
    // Prometheus read as many samples as we wrote lines (distinct series are checked below).
    for (const [job, json] of [
      ['peerscope', bJson],
      ['peerscope-a', aJson]
    ] as const) {
      // One instant for both terms: the last scrape's sample count less its process series.
      const [scraped] = await prometheus.query(
        `scrape_samples_scraped{job="${job}"} - on() count({job="${job}",${MOVING_SELECTOR}})`
      )
      const steady = exposition(json.metrics).series.filter((s) => !MOVING.test(s.name))
      assert.equal(scraped?.value, steady.length, `${job}: samples per scrape, process series aside`)
    }
  })

  test('without the token B answers 401, and Prometheus without it reports the target down', {
    skip
  }, async () => {
    const res = await fetch(new URL('/metrics', b.services.peerscope.httpUrl))
    assert.equal(res.status, 401)
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="peerscope"')
    const target = (await prometheus.targets()).get('peerscope-no-token')
    assert.equal(target?.health, 'down')
    assert.match(target.lastError, /401/)
  })

  test('every family and every series we export is in Prometheus, as we meant it', { skip }, async () => {
    for (const [job, json] of [
      ['peerscope', bJson],
      ['peerscope-a', aJson]
    ] as const) {
      const { families, series } = exposition(json.metrics)
      assert.ok(families.size > 10, `${job}: ${families.size} families`)
      const names = new Set<string>(
        await prometheus.api(`/api/v1/label/__name__/values?match[]=${encodeURIComponent(`{job="${job}"}`)}`)
      )
      const missing = [...new Set(series.map((s) => s.name))].filter((name) => !names.has(name))
      assert.deepEqual(missing, [], `${job}: series names Prometheus does not have`)
      // Metadata is kept for every family, also those without a sample yet.
      const metadata: Json[] = await prometheus.api(
        `/api/v1/targets/metadata?match_target=${encodeURIComponent(`{job="${job}"}`)}`
      )
      const stored = new Map(metadata.map((m) => [m.metric, { type: m.type, help: m.help }]))
      for (const [name, family] of families) {
        assert.deepEqual(stored.get(name), family, `${job}: metadata of ${name}`)
      }
      // The same series, label values unescaped as we meant them. Two lines for one series would be merged
      // silently by Prometheus (it still reports the target up), so the count of distinct series matters too.
      const all = series.map((s) => seriesKey(s.name, s.labels))
      assert.equal(new Set(all).size, all.length, `${job}: a series appears twice in our exposition`)
      assert.ok(
        series.some((s) => MOVING.test(s.name)),
        `${job}: process metrics are on`
      )
      const ours = series.filter((s) => !MOVING.test(s.name)).map((s) => seriesKey(s.name, s.labels))
      const theirs = new Map(
        (await prometheus.query(`{job="${job}"}`))
          .filter((s) => !SYNTHETIC.has(s.metric.__name__!) && !MOVING.test(s.metric.__name__!))
          .map(({ metric: { __name__, job: _job, instance: _instance, ...labels }, value }) => [
            seriesKey(__name__!, labels),
            value
          ])
      )
      assert.deepEqual([...theirs.keys()].sort(), ours.sort(), `${job}: series`)
      // Counters stopped moving with the traffic, so the stored values are the ones we wrote (gauges such as
      // the rates keep decaying between our reading and the scrape).
      for (const s of series) {
        if (families.get(s.name)?.type !== 'counter' || MOVING.test(s.name)) continue
        const key = seriesKey(s.name, s.labels)
        assert.equal(theirs.get(key), s.value, `${job}: value of ${key}`)
      }
    }
  })

  test('per-peer and per-protocol bytes in Prometheus equal our JSON after the traffic stopped', {
    skip
  }, async () => {
    for (const [job, json] of [
      ['peerscope', bJson],
      ['peerscope-a', aJson]
    ] as const) {
      const perPeer = await prometheus.query(`libp2p_peer_transfer_bytes_total{job="${job}"}`)
      const expectedPeers = Object.entries(json.peers).flatMap(([peer, stats]: [string, Json]) => [
        { peer, direction: 'in', value: stats.totalIn },
        { peer, direction: 'out', value: stats.totalOut }
      ])
      assert.deepEqual(
        sorted(perPeer.map((s) => ({ peer: s.metric.peer, direction: s.metric.direction, value: s.value }))),
        sorted(expectedPeers),
        `${job}: per-peer bytes`
      )
      const perProtocol = await prometheus.query(`libp2p_protocol_transfer_bytes_total{job="${job}"}`)
      const expectedProtocols = Object.entries(json.protocols).flatMap(
        ([protocol, stats]: [string, Json]) => [
          { protocol, direction: 'in', value: stats.totalIn },
          { protocol, direction: 'out', value: stats.totalOut }
        ]
      )
      assert.deepEqual(
        sorted(
          perProtocol.map((s) => ({
            protocol: s.metric.protocol,
            direction: s.metric.direction,
            value: s.value
          }))
        ),
        sorted(expectedProtocols),
        `${job}: per-protocol bytes`
      )
    }
    const [echoOut] = await prometheus.query(
      // A PromQL string literal has Go's escapes, which JSON's are a subset of.
      `libp2p_protocol_transfer_bytes_total{job="peerscope-a",protocol=${JSON.stringify(ECHO)},direction="out"}`
    )
    assert.equal(echoOut?.value, ECHO_BYTES)
    // Nothing moved since: the figures compared are the final ones, not a race between two readings.
    const totals = (peers: Json) =>
      Object.entries(peers).map(([peer, s]: [string, Json]) => [peer, s.totalIn, s.totalOut])
    assert.deepEqual(totals((await ownView(a)).peers), totals(aJson.peers))
    assert.deepEqual(totals((await ownView(b, TOKEN)).peers), totals(bJson.peers))
  })
})

function sorted<T>(list: T[]): T[] {
  return list
    .map((x) => JSON.stringify(x))
    .sort()
    .map((x) => JSON.parse(x))
}
