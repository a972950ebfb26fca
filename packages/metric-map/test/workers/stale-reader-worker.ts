// Hammers one key through a long-lived handle while another thread deletes it and reuses its slot for other
// keys. Every other key holds at least OTHER_BASE; the victim's own value stays far below it. Seeing OTHER_BASE
// or more through the handle would mean a stale handle read another key's counter.
import { parentPort, workerData } from 'node:worker_threads'
import { SharedMetricMap } from '../../src/index.ts'

const { target, rounds, otherBase, go } = workerData as {
  target: Parameters<typeof SharedMetricMap.attach>[0]
  rounds: number
  otherBase: number
  go: Int32Array
}
const map = SharedMetricMap.attach(target)
const handle = map.handle('victim')
Atomics.add(go, 0, 1)
let adds = 0
let maxSeen = 0
let foreign = 0
for (let i = 0; i < rounds; i++) {
  const after = handle.add(1)
  adds++
  const read = handle.get()
  const top = Math.max(after, read)
  if (top >= otherBase) foreign++
  if (top > maxSeen) maxSeen = top
}
map.detach()
parentPort?.postMessage({ adds, maxSeen, foreign })
