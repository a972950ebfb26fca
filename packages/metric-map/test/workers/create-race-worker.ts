// One of two threads that, epoch after epoch, create the same keys in the same order until the map is full,
// released together by a barrier. Thread 0 checks every sum and clears the map between epochs. A thread that
// fails raises gate[1], so its partner leaves the barrier instead of spinning forever.
import { parentPort, workerData } from 'node:worker_threads'
import { SharedMetricMap } from '../../src/index.ts'

const { target, keyCount, epochs, gate, writers, index } = workerData as {
  target: Parameters<typeof SharedMetricMap.attach>[0]
  keyCount: number
  epochs: number
  gate: Int32Array
  writers: number
  index: number
}
const map = SharedMetricMap.attach(target)
const keys = Array.from({ length: keyCount }, (_, i) => `race/${i}`)
let arrivals = 0
/** Spins (no sleep) until every writer arrived, so all start the next step at once: one thread per core. */
function barrier(): void {
  Atomics.add(gate, 0, 1)
  arrivals += writers
  while (Atomics.load(gate, 0) < arrivals) {
    if (Atomics.load(gate, 1) !== 0) throw new Error('the other writer failed')
  }
}
let mismatches = 0
try {
  for (let epoch = 0; epoch < epochs; epoch++) {
    barrier()
    for (let i = 0; i < keyCount; i++) map.handle(keys[i] as string).increment(i + 1)
    barrier()
    if (index === 0) {
      if (map.size !== keyCount) mismatches++
      for (let i = 0; i < keyCount; i++) if (map.get(keys[i] as string) !== writers * (i + 1)) mismatches++
      map.clear()
    }
    barrier()
  }
} catch (err) {
  Atomics.store(gate, 1, 1)
  throw err
}
map.detach()
parentPort?.postMessage({ mismatches })
