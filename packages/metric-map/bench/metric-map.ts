// Counter-map increments per second, every competitor side by side in one process run.
// Workload: 1,000 string keys (peer id + protocol), a pre-generated key and delta sequence.
import { once } from 'node:events'
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { envInteger, startBench } from '@peerscope/bench-kit'
import { Counter, Registry } from 'prom-client'
import { LocalMetricMap, SharedMetricMap } from '../src/index.ts'
import { KEY_COUNT, workload } from './workload.ts'

const OPERATIONS = envInteger('BENCH_OPS', 2_000_000, { min: 1 })
const COW_OPERATIONS = Math.max(1000, Math.floor(OPERATIONS / 200))
const ROUNDS = envInteger('BENCH_ROUNDS', 3, { min: 1 })
const bench = startBench('metric-map', {
  operations: OPERATIONS,
  copyOnWriteOperations: COW_OPERATIONS,
  rounds: ROUNDS
})

const { keys, sequence, deltas } = workload(OPERATIONS, 0x12345)

/** The seed's MetricMap: the whole map cloned and swapped in on every update (modelled single-threaded). */
class CopyOnWriteMap {
  current = new Map<string, number>()

  storeOrModify(key: string, value: number, onModify: (key: string, old: number) => number): void {
    for (;;) {
      const old = this.current
      const next = new Map(old)
      const prev = old.get(key)
      next.set(key, prev === undefined ? value : onModify(key, prev))
      // The seed CASes the new map in and retries from a fresh clone on failure.
      if (this.current === old) {
        this.current = next
        return
      }
    }
  }
}

type Case = () => number // runs the workload, returns operations done

function timeIt(run: Case): number {
  const t0 = performance.now()
  const ops = run()
  return ops / ((performance.now() - t0) / 1000)
}

const plainMap = new Map<string, number>()
const local = new LocalMetricMap()
const localHandles = keys.map((k) => local.handle(k))
// The multi-writer configuration: a lane per writing thread, updates that never read the other lanes back.
const LANES = 2
const cow = new CopyOnWriteMap()
const registry = new Registry()
const promCounter = new Counter({
  name: 'peer_bytes_total',
  help: 'bytes per peer',
  labelNames: ['peer'],
  registers: [registry]
})

const cases: Record<string, Case> = {
  'plain Map': () => {
    for (let i = 0; i < OPERATIONS; i++) {
      const k = keys[sequence[i] as number] as string
      plainMap.set(k, (plainMap.get(k) ?? 0) + (deltas[i] as number))
    }
    return OPERATIONS
  },
  'LocalMetricMap by key': () => {
    for (let i = 0; i < OPERATIONS; i++) local.add(keys[sequence[i] as number] as string, deltas[i] as number)
    return OPERATIONS
  },
  'LocalMetricMap by handle': () => {
    for (let i = 0; i < OPERATIONS; i++)
      (localHandles[sequence[i] as number] as (typeof localHandles)[0]).add(deltas[i] as number)
    return OPERATIONS
  },
  'copy-on-write (seed design)': () => {
    const add = (_k: string, old: number): number => old + 1
    for (let i = 0; i < COW_OPERATIONS; i++) cow.storeOrModify(keys[sequence[i] as number] as string, 1, add)
    return COW_OPERATIONS
  },
  'prom-client labelled Counter': () => {
    for (let i = 0; i < OPERATIONS; i++)
      promCounter.inc({ peer: keys[sequence[i] as number] as string }, deltas[i] as number)
    return OPERATIONS
  }
}

type SharedMode = 'key' | 'handle' | 'increment'

/**
 * Writer threads on one shared map; the rate is all their operations over the wall time they span. Every shared
 * case runs in workers, the 1-thread ones too: each map has its own WebAssembly instance, and a thread that
 * updated two maps from one call site would run its updates through a polymorphic call (about 40% slower).
 */
async function sharedWriters(mode: SharedMode, count: number): Promise<number> {
  const map = SharedMetricMap.create({ capacity: KEY_COUNT * 2, lanes: mode === 'increment' ? LANES : 1 })
  const gate = new Int32Array(new SharedArrayBuffer(8))
  const workers = Array.from(
    { length: count },
    (_, w) =>
      new Worker(new URL('./metric-map-worker.ts', import.meta.url), {
        workerData: {
          target: map.memory ?? map.buffer,
          operations: OPERATIONS,
          seed: 0x12345 + w + 1,
          mode,
          gate
        }
      })
  )
  const reports = workers.map((w) => once(w, 'message') as Promise<[{ start: number; end: number }]>)
  const exits = workers.map((w) => once(w, 'exit'))
  while (Atomics.load(gate, 1) < workers.length) await new Promise((r) => setTimeout(r, 5))
  Atomics.store(gate, 0, 1)
  Atomics.notify(gate, 0)
  const windows = (await Promise.all(reports)).map(([r]) => r)
  await Promise.all(exits)
  const span = Math.max(...windows.map((r) => r.end)) - Math.min(...windows.map((r) => r.start))
  return (OPERATIONS * workers.length) / (span / 1000)
}

