// What the libp2p hooks cost per message on their own, away from the noise of a real transfer: one task models
// one 64 KiB message as each side's hooks see it (sender: a stream `send` and a wire `send`; receiver: a wire
// `message` event and a stream `message` event), then yields, so a channel hands its counts to the map once per
// message as it does in a node (the flush is inside the timed region). Objects are stand-ins with the fields the
// hooks read; the cases alternate over rounds and the counted bytes are checked. Also counted: garbage collections
// during each case, the garbage made per message (a boxed number, a re-allocated array) that time alone hides.
//   bare:  the same calls on objects without hooks (the floor);
//   hooks: the `send`/`dispatchEvent` wrappers ours installs (`countStream`), with callbacks that do nothing;
//   ours:  `libp2pMetrics()` with the connection opened and the stream attributed to its peer;
//   prometheus-metrics: `@libp2p/prometheus-metrics` 5 with its own prom-client `Registry` (per protocol only).
// Then the tracing hooks (bench/trace-cost.ts): what `traceFunction` adds to a call, with and without a tracer
// provider registered.
import { PerformanceObserver } from 'node:perf_hooks'
import type { Connection, Metrics, MultiaddrConnection, Stream } from '@libp2p/interface'
import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import { envInteger, median, startBench } from '@peerscope/bench-kit'
import { Registry } from 'prom-client'
import { countStream } from '../src/libp2p/count-stream.ts'
import { libp2pMetrics, type PeerscopeMetrics } from '../src/node.ts'
import { traceCost, traceCostConfig } from './trace-cost.ts'

const TASKS = envInteger('BENCH_TASKS', 200_000, { min: 1 })
const ROUNDS = envInteger('BENCH_ROUNDS', 5, { min: 1 })
const bench = startBench('hook-cost', { tasks: TASKS, rounds: ROUNDS, ...traceCostConfig })
const PROTOCOL = '/peerscope-bench/sink/1.0.0'
const PAYLOAD = 64 * 1024
const WIRE = PAYLOAD + 12 + 16 + 2 // yamux header, noise tag and length prefix

interface Hooked {
  send(data: Uint8Array): boolean
  dispatchEvent(event: Event): boolean
}

function standIn(): Hooked & EventTarget & Record<string, unknown> {
  const target = new EventTarget() as EventTarget & Hooked & Record<string, unknown>
  target.send = (data: Uint8Array) => data.byteLength > 0
  return target
}

function messageEvent(data: Uint8Array): Event {
  return Object.assign(new Event('message'), { data })
}

interface Side {
  stream: Hooked
  wire: Hooked
}

function bare(): Side {
  return { stream: standIn(), wire: standIn() }
}

function hooked(metrics: Metrics, onOpen?: (connection: Connection) => void): Side {
  const wire = standIn()
  const timeline = { open: Date.now() }
  wire.timeline = timeline
  metrics.trackMultiaddrConnection(wire as unknown as MultiaddrConnection)
  const stream = standIn()
  stream.protocol = PROTOCOL
  const connection = {
    id: 'bench-connection',
    remotePeer: { toString: () => '12D3KooWKHjtaVndWEozKuAXaeQ9QNmg4Jw7ZvR8P3u2C8LRPqsj' },
    direction: 'outbound',
    remoteAddr: { toString: () => '/ip4/127.0.0.1/tcp/4001' },
    timeline,
    streams: [stream]
  } as unknown as Connection
  onOpen?.(connection)
  metrics.trackProtocolStream(stream as unknown as Stream)
  return { stream, wire }
}

const events = new EventTarget()
const logger = { forComponent: () => Object.assign(() => {}, { error() {}, trace() {}, enabled: false }) }
// Only the hooks are timed: process metrics (an event-loop sampler, a GC observer) off, as prometheus-metrics'.
const ours = libp2pMetrics({ idleTimeout: 0, processMetrics: false })({
  events,
  logger
} as never) as PeerscopeMetrics & {
  start(): void
  stop(): Promise<void>
}
ours.start()
const registry = new Registry()
const theirs = prometheusMetrics({ registry, preserveExistingMetrics: true, collectDefaultMetrics: false })({
  logger
} as never)
const nothing = (): void => {}
/** Only the two calls `hooked` makes: the wrappers, counting nothing. */
const wrappersOnly = {
  trackMultiaddrConnection: (maConn: MultiaddrConnection) => countStream(maConn, nothing, nothing),
  trackProtocolStream: (stream: Stream) => countStream(stream, nothing, nothing)
} as unknown as Metrics
const sides: Record<string, Side> = {
  bare: bare(),
  hooks: hooked(wrappersOnly),
  ours: hooked(ours, (connection) =>
    events.dispatchEvent(new CustomEvent('connection:open', { detail: connection }))
  ),
  'prometheus-metrics': hooked(theirs)
}

