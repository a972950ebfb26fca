// Attaches to the map it is given, reports what it sees, then writes its own keys.
import { parentPort, workerData } from 'node:worker_threads'
import { SharedMetricMap } from '../../src/index.ts'

const map = SharedMetricMap.attach(workerData.buffer)
const seen = Object.fromEntries(map.snapshot())
map.add('from-worker', 7)
map.handle('shared').add(100)
map.detach()
parentPort?.postMessage(seen)
