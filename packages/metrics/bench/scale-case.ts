// One case of bench/scale.ts, run in a process of its own (so heaps, JIT state and GC debt never cross cases):
// one variant with N tracked peers. Prints one JSON line with its figures. Needs --expose-gc.
//
// Workload: N peers, each one stream on one of 10 protocols carrying a pseudo-random number of bytes each way
// (a stream per count, dropped after it: what stays on the heap is what the metrics keep per peer, not streams).
// Then, once a (virtual) second, 1% of the peers send more: the sweep is timed over that. Scrapes: before each,
// 1% of the peers count bytes, a sweep runs, 1% more count bytes (the scrape sees a second's worth of both).
//
// Node-thread time of a call is the event loop's active time across it (`performance.eventLoopUtilization`), as
// bench/scrape.ts measures it: what the thread did, waiting for a worker excluded. It is wall time while active,
// so on a loaded machine it includes time the thread was runnable but not running; the thread CPU time
// (`process.threadCpuUsage`, tick-granular, so only its sum over all scrapes is meaningful) is printed beside it.
import { existsSync } from 'node:fs'
import { PerformanceObserver } from 'node:perf_hooks'
import { fileURLToPath, pathToFileURL } from 'node:url'

export const CASE_VARIANTS = [
  'ours',
  'ours, exportFromWorker',
  'prometheus-metrics',
  'prom-client by peer',
  'before',
  'before, exportFromWorker'
] as const
export type CaseVariant = (typeof CASE_VARIANTS)[number]

export interface CaseInput {
  variant: CaseVariant
  peers: number
  scrapes: number
  /** Stop scraping after this long (at least 10 scrapes), so slow competitors at 100k peers stay bounded. */
  budgetMs: number
  /** For `before*`: the directory holding that version's `packages/metrics/src` and `packages/metric-map/src`. */
  baseline?: string
}

export interface Distribution {
  n: number
  mean: number
  p50: number
  p99: number
  max: number
}

export interface CaseFigures {
  variant: CaseVariant
  peers: number
  heapPerPeer: number
  /** Bytes of the preallocated shared map, when there is one. */
  sharedMapBytes: number | null
  /** Sweep (tick) wall time, ms, with 1% of the peers counting bytes each second; null: the variant has none. */
  sweep: Distribution | null
  /**
   * Handing those counts to the counter (`flush()`, which the counter otherwise runs at the end of each task):
   * the counting path's cost, timed apart from the sweep. With a shared map it is the map's atomic adds.
   */
  handOver: Distribution | null
  /** The same with no traffic at all. */
  sweepIdle: Distribution | null
  /** The first scrape (ours: ranks every peer once), node-thread ms. */
  firstScrapeMs: number
  scrape: Distribution
  scrapeWallMean: number
  /** Node-thread GC time inside the scrapes (V8 runs idle-time GC while the thread waits for a worker), ms. */
  scrapeGcMean: number
  scrapeGcMax: number
  /** Node-thread CPU time per scrape, averaged over all of them (ms). */
  scrapeCpuMean: number
  outputBytes: number
}

function distribution(values: number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number
  return {
    n: sorted.length,
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
    p50: at(0.5),
    p99: at(0.99),
    max: sorted[sorted.length - 1] as number
  }
}

/** xorshift32: the same sizes in every process. */
function sizes(seed: number): () => number {
  let s = seed | 0 || 1
  return () => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return 1 + ((s >>> 0) % 1_000_000)
  }
}

const peerId = (i: number): string => `12D3KooW${i.toString(36).padStart(44, '0')}`
const protocolId = (i: number): string => `/peerscope-bench/proto-${i % 10}/1.0.0`
const quietLogger = {
  forComponent: () => Object.assign(() => {}, { error() {}, trace() {}, enabled: false })
}

/** What a variant gives the harness: traffic in, a sweep, a scrape. */
interface Subject {
  count(peer: number, sent: number, received: number): void
  flush: (() => void) | undefined
  sweep: (() => void) | undefined
  scrape(): Promise<string> | string
  sharedMapBytes: number | null
  close(): Promise<void>
}

