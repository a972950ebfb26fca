// Runs in a worker thread: renders the bandwidth families from the shared counter map, so a scrape never holds
// the node's thread for the per-peer and per-protocol series.
import { parentPort, workerData } from 'node:worker_threads'
import { SharedMetricMap } from '@peerscope/metric-map'
import { bandwidthFamilies, type PrometheusOptions } from './bandwidth-families.ts'
import { renderFamilies } from './exposition.ts'
import { statsFromMap } from './map-stats.ts'

interface Setup {
  buffer: SharedArrayBuffer
  options: PrometheusOptions
}

const { buffer, options } = workerData as Setup
const map = SharedMetricMap.attach(buffer)

parentPort?.on('message', (request: { id: number }) => {
  try {
    const text = renderFamilies(bandwidthFamilies(statsFromMap(map), options))
    parentPort?.postMessage({ id: request.id, text })
  } catch (err) {
    parentPort?.postMessage({ id: request.id, error: (err as Error).message })
  }
})
