// How long one scrape holds the node's thread with 10,000 peers tracked (per-peer labels on, default cap).
// Thread time per call is the event loop's active time across the call (`performance.eventLoopUtilization`,
// measured with hrtime: everything the thread did except waiting in the poll phase), so an export that waits
// for a worker is charged only what it does on this thread; wall time is reported beside it. (CPU time from
// getrusage was tried first: it is sampled at scheduler ticks and reads 0.5-3 ms for an idle wait.)
// Competitors: ours in-thread `prometheus()` and `snapshot()`; ours with `exportFromWorker` (the bandwidth
// series rendered by a worker over a SharedMetricMap), with Node process metrics (the default) and without;
// `@libp2p/prometheus-metrics` 5's registry after the same traffic (it keeps per-protocol series only, and with
// its defaults prom-client's process metrics); a prom-client counter labelled by peer at the same cardinality;
// Node process metrics alone, ours and prom-client's `collectDefaultMetrics`. Then bench/idle-cost.ts: what the
// process metrics cost between scrapes.

import type { Startable } from '@libp2p/interface'
import { defaultLogger } from '@libp2p/logger'
import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import { envInteger, mean, round, startBench } from '@peerscope/bench-kit'
import { SharedMetricMap } from '@peerscope/metric-map'
import { TypedEventEmitter } from 'main-event'
import { Counter, collectDefaultMetrics, Registry } from 'prom-client'
import { BandwidthCounter, DEFAULT_MAX_PEER_LABELS, libp2pMetrics } from '../src/node.ts'
import { IDLE_SCRAPES, IDLE_SECONDS, idleCosts } from './idle-cost.ts'
import { ALONE_SCRAPES, ALONE_VARIANTS, aloneScrapes } from './scrape-alone.ts'

const PEERS = envInteger('BENCH_PEERS', 10_000, { min: 1 })
const PROTOCOLS = 10
const CALLS = envInteger('BENCH_SCRAPES', 100, { min: 1 })
const WARMUP = 5
const bench = startBench('scrape', { peers: PEERS, scrapes: CALLS, idleSeconds: IDLE_SECONDS })

const peerId = (i: number): string => `12D3KooW${i.toString(36).padStart(44, '0')}`
const protocolId = (j: number): string => `/peerscope-bench/proto-${j}/1.0.0`

/** The same traffic for every competitor: each peer sends and receives on one of ten protocols. */
function traffic(visit: (peer: string, protocol: string, sent: number, received: number) => void): void {
  for (let i = 0; i < PEERS; i++) visit(peerId(i), protocolId(i % PROTOCOLS), 1000 + i, 500 + i)
}

const components = () => ({ events: new TypedEventEmitter(), logger: defaultLogger() })

// ours, in-thread: the metrics a node would hold, fed through the counter it exposes.
const ours = libp2pMetrics({ prometheus: { perPeer: true } })(components() as never)
traffic((peer, protocol, sent, received) => {
  ours.bandwidth.logSent(sent, { peer, protocol })
  ours.bandwidth.logReceived(received, { peer, protocol })
})

// ours, worker export: the same metrics with `exportFromWorker`, the counters in a SharedMetricMap with room for
// every series of this workload (20,010 series, six counters each).
const sharedMap = SharedMetricMap.create({ capacity: 1 << 17, maxKeyBytes: 160 })
// A virtual clock, so each measured sweep below sees a second pass.
let ticks = Date.now()
const oursWorker = libp2pMetrics({
  bandwidth: new BandwidthCounter({ map: sharedMap, clock: () => ticks }),
  prometheus: { perPeer: true },
  exportFromWorker: true
})(components() as never) as ReturnType<ReturnType<typeof libp2pMetrics>> & Startable
oursWorker.start()
// The rate sweep runs once a second on the node's thread whatever the scrapes do; it is measured on its own below,
// not charged to whichever scrape it happens to overlap.
oursWorker.bandwidth.stop()
traffic((peer, protocol, sent, received) => {
  oursWorker.bandwidth.logSent(sent, { peer, protocol })
  oursWorker.bandwidth.logReceived(received, { peer, protocol })
})
oursWorker.bandwidth.tick()
// The same, without Node process metrics: what the scrape cost before they were on by default.
const sharedMapLean = SharedMetricMap.create({ capacity: 1 << 17, maxKeyBytes: 160 })
const oursWorkerLean = libp2pMetrics({
  bandwidth: new BandwidthCounter({ map: sharedMapLean, clock: () => ticks }),
  prometheus: { perPeer: true },
  exportFromWorker: true,
  processMetrics: false
})(components() as never) as ReturnType<ReturnType<typeof libp2pMetrics>> & Startable
oursWorkerLean.start()
oursWorkerLean.bandwidth.stop()
traffic((peer, protocol, sent, received) => {
  oursWorkerLean.bandwidth.logSent(sent, { peer, protocol })
  oursWorkerLean.bandwidth.logReceived(received, { peer, protocol })
})
oursWorkerLean.bandwidth.tick()
// Process metrics alone: a node with no traffic (our bandwidth families are then a few zero lines), and
// prom-client's default metrics in a registry of their own.
const empty = libp2pMetrics()(components() as never) as ReturnType<ReturnType<typeof libp2pMetrics>> &
  Startable