const sharedCases: Array<[string, SharedMode]> = [
  ['SharedMetricMap by key', 'key'],
  ['SharedMetricMap by handle', 'handle'],
  [`SharedMetricMap (${LANES} lanes) by handle.increment`, 'increment']
]

const best: Record<string, number> = {}
const record = (name: string, rate: number): void => {
  best[name] = Math.max(best[name] ?? 0, rate)
}
for (const run of Object.values(cases)) run() // warm-up
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of Object.entries(cases)) record(name, timeIt(run))
  for (const [name, mode] of sharedCases) {
    record(`${name}, 1 thread`, await sharedWriters(mode, 1))
    record(`${name}, 2 workers`, await sharedWriters(mode, 2))
  }
}

const r = (a: string, b: string): number => (best[a] as number) / (best[b] as number)
const ratios = {
  local_vs_map: r('LocalMetricMap by key', 'plain Map'),
  local_vs_copy_on_write: r('LocalMetricMap by key', 'copy-on-write (seed design)'),
  local_handle_vs_map: r('LocalMetricMap by handle', 'plain Map'),
  shared_handle_vs_map: r('SharedMetricMap by handle, 1 thread', 'plain Map'),
  shared_key_2_workers_vs_1_thread: r(
    'SharedMetricMap by key, 2 workers',
    'SharedMetricMap by key, 1 thread'
  ),
  shared_handle_2_workers_vs_1_thread: r(
    'SharedMetricMap by handle, 2 workers',
    'SharedMetricMap by handle, 1 thread'
  ),
  shared_lanes_increment_vs_map: r(
    `SharedMetricMap (${LANES} lanes) by handle.increment, 1 thread`,
    'plain Map'
  ),
  shared_lanes_increment_2_workers_vs_1_thread: r(
    `SharedMetricMap (${LANES} lanes) by handle.increment, 2 workers`,
    `SharedMetricMap (${LANES} lanes) by handle.increment, 1 thread`
  ),
  prom_client_vs_map: r('prom-client labelled Counter', 'plain Map')
}
const targets: Array<[string, number, number]> = [
  ['LocalMetricMap >= 0.8x plain Map', ratios.local_vs_map, 0.8],
  ['LocalMetricMap >= 500x copy-on-write', ratios.local_vs_copy_on_write, 500],
  ['updates by handle (LocalMetricMap) >= 2x plain Map', ratios.local_handle_vs_map, 2],
  ['updates by handle (SharedMetricMap) >= 2x plain Map', ratios.shared_handle_vs_map, 2],
  ['SharedMetricMap by key, 2 workers >= 1.5x 1 thread', ratios.shared_key_2_workers_vs_1_thread, 1.5],
  ['SharedMetricMap by handle, 2 workers >= 1.5x 1 thread', ratios.shared_handle_2_workers_vs_1_thread, 1.5],
  [
    `SharedMetricMap (${LANES} lanes) by handle.increment >= 2x plain Map`,
    ratios.shared_lanes_increment_vs_map,
    2
  ],
  [
    `SharedMetricMap (${LANES} lanes) by handle.increment, 2 workers >= 1.5x 1 thread`,
    ratios.shared_lanes_increment_2_workers_vs_1_thread,
    1.5
  ]
]

const fmt = (n: number): string =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)} M/s` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k/s` : `${n.toFixed(0)} /s`
console.log(
  `metric-map: increments/s, ${KEY_COUNT} keys, ${OPERATIONS} ops per run (${COW_OPERATIONS} for copy-on-write), best of ${ROUNDS}, ${availableParallelism()} CPUs`
)
console.log('| competitor | increments/s |\n|---|---:|')
for (const [name, rate] of Object.entries(best)) console.log(`| ${name} | ${fmt(rate)} |`)
console.log('\n| target | measured | met |\n|---|---:|---|')
for (const [name, got, want] of targets)
  console.log(`| ${name} | ${got.toFixed(2)}x | ${got >= want ? 'yes' : 'NO'} |`)
bench.finish({
  workload: `${KEY_COUNT} string keys, pre-generated sequence of ${OPERATIONS} increments, best of ${ROUNDS}`,
  results: Object.fromEntries(Object.entries(best).map(([k, v]) => [k, Math.round(v)])),
  ratios: Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, Number(v.toFixed(3))]))
})