const payload = new Uint8Array(PAYLOAD)
const wireChunk = new Uint8Array(WIRE)
const payloadEvent = messageEvent(payload)
const wireEvent = messageEvent(wireChunk)

const gcStarts: number[] = []
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcStarts.push(entry.startTime)
}).observe({ entryTypes: ['gc'] })
const windows: Record<string, Array<[number, number]>> = Object.fromEntries(
  Object.keys(sides).map((n) => [n, []])
)

async function run(side: Side, name: string): Promise<number> {
  const t0 = performance.now()
  for (let i = 0; i < TASKS; i++) {
    side.stream.send(payload)
    side.wire.send(wireChunk)
    side.wire.dispatchEvent(wireEvent)
    side.stream.dispatchEvent(payloadEvent)
    await null // the end of the task: a channel's microtask hands its counts to the map here
  }
  const t1 = performance.now()
  windows[name]?.push([t0, t1])
  return ((t1 - t0) * 1e6) / TASKS
}

const names = Object.keys(sides)
const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]))
for (let round = 0; round < ROUNDS + 1; round++) {
  for (let k = 0; k < names.length; k++) {
    const name = names[(k + round) % names.length] as string
    const ns = await run(sides[name] as Side, name)
    if (round > 0) times[name]?.push(ns) // round 0 warms up
  }
}
await ours.stop()
await new Promise((resolve) => setTimeout(resolve, 20)) // the observer reports the last collections a bit later

const expected = (ROUNDS + 1) * TASKS * PAYLOAD
const totals = ours.bandwidth.totals()
if (totals.totalOut !== expected || totals.totalIn !== expected)
  throw new Error(`ours counted ${totals.totalOut} out / ${totals.totalIn} in, expected ${expected} each`)
const wire = ours.bandwidth.forConnection('bench-connection')
if (wire?.totalOut !== (ROUNDS + 1) * TASKS * WIRE) throw new Error('ours miscounted the wire bytes')
// prometheus-metrics keeps its counts until a scrape: one scrape must show every byte, per protocol and wire.
const text = await registry.metrics()
for (const [label, bytes] of [
  [`${PROTOCOL} sent`, expected],
  [`${PROTOCOL} received`, expected],
  ['global sent', (ROUNDS + 1) * TASKS * WIRE]
] as const) {
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`libp2p_data_transfer_bytes_total{protocol="${label}"}`))
  if (Number(line?.split(' ').pop()) !== bytes)
    throw new Error(`prometheus-metrics counted ${String(line)}, expected ${bytes} for ${label}`)
}

const floor = median(times.bare as number[])
const results: Record<string, { nsPerMessage: number; overBare: number; gcPer100kMessages: number }> = {}
for (const [name, list] of Object.entries(times)) {
  const ns = median(list)
  // Round 0 (warm-up) is left out, as for the times.
  const timed = (windows[name] ?? []).slice(1)
  const collections = gcStarts.filter((t) => timed.some(([a, b]) => t >= a && t <= b)).length
  results[name] = {
    nsPerMessage: Math.round(ns),
    overBare: Math.round(ns - floor),
    gcPer100kMessages: Math.round((collections * 100_000 * 10) / (ROUNDS * TASKS)) / 10
  }
}
const workload =
  `${TASKS.toLocaleString('en-US')} messages of 64 KiB per round, each: stream send + wire send + wire message + ` +
  `stream message, then the end of the task; ${ROUNDS} rounds after one warm-up, cases alternating; medians`
console.log(`hook cost: ${workload}`)
console.table(
  Object.fromEntries(
    Object.entries(results).map(([name, r]) => [
      name,
      { 'ns/message': r.nsPerMessage, 'over bare': r.overBare, 'GCs per 100k messages': r.gcPer100kMessages }
    ])
  )
)
const tracing = await traceCost()
bench.finish({ workload, results, tracing })
