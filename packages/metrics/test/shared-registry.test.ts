import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { test } from 'node:test'
import { defaultLogger } from '@libp2p/logger'
import { type Libp2pMetricsInit, libp2pMetrics, type PeerscopeMetrics } from '@peerscope/metrics'
import { TypedEventEmitter } from 'main-event'
import { Counter, collectDefaultMetrics, Registry } from 'prom-client'

type Started = PeerscopeMetrics & { start(): void; stop(): Promise<void> }

function metrics(init: Libp2pMetricsInit = {}): Started {
  return libp2pMetrics(init)({ events: new TypedEventEmitter(), logger: defaultLogger() }) as Started
}

function typeLines(text: string): string[] {
  return [...text.matchAll(/^# TYPE (\S+) /gm)].map(([, name]) => name!)
}

function assertValidText(text: string): void {
  const names = typeLines(text)
  assert.equal(new Set(names).size, names.length, 'no family is declared twice')
  if (!existsSync('/usr/bin/promtool')) return
  const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
  assert.doesNotMatch(`${result.stdout}${result.stderr}`, /error/i)
}

for (const exportFromWorker of [false, true]) {
  const where = exportFromWorker ? 'bandwidth from the worker' : 'bandwidth in the node thread'
  test(`an application registry is served with ours (${where})`, async () => {
    const app = new Registry()
    const orders = new Counter({ name: 'shop_orders_total', help: 'Orders', registers: [app] })
    orders.inc(7)
    const m = metrics({ registries: [app], exportFromWorker })
    m.start()
    try {
      m.bandwidth.logSent(100, { peer: 'p', protocol: '/x' })
      const text = await m.prometheus()
      assert.match(text, /^shop_orders_total 7$/m)
      assert.match(text, /^libp2p_transfer_bytes_total\{direction="out"\} 100$/m)
      assert.match(text, /^process_cpu_seconds_total \S+$/m)
      assertValidText(text)
    } finally {
      await m.stop()
    }
  })

  test(`a family both export is the registry's, once (${where})`, async () => {
    const app = new Registry()
    collectDefaultMetrics({ register: app, prefix: '' })
    // A clash with a bandwidth family too, which the worker renders.
    new Counter({ name: 'libp2p_transfer_packets_total', help: 'the app one', registers: [app] }).inc(3)
    const m = metrics({ registries: [app], exportFromWorker })
    m.start()
    try {
      m.bandwidth.logSent(100, { peer: 'p', protocol: '/x' })
      const text = await m.prometheus()
      assertValidText(text)
      assert.match(text, /^# HELP libp2p_transfer_packets_total the app one$/m)
      assert.match(text, /^libp2p_transfer_packets_total 3$/m)
      assert.doesNotMatch(text, /^libp2p_transfer_packets_total\{/m, 'ours is left out')
      assert.match(text, /^libp2p_transfer_bytes_total\{direction="out"\} 100$/m, 'the rest of ours stays')
      // prom-client's process metrics are served; ours of the same names are not, ours alone stay.
      assert.match(text, /^# HELP nodejs_active_handles_total /m)
      assert.equal(typeLines(text).filter((n) => n === 'process_cpu_seconds_total').length, 1)
      assert.match(text, /^nodejs_eventloop_time_seconds_total\{state="active"\}/m)
    } finally {
      await m.stop()
    }
  })
}

test('registries that cannot be served are refused with ERR_INVALID_OPTIONS', () => {
  const openMetrics = new Registry<typeof Registry.OPENMETRICS_CONTENT_TYPE>()
  openMetrics.setContentType(Registry.OPENMETRICS_CONTENT_TYPE)
  for (const registries of [
    {} as never,
    [{}] as never,
    [{ metrics: 'text' }] as never,
    [openMetrics] as never
  ]) {
    assert.throws(() => metrics({ registries }), { code: 'ERR_INVALID_OPTIONS' })
  }
})
