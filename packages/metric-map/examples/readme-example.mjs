// example.mjs: two worker threads count into one shared map; the main thread reads it.
import { isMainThread, Worker, workerData } from 'node:worker_threads'
import { LocalMetricMap, SharedMetricMap } from '@peerscope/metric-map'

if (isMainThread) {
  // In-thread: O(1) in-place updates; a handle skips the hash lookup on every update.
  const local = new LocalMetricMap()
  const stream = local.handle('/ipfs/id/1.0.0')
  stream.add(512)
  local.add('/ipfs/id/1.0.0', 100)
  console.log('local', local.get('/ipfs/id/1.0.0')) // 612

  // Across threads: create once, post its memory, attach in each worker. A lane per thread (this one and two
  // workers): the workers both add to 'peer-a' without passing its counter's cache line back and forth.
  const shared = SharedMetricMap.create({ capacity: 1024, maxKeyBytes: 128, lanes: 3 })
  const workers = [1, 2].map(
    (id) => new Worker(new URL(import.meta.url), { workerData: { memory: shared.memory, id } })
  )
  await Promise.all(workers.map((w) => new Promise((resolve) => w.once('exit', resolve))))
  console.log('shared', Object.fromEntries(shared.snapshot())) // { 'peer-a': 200000, 'peer-b': 100000 }
} else {
  const map = SharedMetricMap.attach(workerData.memory)
  const a = map.handle('peer-a')
  for (let i = 0; i < 100_000; i++) a.increment(1) // add without reading the total back
  if (workerData.id === 1) for (let i = 0; i < 100_000; i++) map.add('peer-b', 1)
  map.detach()
}