async function oursSubject(input: CaseInput, clock: { now: number }): Promise<Subject> {
  const before = input.variant.startsWith('before')
  const worker = input.variant.endsWith('exportFromWorker')
  const root = before
    ? pathToFileURL(`${input.baseline}/packages/`).href
    : new URL('../../', import.meta.url).href
  // The Node entry (process metrics, the worker exporter); older versions had a single entry.
  const nodeEntry = new URL('metrics/src/node.ts', root)
  const metricsModule = await import(
    existsSync(fileURLToPath(nodeEntry)) ? nodeEntry.href : `${root}metrics/src/index.ts`
  )
  const mapModule = await import(`${root}metric-map/src/index.ts`)
  // Room for every series (peer and pair per peer, protocols, totals, overflow), six counters each.
  const map = worker
    ? mapModule.SharedMetricMap.create({ capacity: 12 * input.peers + 4096, maxKeyBytes: 128 })
    : undefined
  const bandwidth = new metricsModule.BandwidthCounter({
    clock: () => clock.now,
    maxPeers: input.peers + 10,
    ...(map === undefined ? {} : { map })
  })
  const metrics = metricsModule.libp2pMetrics({
    bandwidth,
    prometheus: { perPeer: true },
    exportFromWorker: worker,
    idleTimeout: 0
  })({ events: new EventTarget(), logger: quietLogger })
  metrics.start()
  bandwidth.stop() // swept by the harness, on the virtual clock
  return {
    count(peer, sent, received) {
      const channel = bandwidth.channel({ peer: peerId(peer), protocol: protocolId(peer) })
      channel.sent(sent)
      channel.received(received)
    },
    flush: () => bandwidth.flush(),
    sweep: () => bandwidth.tick(),
    scrape: () => metrics.prometheus(),
    sharedMapBytes: map === undefined ? null : map.buffer.byteLength,
    close: () => metrics.stop()
  }
}

async function prometheusMetricsSubject(): Promise<Subject> {
  const { prometheusMetrics } = await import('@libp2p/prometheus-metrics')
  const { Registry } = await import('prom-client')
  const registry = new Registry()
  const metrics = prometheusMetrics({ registry, preserveExistingMetrics: true })({
    events: new EventTarget(),
    logger: quietLogger
  } as never)
  return {
    count(peer, sent, received) {
      const stream = Object.assign(new EventTarget(), {
        protocol: protocolId(peer),
        send: (_data: Uint8Array) => true
      })
      metrics.trackProtocolStream(stream as never)
      // It reads only the byte lengths: views over one buffer keep the harness's own allocations small.
      stream.send(SCRATCH.subarray(0, sent))
      stream.dispatchEvent(Object.assign(new Event('message'), { data: SCRATCH.subarray(0, received) }))
    },
    flush: undefined,
    sweep: undefined,
    scrape: () => registry.metrics(),
    sharedMapBytes: null,
    close: async () => {}
  }
}

async function promClientByPeerSubject(): Promise<Subject> {
  const { Counter, Registry } = await import('prom-client')
  const registry = new Registry()
  const counter = new Counter({
    name: 'libp2p_peer_transfer_bytes_total',
    help: 'bytes per peer',
    labelNames: ['peer', 'direction'],
    registers: [registry]
  })
  return {
    count(peer, sent, received) {
      counter.inc({ peer: peerId(peer), direction: 'out' }, sent)
      counter.inc({ peer: peerId(peer), direction: 'in' }, received)
    },
    flush: undefined,
    sweep: undefined,
    scrape: () => registry.metrics(),
    sharedMapBytes: null,
    close: async () => {}
  }
}

const SCRATCH = new Uint8Array(1_000_001)

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc
  if (collect === undefined) throw new Error('scale-case needs node --expose-gc')
  collect()
  collect()
}

