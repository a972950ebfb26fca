// Runs in a worker thread: renders the bandwidth families from the shared counter map, so a scrape never holds
// the node's thread for the per-peer and per-protocol series; and, given the node thread's own readings, the
// process families, adding the figures any thread of the process reads alike (CPU, resident memory, /proc).
import { parentPort, workerData } from 'node:worker_threads'
import { SharedMetricMap } from '@peerscope/metric-map'
import {
  type DelayHistogram,
  processFamilies,
  readDelay,
  readProcess,
  type ThreadReadings
} from '../process/process-metrics.ts'
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
let loopDelay: { histogram: DelayHistogram; resolutionMs: number } | undefined

type Message =
  | { id: number; thread?: ThreadReadings }
  | { loopDelay: { histogram: DelayHistogram; resolutionMs: number } }

parentPort?.on('message', (message: Message) => {
  if ('loopDelay' in message) {
    loopDelay = message.loopDelay
    return
  }
  const request = message
  try {
    const text = renderFamilies(bandwidthFamilies(statsFromMap(map), options))
    const thread = request.thread
    if (thread !== undefined && thread.delay === undefined && loopDelay !== undefined) {
      const delay = readDelay(loopDelay.histogram, loopDelay.resolutionMs)
      if (delay !== undefined) thread.delay = delay
    }
    const process =
      thread === undefined ? undefined : renderFamilies(processFamilies(thread, readProcess(limits)))
    parentPort?.postMessage({ id: request.id, text, process })
  } catch (err) {
    parentPort?.postMessage({ id: request.id, error: (err as Error).message })
  }
})