empty.start()
const defaultsRegistry = new Registry()
collectDefaultMetrics({ register: defaultsRegistry })
if (oursWorker.bandwidth.trackedPeers !== PEERS) {
  throw new Error(
    `the shared map is too small: ${oursWorker.bandwidth.trackedPeers} peers, ${sharedMap.size} keys`
  )
}

// prometheus-metrics: the same bytes through its own stream tracking (bare event targets as streams).
const promRegistry = new Registry()
const prom = prometheusMetrics({ registry: promRegistry, preserveExistingMetrics: true })(
  components() as never
)
traffic((_peer, protocol, sent, received) => {
  const stream = Object.assign(new EventTarget(), { protocol, send: (_data: Uint8Array) => true })
  prom.trackProtocolStream(stream as never)
  stream.send(new Uint8Array(sent))
  const message = Object.assign(new Event('message'), { data: new Uint8Array(received) })
  stream.dispatchEvent(message)
})

// prom-client with per-peer labels at the same cardinality (what per-peer series cost there).
const labelledRegistry = new Registry()
const labelled = new Counter({
  name: 'libp2p_peer_transfer_bytes_total',
  help: 'bytes per peer',
  labelNames: ['peer', 'direction'],
  registers: [labelledRegistry]
})
traffic((peer, _protocol, sent, received) => {
  labelled.inc({ peer, direction: 'out' }, sent)
  labelled.inc({ peer, direction: 'in' }, received)
})

const loopActivity = performance.eventLoopUtilization

interface Figures {
  threadMeanMs: number
  threadMaxMs: number
  wallMeanMs: number
  bytes: number
}

async function measure(call: () => unknown): Promise<Figures> {
  const thread: number[] = []
  const wall: number[] = []
  let bytes = 0
  for (let i = 0; i < WARMUP + CALLS; i++) {
    const before = loopActivity()
    const t0 = performance.now()
    const out = await call()
    const ms = performance.now() - t0
    const active = loopActivity(before).active
    if (i < WARMUP) continue
    thread.push(active)
    wall.push(ms)
    bytes = typeof out === 'string' ? out.length : out === undefined ? 0 : JSON.stringify(out).length
  }
  return { threadMeanMs: mean(thread), threadMaxMs: Math.max(...thread), wallMeanMs: mean(wall), bytes }
}

const cases: Record<string, () => unknown> = {
  'ours prometheus() in-thread': () => ours.prometheus(),
  'ours snapshot()': () => ours.snapshot(),
  'ours prometheus() with exportFromWorker (process metrics on, the default)': () => oursWorker.prometheus(),
  'ours prometheus() with exportFromWorker, processMetrics: false': () => oursWorkerLean.prometheus(),
  'process metrics alone: ours (an idle node prometheus())': () => empty.prometheus(),
  'process metrics alone: prom-client collectDefaultMetrics': () => defaultsRegistry.metrics(),
  'ours rate sweep (tick(), once a second, not a scrape)': () => {
    ticks += 1001
    oursWorker.bandwidth.tick()
  },
  'prometheus-metrics registry.metrics() (per protocol only)': () => promRegistry.metrics(),
  'prom-client counter by peer, registry.metrics()': () => labelledRegistry.metrics()
}

// Event-loop utilisation is only accounted once the loop runs: leave module evaluation before measuring.
await new Promise((resolve) => setTimeout(resolve, 10))
const results: Record<string, Figures> = {}
for (const [name, call] of Object.entries(cases)) results[name] = await measure(call)
await oursWorker.stop()
await oursWorkerLean.stop()
await (empty as unknown as { stop(): Promise<void> }).stop()

const round3 = (n: number) => round(n, 3)
const baseline = results['ours prometheus() in-thread'] as Figures
const ratios: Record<string, number> = {}
const table: Record<string, Record<string, string>> = {}
for (const [name, f] of Object.entries(results)) {
  ratios[name] = round3(f.threadMeanMs / baseline.threadMeanMs)
  table[name] = {
    'thread ms mean': f.threadMeanMs.toFixed(3),
    'thread ms max': f.threadMaxMs.toFixed(3),
    'wall ms mean': f.wallMeanMs.toFixed(3),
    'output KiB': (f.bytes / 1024).toFixed(0)
  }
  results[name] = {
    threadMeanMs: round3(f.threadMeanMs),
    threadMaxMs: round3(f.threadMaxMs),
    wallMeanMs: round3(f.wallMeanMs),
    bytes: f.bytes
  }
}

