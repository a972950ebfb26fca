import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Counter, CounterGroup, Histogram, Metric, MetricGroup, Summary } from '@libp2p/interface'
import { defaultLogger } from '@libp2p/logger'
import { libp2pMetrics } from '@peerscope/metrics'
import { TypedEventEmitter } from 'main-event'

function metrics() {
  return libp2pMetrics()({ events: new TypedEventEmitter(), logger: defaultLogger() })
}

test('every register* variant records and exports its values', async () => {
  const m = metrics()
  const gauge = m.registerMetric('test_gauge', { help: 'a gauge' }) as Metric
  gauge.update(5)
  gauge.increment(2)
  gauge.decrement()
  const group = m.registerMetricGroup('test_gauge_group', { label: 'kind' }) as MetricGroup
  group.update({ a: 1, b: 2 })
  group.increment({ a: true })
  const counter = m.registerCounter('test_counter_total') as Counter
  counter.increment()
  counter.increment(4)
  const counterGroup = m.registerCounterGroup('test_counter_group_total', {
    label: 'protocol'
  }) as CounterGroup
  counterGroup.increment({ '/x': 3 })
  const histogram = m.registerHistogram('test_histogram', { buckets: [1, 10] }) as Histogram
  histogram.observe(0.5)
  histogram.observe(5)
  histogram.observe(50)
  const summary = m.registerSummary('test_summary', { percentiles: [0.5] }) as Summary
  for (const v of [1, 2, 3]) summary.observe(v)
  m.registerMetric('test_calculated', { calculate: () => 42 })
  m.registerMetricGroup('test_calculated_group', { calculate: async () => ({ x: 1, y: 2 }) })
  m.registerCounter('test_failing', {
    calculate: () => {
      throw new Error('boom')
    }
  })

  const text = await m.prometheus()
  for (const line of [
    'test_gauge 6',
    'test_gauge_group{kind="a"} 2',
    'test_gauge_group{kind="b"} 2',
    'test_counter_total 5',
    'test_counter_group_total{protocol="/x"} 3',
    'test_histogram_bucket{le="1"} 1',
    'test_histogram_bucket{le="10"} 2',
    'test_histogram_bucket{le="+Inf"} 3',
    'test_histogram_sum 55.5',
    'test_histogram_count 3',
    'test_summary{quantile="0.5"} 2',
    'test_summary_count 3',
    'test_calculated 42',
    'test_calculated_group{key="y"} 2'
  ]) {
    assert.ok(text.split('\n').includes(line), `missing: ${line}\n${text}`)
  }
  assert.match(
    text,
    /# TYPE test_failing counter/,
    'a failing calculation leaves an empty family, not a failed scrape'
  )
})

test('label values and help text are escaped', async () => {
  const m = metrics()
  const group = m.registerMetricGroup('escaped', { help: 'line\nbreak \\ slash' }) as MetricGroup
  group.update({ 'quote"and\\back\nslash': 1 })
  const text = await m.prometheus()
  assert.ok(text.includes('# HELP escaped line\\nbreak \\\\ slash'))
  assert.ok(text.includes('escaped{key="quote\\"and\\\\back\\nslash"} 1'))
})

test('registering a name twice returns the first metric', () => {
  const m = metrics()
  const first = m.registerMetric('twice')
  assert.equal(m.registerMetric('twice'), first)
})
