import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { defaultLogger } from '@libp2p/logger'
import { SharedMetricMap } from '@peerscope/metric-map'
import {
  BandwidthCounter,
  bandwidthFamilies,
  libp2pMetrics,
  MetricsError,
  PrometheusExporter,
  renderFamilies,
  statsFromMap
} from '@peerscope/metrics'
import { TypedEventEmitter } from 'main-event'

function fill(counter: BandwidthCounter, peers: number): void {
  for (let i = 0; i < peers; i++) {
    counter.logSent(100 + i, { peer: `peer-${i}`, protocol: `/proto/${i % 10}` })
    counter.logReceived(50 + i, { peer: `peer-${i}`, protocol: `/proto/${i % 10}` })
  }
}

describe('Prometheus export from a worker thread over a SharedMetricMap', () => {
  test('the map alone gives back the counter figures, rates included', () => {
    let now = 0
    const map = SharedMetricMap.create({ capacity: 4096, maxKeyBytes: 128 })
    const counter = new BandwidthCounter({ map, clock: () => now })
    fill(counter, 50)
    now += 1000
    counter.tick()
    fill(counter, 50)
    now += 1000
    counter.tick()
    const fromMap = statsFromMap(SharedMetricMap.attach(map.buffer))
    assert.deepEqual(fromMap.totals(), counter.totals())
    assert.deepEqual(fromMap.byProtocol(), counter.byProtocol())
    assert.equal(fromMap.byPeer().get('peer-7')?.totalOut, counter.forPeer('peer-7')?.totalOut)
    assert.equal(fromMap.trackedPeers, counter.trackedPeers)
  })

  test('the worker renders the same text as the node thread, for 10,000 peers', async () => {
    const map = SharedMetricMap.create({ capacity: 200_000, maxKeyBytes: 128 })
    const counter = new BandwidthCounter({ map })
    fill(counter, 10_000)
    const options = { perPeer: true, maxPeerLabels: 100 }
    const exporter = new PrometheusExporter(map, options)
    try {
      const fromWorker = await exporter.render()
      const inThread = renderFamilies(bandwidthFamilies(counter, options))
      assert.ok(fromWorker === inThread, 'the worker and the node thread render the same text')
      assert.match(fromWorker, /^libp2p_peer_transfer_bytes_total\{peer="other",direction="out"\} \d+/m)
    } finally {
      await exporter.close()
    }
  })

  test('a full shared map never throws on the hot path: bytes land in the totals and the overflow peer', () => {
    const map = SharedMetricMap.create({ capacity: 64, maxKeyBytes: 128 })
    const counter = new BandwidthCounter({ map })
    for (let i = 0; i < 100; i++) counter.logSent(1, { peer: `p${i}`, protocol: '/x' })
    assert.equal(counter.totals().totalOut, 100)
    const perPeer = [...counter.byPeer().values()].reduce((sum, s) => sum + s.totalOut, 0)
    assert.equal(perPeer, 100, 'every byte is in some peer series, the overflow one included')
  })

  test('a connection opened on a full shared map never throws; its wire bytes are not kept', async () => {
    const map = SharedMetricMap.create({ capacity: 64, maxKeyBytes: 128 })
    const counter = new BandwidthCounter({ map })
    for (let i = 0; i < 100; i++) counter.logSent(1, { peer: `p${i}`, protocol: '/x' })
    const wire = counter.connectionChannel('late-connection')
    wire.sent(10)
    wire.received(5)
    await new Promise<void>((resolve) => setImmediate(resolve)) // the channel's counts are handed over here
    assert.equal(counter.forConnection('late-connection'), undefined)
    assert.equal(counter.totals().totalOut, 100, 'stream totals are untouched')
  })

  test('a full map is not retried per event; trimming idle series makes room for new ones again', () => {
    let now = 0
    const map = SharedMetricMap.create({ capacity: 64, maxKeyBytes: 128 })
    const counter = new BandwidthCounter({ map, clock: () => now })
    for (let i = 0; i < 100; i++) counter.logSent(1, { peer: `p${i}`, protocol: '/x' })
    const tracked = counter.trackedPeers
    assert.ok(tracked < 100, 'the map filled up')
    // Every handle of the map is made through map.handle(): count the attempts a full map still gets.
    let attempts = 0
    const handle = map.handle.bind(map)
    map.handle = (key: string) => {
      attempts++
      return handle(key)
    }
    for (let i = 100; i < 200; i++) counter.logSent(1, { peer: `p${i}`, protocol: '/x' })
    assert.equal(attempts, 0, 'no new series is attempted while the map is known to be full')
    assert.equal(counter.trackedPeers, tracked)
    // One sweep sees the bytes, a later one sees silence: every series is idle since the first.
    now += 1000
    counter.tick()
    now += 60_000
    counter.tick()
    assert.ok(counter.trimIdle(now) > 0)
    counter.logSent(5, { peer: 'fresh', protocol: '/x' })
    assert.equal(counter.forPeer('fresh')?.totalOut, 5, 'room freed by the trim is used again')
    assert.equal(counter.totals().totalOut, 205)
  })

  test('libp2pMetrics({ exportFromWorker: true }) serves its scrape from the worker', async () => {
    // Count the renders the worker does, to prove the scrape goes through it.
    const render = PrometheusExporter.prototype.render
    const renderWithProcess = PrometheusExporter.prototype.renderWithProcess
    const renders = { bandwidth: 0, withProcess: 0 }
    PrometheusExporter.prototype.render = function counted(this: PrometheusExporter) {
      renders.bandwidth++
      return render.call(this)
    }
    PrometheusExporter.prototype.renderWithProcess = function counted(this: PrometheusExporter, readings) {
      renders.withProcess++
      return renderWithProcess.call(this, readings)
    }
    try {
      for (const processMetrics of [true, false]) {
        renders.bandwidth = 0
        renders.withProcess = 0
        const metrics = libp2pMetrics({ exportFromWorker: true, processMetrics })({
          events: new TypedEventEmitter(),
          logger: defaultLogger()
        }) as ReturnType<ReturnType<typeof libp2pMetrics>> & { start(): void; stop(): Promise<void> }
        metrics.start()
        try {
          metrics.bandwidth.logSent(123, { peer: 'p', protocol: '/x' })
          const text = await metrics.prometheus()
          assert.match(text, /^libp2p_transfer_bytes_total\{direction="out"\} 123$/m)
          // With process metrics, the worker renders them too (the node thread's readings sent along).
          assert.deepEqual(
            renders,
            processMetrics ? { bandwidth: 0, withProcess: 1 } : { bandwidth: 1, withProcess: 0 },
            'the bandwidth text came from the worker, in one request'
          )
          assert.equal(/^process_cpu_seconds_total \S+$/m.test(text), processMetrics)
          assert.equal(/^nodejs_heap_size_used_bytes \d+$/m.test(text), processMetrics)
        } finally {
          await metrics.stop()
        }
      }
    } finally {
      PrometheusExporter.prototype.render = render
      PrometheusExporter.prototype.renderWithProcess = renderWithProcess
    }
    assert.throws(
      () =>
        libp2pMetrics({ exportFromWorker: true, bandwidth: new BandwidthCounter() })({
          events: new TypedEventEmitter(),
          logger: defaultLogger()
        }),
      (err: unknown) => err instanceof MetricsError && err.code === 'ERR_INVALID_OPTIONS'
    )
  })
})
