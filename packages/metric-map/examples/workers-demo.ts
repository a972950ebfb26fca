// Several worker threads count into one SharedMetricMap while this thread prints a live table, then checks
// that the shared total equals what the workers report having sent. Exits by itself.
//   node --conditions=@peerscope/source packages/metric-map/examples/workers-demo.ts
import { once } from 'node:events'
import { Worker } from 'node:worker_threads'
import { SharedMetricMap } from '@peerscope/metric-map'

const WORKERS = 3
const DURATION_MS = 2000
const map = SharedMetricMap.create({ capacity: 64, maxKeyBytes: 64 })

const workers = Array.from(
  { length: WORKERS },
  (_, id) =>
    new Worker(new URL('./demo-worker.ts', import.meta.url), {
      workerData: { memory: map.memory ?? map.buffer, id, durationMs: DURATION_MS }
    })
)
const results = workers.map(async (w) => (await once(w, 'message'))[0] as number)
const exits = workers.map((w) => once(w, 'exit'))

function printTable(title: string): void {
  const rows = [...map.snapshot()].sort(([a], [b]) => a.localeCompare(b))
  console.log(`\n${title} (${map.size} keys)`)
  for (const [key, value] of rows)
    console.log(`  ${key.padEnd(34)} ${value.toLocaleString('en-US').padStart(16)}`)
}

const started = Date.now()
const ticker = setInterval(() => printTable(`after ${Date.now() - started} ms`), 500)
const sent = await Promise.all(results)
clearInterval(ticker)
await Promise.all(exits)

printTable('final')
const expected = sent.reduce((a, b) => a + b, 0)
const counted = map.get('total bytes') ?? 0
const perProtocol = [...map.entries()]
  .filter(([k]) => k.startsWith('protocol '))
  .reduce((a, [, v]) => a + v, 0)
console.log(
  `\nworkers sent ${expected.toLocaleString('en-US')} bytes; the shared map counted ${counted.toLocaleString('en-US')}`
)
if (counted !== expected || perProtocol !== expected) {
  console.error('mismatch: an update was lost')
  process.exit(1)
}
console.log('no update lost, no lock taken.')
