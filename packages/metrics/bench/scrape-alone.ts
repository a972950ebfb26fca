// A worker-export scrape in a process that holds one node's metrics and nothing else, as deployed: the shared
// process of scrape.ts also holds every competitor's 10,000 peers, whose garbage collection and timers land in the
// worker's ~70 ms wait and are charged to whichever scrape they overlap. Each variant (process metrics on, the
// default, and off, and the floor: a bare worker round trip answering a text as long) runs in a fresh process: BENCH_PEERS peers' traffic as in scrape.ts, the rate sweep run once and
// stopped (it is measured on its own in scrape.ts), then BENCH_ALONE_SCRAPES scrapes 20 ms apart after 20 warm-up
// (so the scrape path is compiled). Per scrape: the event loop's active time across the call (what scrape.ts
// reports) and the V8 GC pause time inside the call (`PerformanceObserver` 'gc' entries, hrtime like the active
// time), and on Linux the thread's wait for a core (`readSchedStat`: the machine's other work, exact); active minus
// both is the scrape's own hold on the thread. The thread's CPU time is given as a mean only: on this kernel it is
// sampled at scheduler ticks (a 0.3 ms busy loop reads 0 or 3-4 ms), so one scrape's reading means nothing.
import { PerformanceObserver } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { defaultLogger } from '@libp2p/logger'
import { envInteger, mean, readSchedStat, runJsonChild } from '@peerscope/bench-kit'
import { SharedMetricMap } from '@peerscope/metric-map'
import { TypedEventEmitter } from 'main-event'
import { BandwidthCounter, libp2pMetrics } from '../src/node.ts'

export const ALONE_SCRAPES = envInteger('BENCH_ALONE_SCRAPES', 300, { min: 10 })
const WARMUP = 20
const GAP_MS = 20
export const ALONE_VARIANTS = [
  'process metrics on (the default)',
  'processMetrics: false',
  'bare worker round trip (floor)'
] as const
type Variant = (typeof ALONE_VARIANTS)[number]

interface Spread {
  mean: number
  p99: number
  max: number
}

export interface AloneFigures {
  active: Spread
  /** Mean only (tick-sampled: see above). */
  cpuMean: number
  gc: Spread
  /** The thread's wait for a core inside the call (0 where unknown). */
  waited: Spread
  /** Active time minus the GC pauses and the wait for a core inside the call: the scrape's own hold on the thread. */
  own: Spread
  /** Every scrape whose active time exceeded 1 ms: active, GC pause and wait-for-a-core ms. */
  over1ms: Array<{ active: number; gc: number; waited: number }>
  /** Length of the text one call returned. */
  textLength: number
}

function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b)
  return {
    mean: mean(values),
    p99: sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)] ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN
  }
}

/** The call a variant times, and how to end it. */
interface Subject {
  call(): Promise<string>
  close(): Promise<void>
}

/**
 * The floor: a worker that answers each message at once with a text of the scrape's length, and nothing on the
 * node's side but the post and the reply. What a worker export cannot go under on this machine, outliers included.
 */
function bareRoundTrip(textLength: number): Subject {
  const worker = new Worker(
    "const { parentPort, workerData } = require('node:worker_threads');" +
      "parentPort.on('message', (id) => parentPort.postMessage({ id, text: 'x'.repeat(workerData) }))",
    { eval: true, workerData: textLength }
  )
  let next = 0
  return {
    call: () =>
      new Promise((resolve) => {
        const id = next++
        const onReply = (reply: { id: number; text: string }) => {
          if (reply.id !== id) return
          worker.off('message', onReply)
          resolve(reply.text)
        }
        worker.on('message', onReply)
        worker.postMessage(id)
      }),
    close: async () => {
      await worker.terminate()
    }
  }
}

async function measure(variant: Variant, peers: number, textLength: number): Promise<AloneFigures> {
  const subject = variant === ALONE_VARIANTS[2] ? bareRoundTrip(textLength) : scrapeSubject(variant, peers)
  return timeCalls(subject)
}

