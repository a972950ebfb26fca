// One benchmark writer thread: warms up, waits for the start signal, counts, reports its own time window.
import { parentPort, workerData } from 'node:worker_threads'
import { SharedMetricMap } from '../src/index.ts'
import { workload } from './workload.ts'

const { target, operations, seed, mode, gate } = workerData as {
  target: Parameters<typeof SharedMetricMap.attach>[0]
  operations: number
  seed: number
  mode: 'key' | 'handle' | 'increment'
  gate: Int32Array
}
const map = SharedMetricMap.attach(target)
const { keys, sequence, deltas } = workload(operations, seed)
const handles = keys.map((k) => map.handle(k))

function run(): void {
  if (mode === 'handle') {
    for (let i = 0; i < operations; i++)
      (handles[sequence[i] as number] as (typeof handles)[0]).add(deltas[i] as number)
  } else if (mode === 'increment') {
    for (let i = 0; i < operations; i++)
      (handles[sequence[i] as number] as (typeof handles)[0]).increment(deltas[i] as number)
  } else {
    for (let i = 0; i < operations; i++) map.add(keys[sequence[i] as number] as string, deltas[i] as number)
  }
}

run() // warm-up, so the timed run is optimised code
Atomics.add(gate, 1, 1)
Atomics.notify(gate, 1)
Atomics.wait(gate, 0, 0)
const start = performance.timeOrigin + performance.now()
run()
const end = performance.timeOrigin + performance.now()
map.detach()
parentPort?.postMessage({ start, end })
