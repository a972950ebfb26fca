import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { after, before, describe, test } from 'node:test'
import { gunzipSync } from 'node:zlib'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import type { Histogram, Stream } from '@libp2p/interface'
import { defaultLogger } from '@libp2p/logger'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { metrics as otelMetrics } from '@opentelemetry/api'
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http'
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  type MetricData,
  PeriodicExportingMetricReader
} from '@opentelemetry/sdk-metrics'
import { type Libp2pMetricsInit, libp2pMetrics, type PeerscopeMetrics, type Stats } from '@peerscope/metrics'
import { createLibp2p } from 'libp2p'
import { TypedEventEmitter } from 'main-event'
import { pEvent } from 'p-event'

const ECHO = '/peerscope-test/echo/1.0.0'
const ECHO_BYTES = 100_000
const HOUR = 3_600_000

/** One point as the test compares them: attributes (sorted JSON) -> value. */
type Points = Map<string, number>

function key(attributes: Record<string, unknown>): string {
  return JSON.stringify(Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : 1)))
}

function directional(stats: Stats | undefined, labels: Record<string, string> = {}): Points {
  return new Map([
    [key({ ...labels, direction: 'in' }), stats?.totalIn ?? Number.NaN],
    [key({ ...labels, direction: 'out' }), stats?.totalOut ?? Number.NaN]
  ])
}

function merge(...maps: Points[]): Points {
  return new Map(maps.flatMap((m) => [...m]))
}

/** A Prometheus family of our text as points (labels -> value). */
function familyPoints(text: string, name: string): Points {
  const points: Points = new Map()
  for (const [, labels, value] of text.matchAll(new RegExp(`^${name}(?:\\{(.*)\\})? (\\S+)$`, 'gm'))) {
    const attributes: Record<string, string> = {}
    for (const [, k, v] of (labels ?? '').matchAll(/(\w+)="([^"]*)"/g)) attributes[k!] = v!
    points.set(key(attributes), Number(value))
  }
  return points
}

async function node(otel: Libp2pMetricsInit['openTelemetry']) {
  const n = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // The monitor pings every 10 s on its own: off, so nothing moves once the test's traffic stops.
    connectionMonitor: { enabled: false },
    metrics: libp2pMetrics({ openTelemetry: otel }),
    services: { identify: identify(), ping: ping() }
  })
  await n.handle(ECHO, async (stream: Stream) => {
    for await (const chunk of stream) if (!stream.send(chunk)) await pEvent(stream, 'drain')
    await stream.close()
  })
  return n
}
type Node = Awaited<ReturnType<typeof node>>

async function traffic(a: Node, b: Node): Promise<void> {
  const identified = Promise.all([pEvent(a, 'peer:identify'), pEvent(b, 'peer:identify')])
  await a.dial(b.getMultiaddrs()[0]!)
  await identified
  await a.services.ping.ping(b.peerId)
  const stream = await a.dialProtocol(b.peerId, ECHO)
  let received = 0
  const reading = (async () => {
    for await (const data of stream) received += data.byteLength
  })()
  for (let sent = 0; sent < ECHO_BYTES; sent += 10_000) {
    if (!stream.send(new Uint8Array(10_000))) await pEvent(stream, 'drain')
  }
  await stream.close()
  await reading
  assert.equal(received, ECHO_BYTES)
}

