// The package's two entries: the platform-neutral one (src/index.ts, what a browser bundle gets) reaches no
// `node:` module, so it has no process metrics and no worker exporter and says so when asked for them; the Node
// one (src/node.ts, what `@peerscope/metrics` resolves to under Node) has both. The consumer test
// (test-consumer/) bundles the packed neutral entry for the browser.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { defaultLogger } from '@libp2p/logger'
import * as root from '@peerscope/metrics'
import { TypedEventEmitter } from 'main-event'
import * as neutral from '../src/index.ts'
import * as node from '../src/node.ts'

type Started = neutral.PeerscopeMetrics & { start(): void; stop(): Promise<void> }
const components = () => ({ events: new TypedEventEmitter(), logger: defaultLogger() })

test('under Node the package root is the Node entry', () => {
  assert.equal(root.libp2pMetrics, node.libp2pMetrics)
  assert.notEqual(node.libp2pMetrics, neutral.libp2pMetrics)
  assert.equal(typeof node.PrometheusExporter, 'function')
  assert.equal('PrometheusExporter' in neutral, false)
  for (const name of Object.keys(neutral)) assert.ok(name in node, `${name} is in the Node entry too`)
})

test('the Node entry has process metrics on by default and exports from a worker', async () => {
  const metrics = node.libp2pMetrics({ exportFromWorker: true })(components()) as Started
  metrics.start()
  try {
    assert.match(await metrics.prometheus(), /^# TYPE process_cpu_seconds_total counter$/m)
  } finally {
    await metrics.stop()
  }
})

test('the neutral entry counts and renders without process metrics', async () => {
  const metrics = neutral.libp2pMetrics()(components()) as Started
  metrics.start()
  try {
    metrics.bandwidth.logSent(100, { peer: 'QmPeer', protocol: '/echo/1.0.0' })
    const text = await metrics.prometheus()
    assert.match(text, /^libp2p_transfer_bytes_total\{direction="out"\} 100$/m)
    assert.doesNotMatch(text, /^# TYPE (process|nodejs)_/m)
  } finally {
    await metrics.stop()
  }
})

test('the neutral entry refuses the Node-only options, naming the Node entry', () => {
  for (const init of [{ processMetrics: true }, { processMetrics: {} }, { exportFromWorker: true }]) {
    const option = Object.keys(init)[0]!
    assert.throws(
      () => neutral.libp2pMetrics(init)(components()),
      (err: unknown) => {
        assert.ok(err instanceof neutral.MetricsError)
        assert.equal(err.code, 'ERR_INVALID_OPTIONS')
        assert.match(err.message, new RegExp(`^${option} needs Node\\.js`))
        assert.match(err.message, /'@peerscope\/metrics\/node'/)
        return true
      }
    )
  }
  // `false` asks for nothing Node-only.
  assert.doesNotThrow(() => neutral.libp2pMetrics({ processMetrics: false })(components()))
})