function scrapeSubject(variant: Variant, peers: number): Subject {
  const peerId = (i: number): string => `12D3KooW${i.toString(36).padStart(44, '0')}`
  const protocolId = (j: number): string => `/peerscope-bench/proto-${j}/1.0.0`
  const metrics = libp2pMetrics({
    bandwidth: new BandwidthCounter({ map: SharedMetricMap.create({ capacity: 1 << 17, maxKeyBytes: 160 }) }),
    prometheus: { perPeer: true },
    exportFromWorker: true,
    processMetrics: variant === ALONE_VARIANTS[0]
  })({ events: new TypedEventEmitter(), logger: defaultLogger() } as never) as ReturnType<
    ReturnType<typeof libp2pMetrics>
  > & { start(): void; stop(): Promise<void> }
  metrics.start()
  for (let i = 0; i < peers; i++) {
    const labels = { peer: peerId(i), protocol: protocolId(i % 10) }
    metrics.bandwidth.logSent(1000 + i, labels)
    metrics.bandwidth.logReceived(500 + i, labels)
  }
  // The once-a-second rate sweep is measured on its own in scrape.ts; here it runs once, then stops, so it is not
  // charged to whichever scrape it overlaps.
  metrics.bandwidth.tick()
  metrics.bandwidth.stop()
  return { call: () => metrics.prometheus(), close: () => metrics.stop() }
}

async function timeCalls(subject: Subject): Promise<AloneFigures> {
  const pauses: Array<{ start: number; end: number }> = []
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) pauses.push({ start: e.startTime, end: e.startTime + e.duration })
  })
  observer.observe({ entryTypes: ['gc'] })
  const rows: Array<{ active: number; cpu: number; waited: number; from: number; to: number }> = []
  let textLength = 0
  for (let i = 0; i < WARMUP + ALONE_SCRAPES; i++) {
    await new Promise((resolve) => setTimeout(resolve, GAP_MS))
    const sched = readSchedStat()
    const loop = performance.eventLoopUtilization()
    const cpu = process.threadCpuUsage()
    const from = performance.now()
    textLength = (await subject.call()).length
    const to = performance.now()
    const used = process.threadCpuUsage(cpu)
    const active = performance.eventLoopUtilization(loop).active
    const waited = sched === undefined ? 0 : (readSchedStat()?.waitedMs ?? sched.waitedMs) - sched.waitedMs
    if (i >= WARMUP) rows.push({ active, cpu: (used.user + used.system) / 1000, waited, from, to })
  }
  // GC entries are delivered a turn later: wait before reading them.
  await new Promise((resolve) => setTimeout(resolve, 50))
  observer.disconnect()
  await subject.close()
  const gcIn = (from: number, to: number) =>
    pauses.reduce((sum, p) => sum + Math.max(0, Math.min(to, p.end) - Math.max(from, p.start)), 0)
  const measured = rows.map((r) => ({
    active: r.active,
    cpu: r.cpu,
    waited: r.waited,
    gc: gcIn(r.from, r.to)
  }))
  return {
    active: spread(measured.map((r) => r.active)),
    cpuMean: mean(measured.map((r) => r.cpu)),
    gc: spread(measured.map((r) => r.gc)),
    waited: spread(measured.map((r) => r.waited)),
    own: spread(measured.map((r) => Math.max(0, r.active - r.gc - r.waited))),
    over1ms: measured.filter((r) => r.active > 1).map(({ active, gc, waited }) => ({ active, gc, waited })),
    textLength
  }
}

/** Runs each variant in its own process and returns their figures. */
export function aloneScrapes(peers: number): Record<Variant, AloneFigures> {
  const self = fileURLToPath(import.meta.url)
  const results = {} as Record<Variant, AloneFigures>
  for (const variant of ALONE_VARIANTS) {
    // The floor answers with a text as long as the deployed scrape's (the first variant's).
    const textLength = results[ALONE_VARIANTS[0]]?.textLength ?? 0
    results[variant] = runJsonChild<AloneFigures>(
      self,
      [variant, String(peers), String(textLength)],
      `scrape-alone ${variant}`
    )
  }
  return results
}

const variant = process.argv[2] as Variant | undefined
if (process.argv[1] === fileURLToPath(import.meta.url) && variant !== undefined) {
  if (!ALONE_VARIANTS.includes(variant)) throw new Error(`unknown variant ${variant}`)
  console.log(JSON.stringify(await measure(variant, Number(process.argv[3]), Number(process.argv[4] ?? 0))))
  process.exit(0)
}