describe('the OpenTelemetry bridge, read by the SDK in-memory metric exporter', () => {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: HOUR })
  const provider = new MeterProvider({ readers: [reader] })
  let a: Node
  let b: Node
  let metricsA: PeerscopeMetrics
  let histogram: Histogram

  /** Collects now and returns the metrics of our meter by name. */
  async function collect(): Promise<Map<string, MetricData>> {
    exporter.reset()
    await reader.forceFlush()
    const last = exporter.getMetrics().at(-1)
    const scope = last?.scopeMetrics.find((s) => s.scope.name === '@peerscope/metrics')
    assert.ok(scope !== undefined, 'our meter exported')
    return new Map(scope.metrics.map((m) => [m.descriptor.name, m]))
  }

  function points(metric: MetricData | undefined): Points {
    assert.ok(metric !== undefined, 'the metric was exported')
    return new Map(metric.dataPoints.map((p) => [key(p.attributes), p.value as number]))
  }

  before(async () => {
    a = await node({ meterProvider: provider, perPeer: true, perConnection: true })
    b = await node(false)
    metricsA = a.metrics as PeerscopeMetrics
    histogram = metricsA.registerHistogram('test_request_seconds', {
      help: 'a histogram registered the libp2p way',
      buckets: [0.1, 1]
    }) as Histogram
    await traffic(a, b)
  })

  after(async () => {
    await a.stop()
    await b.stop()
    await provider.shutdown()
  })

  test('bandwidth totals, per protocol, per peer and per open connection equal the counter', async () => {
    const exported = await collect()
    const counter = metricsA.bandwidth
    const totals = exported.get('libp2p_transfer_bytes_total')
    assert.equal(totals?.dataPointType, DataPointType.SUM)
    assert.equal(totals.isMonotonic, true)
    assert.equal(totals.aggregationTemporality, AggregationTemporality.CUMULATIVE)
    assert.equal(totals.descriptor.unit, 'By')
    assert.deepEqual(points(totals), directional(counter.totals()))

    const protocols = merge(
      ...[...counter.byProtocol()].map(([protocol, stats]) => directional(stats, { protocol }))
    )
    assert.ok(protocols.has(key({ protocol: ECHO, direction: 'out' })))
    assert.equal(protocols.get(key({ protocol: ECHO, direction: 'out' })), ECHO_BYTES)
    assert.deepEqual(points(exported.get('libp2p_protocol_transfer_bytes_total')), protocols)

    const peer = b.peerId.toString()
    assert.deepEqual(
      points(exported.get('libp2p_peer_transfer_bytes_total')),
      directional(counter.forPeer(peer), { peer })
    )

    const [connection] = a.getConnections()
    assert.ok(connection !== undefined)
    assert.deepEqual(
      points(exported.get('libp2p_connection_transfer_bytes_total')),
      directional(counter.forConnection(connection.id), { connection: connection.id, peer })
    )
    assert.ok((counter.forConnection(connection.id)?.totalOut ?? 0) > ECHO_BYTES, 'wire bytes exceed payload')
    assert.deepEqual(points(exported.get('libp2p_bandwidth_tracked_peers')), new Map([[key({}), 1]]))
  })

  test("libp2p's registered metrics are instruments too, with the values of the Prometheus text", async () => {
    histogram.observe(0.05)
    histogram.observe(0.5)
    histogram.observe(5)
    const exported = await collect()
    const text = await metricsA.prometheus()
    // A calculated gauge group (libp2p's connection counts by direction).
    for (const name of ['libp2p_connection_manager_connections']) {
      const metric = exported.get(name)
      assert.equal(metric?.dataPointType, DataPointType.GAUGE, name)
      const expected = familyPoints(text, name)
      assert.ok(expected.size > 0, `${name} has samples`)
      assert.deepEqual(points(metric), expected, name)
    }
    // A counter group libp2p increments (the TCP dialer's events).
    const dials = exported.get('libp2p_tcp_dialer_events_total')
    assert.equal(dials?.dataPointType, DataPointType.SUM, 'a counter group is a sum')
    assert.equal(dials.isMonotonic, true)
    const expectedDials = familyPoints(text, 'libp2p_tcp_dialer_events_total')
    assert.ok(expectedDials.size > 0)
    assert.deepEqual(points(dials), expectedDials)

    const h = exported.get('test_request_seconds')
    assert.equal(h?.dataPointType, DataPointType.HISTOGRAM)
    const [point] = h.dataPoints
    const value = point?.value as {
      buckets: { boundaries: number[]; counts: number[] }
      count: number
      sum: number
    }
    assert.deepEqual(value.buckets, { boundaries: [0.1, 1], counts: [1, 1, 1] })
    assert.equal(value.count, 3)
    assert.equal(value.sum, 5.55)
  })

  test('a removed metric is no longer read, in OpenTelemetry and in the Prometheus text', async () => {
    let calls = 0
    metricsA.registerMetric('test_calculated', { calculate: () => ++calls })
    const value = async () => points((await collect()).get('test_calculated')).get(key({}))
    assert.equal(await value(), 1)
    assert.equal(await value(), 2, 'read at each collection')
    assert.equal(metricsA.removeMetric('test_calculated'), true)
    assert.equal(metricsA.removeMetric('test_calculated'), false)
    // The SDK repeats a cumulative series' last value; what matters is that nothing reads the metric any more.
    assert.equal(await value(), 2)
    assert.equal(calls, 2)
    assert.doesNotMatch(await metricsA.prometheus(), /test_calculated/)
    assert.equal(calls, 2)
  })
})

test('openTelemetry: true uses the global meter provider; bad options are refused', async () => {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: HOUR })
  const provider = new MeterProvider({ readers: [reader] })
  otelMetrics.disable()
  assert.ok(otelMetrics.setGlobalMeterProvider(provider))
  const m = libp2pMetrics({ openTelemetry: true, processMetrics: false })({
    events: new TypedEventEmitter(),
    logger: defaultLogger()
  }) as PeerscopeMetrics & { start(): void; stop(): Promise<void> }
  m.start()
  try {
    m.bandwidth.logReceived(321, { peer: 'p', protocol: '/x' })
    await reader.forceFlush()
    const metric = exporter
      .getMetrics()
      .at(-1)
      ?.scopeMetrics.flatMap((s) => s.metrics)
      .find((x) => x.descriptor.name === 'libp2p_transfer_bytes_total')
    assert.deepEqual(
      metric?.dataPoints.map((p) => [p.attributes.direction, p.value]),
      [
        ['in', 321],
        ['out', 0]
      ]
    )
  } finally {
    await m.stop()
    await provider.shutdown()
    otelMetrics.disable()
  }
  const components = { events: new TypedEventEmitter(), logger: defaultLogger() }
  for (const openTelemetry of [
    { meterProvider: {} as never },
    { maxPeerLabels: 0 },
    { maxConnectionLabels: 1.5 },
    'yes' as never
  ]) {
    assert.throws(() => libp2pMetrics({ openTelemetry })(components), { code: 'ERR_INVALID_OPTIONS' })
  }
})