const workload =
  `${PEERS.toLocaleString('en-US')} peers tracked, each sending and receiving on one of ${PROTOCOLS} protocols; ` +
  `per-peer labels on (default cap ${DEFAULT_MAX_PEER_LABELS} labelled peers); ${CALLS} calls each after ${WARMUP} warm-up; ` +
  "thread time = the event loop's active time across one call; ratios = thread mean vs ours in-thread prometheus()"
console.log(`scrape: ${workload}`)
console.table(table)
// The target is judged in a process holding one node (scrape-alone.ts), not in this shared one.
const alone = aloneScrapes(PEERS)
console.log(
  `exportFromWorker in a process of its own (${PEERS.toLocaleString('en-US')} peers, ${ALONE_SCRAPES} scrapes ` +
    '20 ms apart; ms per scrape; own = active time minus the GC pauses inside the scrape):'
)
console.table(
  Object.fromEntries(
    ALONE_VARIANTS.map((name) => {
      const f = alone[name]
      return [
        name,
        {
          'active mean / p99 / max': `${f.active.mean.toFixed(3)} / ${f.active.p99.toFixed(3)} / ${f.active.max.toFixed(3)}`,
          'own mean / p99 / max': `${f.own.mean.toFixed(3)} / ${f.own.p99.toFixed(3)} / ${f.own.max.toFixed(3)}`,
          'GC pause max': f.gc.max.toFixed(3),
          'wait for a core max': f.waited.max.toFixed(3),
          'CPU mean': f.cpuMean.toFixed(3),
          'over 1 ms (active/GC/wait)':
            f.over1ms
              .map((r) => `${r.active.toFixed(1)}/${r.gc.toFixed(1)}/${r.waited.toFixed(1)}`)
              .join(' ') || '-'
        }
      ]
    })
  )
)
const deployed = alone[ALONE_VARIANTS[0]]
console.log(
  `${deployed.active.p99 < 1 ? 'met   ' : 'MISSED'}  a scrape of ${PEERS.toLocaleString('en-US')} peers with exportFromWorker holds the node's thread < 1 ms at p99 (process metrics on; active time mean ${deployed.active.mean.toFixed(3)}, p99 ${deployed.active.p99.toFixed(3)}, max ${deployed.active.max.toFixed(3)} ms)`
)
const bare = alone[ALONE_VARIANTS[2]]
const withoutProcess = alone[ALONE_VARIANTS[1]]
if (bare.textLength !== deployed.textLength) {
  throw new Error(`the floor answered ${bare.textLength} characters, the scrape ${deployed.textLength}`)
}
// Where a bare worker round trip (the floor) also took over 1 ms of its own in some call, no worker export can
// promise every scrape under 1 ms on this machine: the verdict says so instead of met or missed.
const everyScrape = deployed.own.max < 1 ? 'met   ' : bare.own.max >= 1 ? 'floor ' : 'MISSED'
console.log(
  `${everyScrape}  and < 1 ms in every scrape once V8's GC pauses and the machine's other work are taken out (own max ${deployed.own.max.toFixed(3)} ms, p99 ${deployed.own.p99.toFixed(3)}; GC pause max ${deployed.gc.max.toFixed(3)} ms, wait for a core max ${deployed.waited.max.toFixed(3)} ms; a bare worker round trip of the same ${deployed.textLength.toLocaleString('en-US')} characters in the same run: own max ${bare.own.max.toFixed(3)}, p99 ${bare.own.p99.toFixed(3)} ms)`
)
console.log(
  `        the scrape over the bare round trip, active mean / p99: +${(deployed.active.mean - bare.active.mean).toFixed(3)} / +${(deployed.active.p99 - bare.active.p99).toFixed(3)} ms; process metrics' share (on - off): +${(deployed.active.mean - withoutProcess.active.mean).toFixed(3)} / +${(deployed.active.p99 - withoutProcess.active.p99).toFixed(3)} ms`
)
const idle = idleCosts()
console.log(
  `idle costs (fresh process per variant, ${IDLE_SECONDS} s idle, then ${IDLE_SCRAPES} scrapes; node-thread ms):`
)
console.table(
  Object.fromEntries(
    Object.entries(idle).map(([name, f]) => [
      name,
      {
        'background ms per s': f.backgroundMsPerSecond.toFixed(2),
        'one scrape ms (median)': f.scrapeMs === null ? '-' : f.scrapeMs.toFixed(3),
        'scrape KiB': f.scrapeBytes === null ? '-' : (f.scrapeBytes / 1024).toFixed(1)
      }
    ])
  )
)
bench.finish({ workload, results, ratios, alone, idle })
