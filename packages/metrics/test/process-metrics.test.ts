import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { test } from 'node:test'
import { defaultLogger } from '@libp2p/logger'
import { type Libp2pMetricsInit, libp2pMetrics, type PeerscopeMetrics } from '@peerscope/metrics'
import { TypedEventEmitter } from 'main-event'
import { collectDefaultMetrics, Registry } from 'prom-client'

function metrics(init: Libp2pMetricsInit = {}): PeerscopeMetrics & { start(): void; stop(): Promise<void> } {
  return libp2pMetrics(init)({
    events: new TypedEventEmitter(),
    logger: defaultLogger()
  }) as PeerscopeMetrics & {
    start(): void
    stop(): Promise<void>
  }
}

/** Family name -> type, from a Prometheus text's TYPE lines. */
function types(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => [name!, type!]))
}

/** The value of the first sample of `name` (with the labels given in the selector text, if any). */
function value(text: string, selector: string): number {
  const escaped = selector.replace(/[{}"=,.]/g, (c) => `\\${c}`)
  const match = new RegExp(`^${escaped}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)
  assert.ok(match !== null, `${selector} is in the text`)
  return Number(match[1])
}

const PROCESS = /^(process|nodejs)_/

function blockFor(ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until) {
    // the node's thread is busy
  }
}

test('process metrics are on by default, under the names and types of prom-client', async () => {
  const m = metrics()
  m.start()
  try {
    await new Promise((resolve) => setTimeout(resolve, 250))
    const ours = types(await m.prometheus())
    const registry = new Registry()
    collectDefaultMetrics({ register: registry })
    const theirs = types(await registry.metrics())
    const processNames = [...ours.keys()].filter((name) => PROCESS.test(name))
    for (const name of [
      'process_cpu_seconds_total',
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'process_start_time_seconds',
      'nodejs_eventloop_lag_seconds',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_heap_space_size_used_bytes',
      'nodejs_gc_duration_seconds',
      'nodejs_version_info',
      'nodejs_active_resources_total',
      'nodejs_eventloop_time_seconds_total'
    ]) {
      assert.ok(processNames.includes(name), `${name} is exported`)
    }
    // Every name prom-client also has is typed as prom-client types it; the one of our own is the loop's time.
    const own = processNames.filter((name) => !theirs.has(name))
    assert.deepEqual(own, ['nodejs_eventloop_time_seconds_total'])
    for (const name of processNames.filter((n) => theirs.has(n))) {
      assert.equal(ours.get(name), theirs.get(name), `TYPE of ${name}`)
    }
    // What prom-client has and we leave out: the handle and request lists (nodejs_active_resources covers both).
    assert.deepEqual([...theirs.keys()].filter((name) => !ours.has(name)).sort(), [
      'nodejs_active_handles',
      'nodejs_active_handles_total',
      'nodejs_active_requests',
      'nodejs_active_requests_total'
    ])
  } finally {
    await m.stop()
  }
})

test('the figures are the process and loop as they are', async () => {
  const m = metrics()
  m.start()
  try {
    await new Promise((resolve) => setTimeout(resolve, 250))
    const before = await m.prometheus()
    // Node's delay histogram starts over at a scrape and records from its second tick after that.
    await new Promise((resolve) => setTimeout(resolve, 250))
    blockFor(300)
    // Short-lived garbage, so the young generation collects at least once.
    let sink = 0
    for (let i = 0; i < 300_000; i++) sink += [i, i + 1].length
    assert.ok(sink > 0)
    await new Promise((resolve) => setTimeout(resolve, 250))
    const cpuBefore = process.cpuUsage()
    const after = await m.prometheus()
    const cpuAfter = process.cpuUsage()

    // The CPU time read is this process's own, between the readings taken around the scrape.
    const seconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6
    const cpu = value(after, 'process_cpu_seconds_total')
    assert.ok(cpu >= seconds(cpuBefore) && cpu <= seconds(cpuAfter), `CPU ${cpu} s`)
    assert.ok(cpu > value(before, 'process_cpu_seconds_total'))
    assert.ok(
      Math.abs(value(after, 'process_start_time_seconds') - (Date.now() / 1000 - process.uptime())) < 2,
      'start time'
    )
    const lagMax = value(after, 'nodejs_eventloop_lag_max_seconds')
    assert.ok(lagMax >= 0.15, `a 300 ms block shows in the loop delay (${lagMax} s)`)
    const idleMin = value(after, 'nodejs_eventloop_lag_min_seconds')
    assert.ok(idleMin < 0.05, `the sampling interval is not counted as delay (${idleMin} s)`)
    const active = (text: string) => value(text, 'nodejs_eventloop_time_seconds_total{state="active"}')
    assert.ok(active(after) - active(before) >= 0.2, 'the block counts as active loop time')
    assert.ok(value(after, 'nodejs_gc_duration_seconds_count{kind="minor"}') > 0, 'young-generation GCs seen')
    assert.equal(value(after, 'process_resident_memory_bytes') > 10 * 2 ** 20, true)
    if (process.platform === 'linux') assert.ok(value(after, 'process_open_fds') > 0)
  } finally {
    await m.stop()
  }
})

test('with exportFromWorker the process metrics still describe the node thread, not the worker', async () => {
  const m = metrics({ exportFromWorker: true })
  m.start()
  try {
    await new Promise((resolve) => setTimeout(resolve, 250))
    // 64 MiB kept on this thread's heap; a worker's heap is a few MiB.
    const kept = new Array(8 * 2 ** 20).fill(1.5)
    blockFor(300)
    await new Promise((resolve) => setTimeout(resolve, 150))
    const cpuBefore = process.cpuUsage()
    const text = await m.prometheus()
    const cpuAfter = process.cpuUsage()
    assert.ok(value(text, 'nodejs_heap_size_used_bytes') >= 64 * 2 ** 20, 'the node thread heap')
    // The worker reads the process-wide figures itself: the whole process's CPU time, not its own thread's.
    const seconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6
    const cpu = value(text, 'process_cpu_seconds_total')
    assert.ok(cpu >= seconds(cpuBefore) && cpu <= seconds(cpuAfter), `process CPU ${cpu} s`)
    assert.ok(value(text, 'process_resident_memory_bytes') >= 64 * 2 ** 20, 'the process resident set')
    // The worker reads the delay from a clone of the node thread's histogram, and starts it over as it reads.
    assert.ok(value(text, 'nodejs_eventloop_lag_max_seconds') >= 0.15, 'the node thread loop')
    await new Promise((resolve) => setTimeout(resolve, 450))
    const next = await m.prometheus()
    assert.ok(value(next, 'nodejs_eventloop_lag_max_seconds') < 0.15, 'the block is not read twice')
    assert.equal(kept.length, 8 * 2 ** 20)
    // And the bandwidth families still come from the worker.
    assert.match(text, /^libp2p_transfer_bytes_total\{direction="out"\} 0$/m)
  } finally {
    await m.stop()
  }
})

test('processMetrics: false leaves them out; bad options are refused with ERR_INVALID_OPTIONS', async () => {
  const text = await metrics({ processMetrics: false }).prometheus()
  assert.deepEqual(
    [...types(text).keys()].filter((name) => PROCESS.test(name)),
    []
  )
  for (const processMetrics of [
    { eventLoopResolution: 0 },
    { gcDurationBuckets: [0.1, -1] },
    'yes' as never
  ]) {
    assert.throws(() => metrics({ processMetrics }), { code: 'ERR_INVALID_OPTIONS' })
  }
})

test('promtool accepts the text with process metrics', {
  skip: !existsSync('/usr/bin/promtool')
}, async () => {
  const m = metrics()
  m.start()
  try {
    await new Promise((resolve) => setTimeout(resolve, 250))
    const result = spawnSync('promtool', ['check', 'metrics'], {
      input: await m.prometheus(),
      encoding: 'utf8'
    })
    const output = `${result.stdout}${result.stderr}`
    // promtool exits 1 for lint findings too (prom-client's nodejs_active_resources_total is a gauge named _total).
    assert.doesNotMatch(output, /error/i, output)
  } finally {
    await m.stop()
  }
})