/** A stand-in for an OpenTelemetry collector: accepts OTLP/HTTP metric exports and keeps them decoded. */
class OtlpReceiver {
  readonly requests: Array<{ contentType: string | undefined; body: OtlpExport }> = []
  readonly #server: Server

  private constructor(server: Server) {
    this.#server = server
  }

  static async start(): Promise<OtlpReceiver> {
    const server = createServer()
    const receiver = new OtlpReceiver(server)
    server.on('request', async (req, res) => {
      if (req.method !== 'POST' || req.url !== '/v1/metrics') {
        res.writeHead(404).end()
        return
      }
      const raw = await bodyOf(req)
      const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8')
      receiver.requests.push({ contentType: req.headers['content-type'], body: JSON.parse(text) })
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return receiver
  }

  get url(): string {
    const { port } = this.#server.address() as { port: number }
    return `http://127.0.0.1:${port}/v1/metrics`
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()))
  }
}

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

interface OtlpAttribute {
  key: string
  value: { stringValue?: string; intValue?: string | number }
}
interface OtlpPoint {
  attributes?: OtlpAttribute[]
  asInt?: string | number
  asDouble?: number
}
interface OtlpMetric {
  name: string
  unit?: string
  sum?: { dataPoints: OtlpPoint[]; aggregationTemporality: number; isMonotonic: boolean }
  gauge?: { dataPoints: OtlpPoint[] }
}
interface OtlpExport {
  resourceMetrics: Array<{ scopeMetrics: Array<{ scope: { name: string }; metrics: OtlpMetric[] }> }>
}

function otlpPoints(points: OtlpPoint[]): Points {
  return new Map(
    points.map((p) => [
      key(
        Object.fromEntries((p.attributes ?? []).map((a) => [a.key, a.value.stringValue ?? a.value.intValue]))
      ),
      Number(p.asInt ?? p.asDouble)
    ])
  )
}

test('the OTLP/HTTP exporter carries the bridge to a receiver, which decodes what the counter says', async () => {
  const receiver = await OtlpReceiver.start()
  const reader = new PeriodicExportingMetricReader({
    exporter: new OTLPMetricExporter({ url: receiver.url }),
    exportIntervalMillis: HOUR
  })
  const provider = new MeterProvider({ readers: [reader] })
  const a = await node({ meterProvider: provider, perPeer: true })
  const b = await node(false)
  try {
    await traffic(a, b)
    await reader.forceFlush()
    const metricsA = a.metrics as PeerscopeMetrics
    assert.equal(receiver.requests.length, 1, 'one export')
    const [request] = receiver.requests
    assert.match(request?.contentType ?? '', /^application\/json/)
    const scope = request?.body.resourceMetrics
      .flatMap((r) => r.scopeMetrics)
      .find((s) => s.scope.name === '@peerscope/metrics')
    assert.ok(scope !== undefined, 'our scope is in the payload')
    const byName = new Map(scope.metrics.map((m) => [m.name, m]))
    const totals = byName.get('libp2p_transfer_bytes_total')
    assert.equal(totals?.unit, 'By')
    assert.equal(totals?.sum?.isMonotonic, true)
    assert.equal(totals?.sum?.aggregationTemporality, 2, 'cumulative')
    assert.deepEqual(otlpPoints(totals?.sum?.dataPoints ?? []), directional(metricsA.bandwidth.totals()))
    const peer = b.peerId.toString()
    assert.deepEqual(
      otlpPoints(byName.get('libp2p_peer_transfer_bytes_total')?.sum?.dataPoints ?? []),
      directional(metricsA.bandwidth.forPeer(peer), { peer })
    )
    const echoOut = otlpPoints(byName.get('libp2p_protocol_transfer_bytes_total')?.sum?.dataPoints ?? []).get(
      key({ protocol: ECHO, direction: 'out' })
    )
    assert.equal(echoOut, ECHO_BYTES)
    const connections = byName.get('libp2p_connection_manager_connections')?.gauge?.dataPoints ?? []
    assert.deepEqual(
      otlpPoints(connections),
      familyPoints(await metricsA.prometheus(), 'libp2p_connection_manager_connections')
    )
  } finally {
    await a.stop()
    await b.stop()
    await provider.shutdown()
    await receiver.close()
  }
})
