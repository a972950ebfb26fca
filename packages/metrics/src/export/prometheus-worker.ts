// Runs in a worker thread: renders the bandwidth families from the shared counter map, so a scrape never holds
// the node's thread for the per-peer and per-protocol series; and, given the node thread's own readings, the
// process families, adding the figures any thread of the process reads alike (CPU, resident memory, /proc).
import { parentPort, workerData } from 'node:worker_threads'
import { SharedMetricMap } from '@peerscope/metric-map'
import { processFamilies, readProcess, type ThreadReadings } from '../process/process-metrics.ts'
import { bandwidthFamilies, type PrometheusOptions } from './bandwidth-families.ts'
import { renderFamilies } from './exposition.ts'
import { statsFromMap } from './map-stats.ts'

interface Setup {
  buffer: SharedArrayBuffer
  options: PrometheusOptions
}

const { buffer, options } = workerData as Setup
const map = SharedMetricMap.attach(buffer)
const limits = {}

parentPort?.on('message', (request: { id: number; thread?: ThreadReadings }) => {
  try {
    const text = renderFamilies(bandwidthFamilies(statsFromMap(map), options))
    const process =
      request.thread === undefined
        ? undefined
        : renderFamilies(processFamilies(request.thread, readProcess(limits)))
    parentPort?.postMessage({ id: request.id, text, process })
  } catch (err) {
    parentPort?.postMessage({ id: request.id, error: (err as Error).message })
  }
})
