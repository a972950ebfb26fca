// Per-event cost of counting, ns/event, at 1,000 peers x 10 protocols: `logSent` given an attribution
// object, a resolved `channel().sent()`, a plain `Map` increment (the floor) and prom-client labelled counters.
// Every case replays the same pre-generated sequence of (peer, protocol, size), in random order or in runs of 64
// per attribution as a stream produces them; rounds alternate the cases.
import { envInteger, median, startBench } from '@peerscope/bench-kit'
import { Counter, Registry } from 'prom-client'
import { type Attribution, BandwidthCounter, type Channel } from '../src/node.ts'

const PEERS = 1000
const PROTOCOLS = 10
const EVENTS = envInteger('BENCH_EVENTS', 200_000, { min: 1 })
const ROUNDS = envInteger('BENCH_ROUNDS', 5, { min: 1 })
const bench = startBench('log-event', { events: EVENTS, rounds: ROUNDS })

let seed = 0x9e3779b9
function random(): number {
  seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0
  return seed / 2 ** 32
}

const pairs = PEERS * PROTOCOLS
const attributions = Array.from({ length: pairs }, (_, k) => ({
  peer: `12D3KooW${Math.floor(k / PROTOCOLS)
    .toString(36)
    .padStart(44, 'x')}`,
  protocol: `/peerscope-bench/proto-${k % PROTOCOLS}/1.0.0`
}))
const sequence = Uint32Array.from({ length: EVENTS }, () => Math.floor(random() * pairs))
// A stream's events come in runs: the same attributions, in runs of 64 (the cache-friendly case).
const BURST = 64
const bursts = Uint32Array.from({ length: EVENTS }, (_, i) => sequence[i - (i % BURST)] as number)
const sizes = Uint32Array.from({ length: EVENTS }, () => 1 + Math.floor(random() * 65_536))

const plain = new Map<string, number>()
const plainKeys = attributions.map((a) => `${a.peer}/${a.protocol}`)

const counter = new BandwidthCounter()
const channels: Channel[] = attributions.map((a) => counter.channel(a))

const registry = new Registry()
const prom = new Counter({
  name: 'bytes_total',
  help: 'bytes',
  labelNames: ['peer', 'protocol'],
  registers: [registry]
})
const promChildren = attributions.map((a) => prom.labels(a.peer, a.protocol))

const cases: Record<string, () => void> = {
  'plain Map increment': () => {
    for (let i = 0; i < EVENTS; i++) {
      const key = plainKeys[sequence[i] as number] as string
      plain.set(key, (plain.get(key) ?? 0) + (sizes[i] as number))
    }
  },
  'plain Map increment, bursts': () => {
    for (let i = 0; i < EVENTS; i++) {
      const key = plainKeys[bursts[i] as number] as string
      plain.set(key, (plain.get(key) ?? 0) + (sizes[i] as number))
    }
  },
  // A channel adds to the map once per task: the flush that does it is timed with the events.
  'channel().sent(bytes), resolved, bursts': () => {
    for (let i = 0; i < EVENTS; i++) (channels[bursts[i] as number] as Channel).sent(sizes[i] as number)
    counter.flush()
  },
  'logSent(bytes, attribution)': () => {
    for (let i = 0; i < EVENTS; i++) {
      counter.logSent(sizes[i] as number, attributions[sequence[i] as number])
    }
  },
  'channel().sent(bytes), resolved': () => {
    for (let i = 0; i < EVENTS; i++) (channels[sequence[i] as number] as Channel).sent(sizes[i] as number)
    counter.flush()
  },
  'prom-client inc(labels, bytes)': () => {
    for (let i = 0; i < EVENTS; i++)
      prom.inc(attributions[sequence[i] as number] as Attribution, sizes[i] as number)
  },
  'prom-client labels() child, inc(bytes)': () => {
    for (let i = 0; i < EVENTS; i++) promChildren[sequence[i] as number]?.inc(sizes[i] as number)
  }
}

const names = Object.keys(cases)
const samples = new Map<string, number[]>(names.map((n) => [n, []]))
for (const name of names) cases[name]?.() // warm-up: every series exists and the code is optimised
for (let round = 0; round < ROUNDS; round++) {
  for (let k = 0; k < names.length; k++) {
    const name = names[(k + round) % names.length] as string
    const t0 = performance.now()
    cases[name]?.()
    samples.get(name)?.push(((performance.now() - t0) * 1e6) / EVENTS)
  }
}

const results: Record<string, { nsPerEvent: number }> = {}
const ratios: Record<string, number> = {}
const base = median(samples.get('plain Map increment') as number[])
const burstBase = median(samples.get('plain Map increment, bursts') as number[])
const table: Record<string, Record<string, string>> = {}
for (const name of names) {
  const ns = median(samples.get(name) as number[])
  results[name] = { nsPerEvent: Math.round(ns * 10) / 10 }
  const ratio = ns / (name.endsWith(', bursts') ? burstBase : base)
  ratios[name] = Math.round(ratio * 100) / 100
  table[name] = { 'ns/event (median)': ns.toFixed(1), 'vs plain Map (same order)': ratio.toFixed(2) }
}

// The counts must agree, or the cases did not do the same work: every case ran ROUNDS + 1 times (warm-up),
// three of them on our counter and two on prom-client's.
let sum = 0
for (const size of sizes) sum += size
const oursTotal = counter.totals().totalOut
let promTotal = 0
for (const metric of (await registry.getMetricsAsJSON())[0]?.values ?? []) promTotal += metric.value
if (oursTotal !== 3 * sum * (ROUNDS + 1) || promTotal !== 2 * sum * (ROUNDS + 1)) {
  throw new Error(`counted ${oursTotal} (ours) and ${promTotal} (prom-client) bytes for ${sum} per case run`)
}

const workload = `${PEERS} peers x ${PROTOCOLS} protocols, ${EVENTS.toLocaleString('en-US')} events of 1..64 KiB per run in random order (and in runs of ${BURST} per attribution: ', bursts'), ${ROUNDS} rounds alternating, median; ratios vs plain Map in the same order`
console.log(`log-event: ${workload}`)
console.table(table)
bench.finish({ workload, results, ratios })
