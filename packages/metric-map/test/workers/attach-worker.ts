// Attaches to the map it is given, reports what it sees, then writes its own keys.
import { parentPort, workerData } from 'node:worker_threads'
import { SharedMetricMap } from '../../src/index.ts'

const map = SharedMetricMap.attach(workerData.target)
const seen = Object.fromEntries(map.snapshot())
map.add('from-worker', 7)
map.handle('shared').add(100)
const fast = map.memory !== undefined
map.detach()
parentPort?.postMessage({ seen, fast })
