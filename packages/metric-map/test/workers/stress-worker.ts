// One stress writer: replays its seeded sequence of (key, delta) into the shared map, by key, by handle.add or by
// handle.increment.
import { parentPort, workerData } from 'node:worker_threads'
import { SharedMetricMap } from '../../src/index.ts'
import { prng } from '../prng.ts'

const { target, seed, increments, keyCount, maxDelta, mode } = workerData as {
  target: Parameters<typeof SharedMetricMap.attach>[0]
  seed: number
  increments: number
  keyCount: number
  maxDelta: number
  mode: 'key' | 'handle' | 'increment'
}
const map = SharedMetricMap.attach(target)
const keys = Array.from({ length: keyCount }, (_, i) => `/peer/${i}`)
const handles = mode === 'key' ? [] : keys.map((k) => map.handle(k))
const random = prng(seed)
for (let i = 0; i < increments; i++) {
  const k = Math.floor(random() * keyCount)
  const delta = 1 + Math.floor(random() * maxDelta)
  if (mode === 'handle') (handles[k] as ReturnType<typeof map.handle>).add(delta)
  else if (mode === 'increment') (handles[k] as ReturnType<typeof map.handle>).increment(delta)
  else map.add(keys[k] as string, delta)
}
map.detach()
parentPort?.postMessage('done')