export async function runCase(input: CaseInput): Promise<CaseFigures> {
  const clock = { now: 1_000_000_000 }
  const next = sizes(0x9e3779b9 ^ input.peers)
  const subject =
    input.variant === 'prometheus-metrics'
      ? await prometheusMetricsSubject()
      : input.variant === 'prom-client by peer'
        ? await promClientByPeerSubject()
        : await oursSubject(input, clock)
  // Heap per tracked peer: what the peers' first bytes leave on the heap, after a sweep, collected twice.
  gc()
  const heapBefore = process.memoryUsage().heapUsed
  for (let i = 0; i < input.peers; i++) subject.count(i, next(), next())
  clock.now += 1001
  subject.sweep?.()
  gc()
  const heapPerPeer = (process.memoryUsage().heapUsed - heapBefore) / input.peers

  const active = Math.max(1, Math.floor(input.peers / 100))
  let cursor = 0
  const someCount = () => {
    for (let k = 0; k < active; k++) {
      subject.count(cursor, next(), next())
      cursor = (cursor + 7919) % input.peers
    }
  }
  const handOvers: number[] = []
  const timeSweeps = (traffic: boolean): Distribution | null => {
    const sweep = subject.sweep
    if (sweep === undefined) return null
    const times: number[] = []
    for (let i = 0; i < 30; i++) {
      if (traffic) {
        someCount()
        const start = performance.now()
        subject.flush?.()
        if (i >= 5) handOvers.push(performance.now() - start)
      }
      clock.now += 1000
      const start = performance.now()
      sweep()
      if (i >= 5) times.push(performance.now() - start)
    }
    return distribution(times)
  }
  const sweepIdle = timeSweeps(false)
  const sweep = timeSweeps(true)
  const handOver = handOvers.length === 0 ? null : distribution(handOvers)

  const gcs: Array<{ start: number; end: number }> = []
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push({ start: e.startTime, end: e.startTime + e.duration })
  })
  gcObserver.observe({ entryTypes: ['gc'] })
  const gcWithin = (from: number, to: number) =>
    gcs.reduce((sum, g) => sum + Math.max(0, Math.min(to, g.end) - Math.max(from, g.start)), 0)
  const scrapeSpans: Array<[number, number]> = []

  // Event-loop utilisation is only accounted once the loop runs: leave the synchronous part first.
  await new Promise((resolve) => setTimeout(resolve, 10))
  const active0 = performance.eventLoopUtilization()
  let text = await subject.scrape()
  const firstScrapeMs = performance.eventLoopUtilization(active0).active
  const thread: number[] = []
  const wall: number[] = []
  const started = performance.now()
  let cpu = 0
  for (let i = 0; i < input.scrapes; i++) {
    someCount()
    clock.now += 1000
    subject.sweep?.()
    someCount()
    await new Promise((resolve) => setImmediate(resolve))
    const cpu0 = process.threadCpuUsage()
    const before = performance.eventLoopUtilization()
    const t0 = performance.now()
    text = await subject.scrape()
    const t1 = performance.now()
    wall.push(t1 - t0)
    scrapeSpans.push([t0, t1])
    thread.push(performance.eventLoopUtilization(before).active)
    const used = process.threadCpuUsage(cpu0)
    cpu += (used.user + used.system) / 1000
    if (i >= 9 && performance.now() - started > input.budgetMs) break
  }
  await subject.close()
  // GC entries are delivered after the fact: give the observer a turn before reading them.
  await new Promise((resolve) => setTimeout(resolve, 50))
  gcObserver.disconnect()
  const scrapeGc = scrapeSpans.map(([from, to]) => gcWithin(from, to))
  return {
    variant: input.variant,
    peers: input.peers,
    heapPerPeer,
    sharedMapBytes: subject.sharedMapBytes,
    sweep,
    handOver,
    sweepIdle,
    firstScrapeMs,
    scrape: distribution(thread),
    scrapeWallMean: wall.reduce((a, b) => a + b, 0) / wall.length,
    scrapeGcMean: scrapeGc.reduce((a, b) => a + b, 0) / scrapeGc.length,
    scrapeGcMax: Math.max(...scrapeGc),
    scrapeCpuMean: cpu / thread.length,
    outputBytes: text.length
  }
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const input = JSON.parse(process.argv[2] ?? '{}') as CaseInput
  if (!CASE_VARIANTS.includes(input.variant)) throw new Error(`unknown variant ${String(input.variant)}`)
  console.log(JSON.stringify(await runCase(input)))
  process.exit(0)
}
