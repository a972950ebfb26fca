// One libp2p node of the transfer harness, run as a child process by node-pair.ts (one process per node, so sender
// and receiver never share a thread). Talks to the parent over the IPC channel (types.ts).
//   receiver: handles the sink protocol, counts the bytes, answers with the total when the sender closes.
//   sender:   sends each workload to the receiver, timing from the first send to the receiver's answer (after an
//             untimed warm-up of each workload); then, if asked, measures what the metrics cost the idle node's
//             thread: background work per second and one scrape.
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Libp2p, Metrics, Stream } from '@libp2p/interface'
import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { mean, median } from '@peerscope/bench-kit'
import { libp2pMetrics, type PeerscopeMetrics } from '@peerscope/metrics'
import { createLibp2p } from 'libp2p'
import { pEvent } from 'p-event'
import { Registry } from 'prom-client'
import { controlMetrics, withInertRegistry, withoutCounting } from './control-metrics.ts'
import type {
  FromNode,
  IdleCosts,
  IdleProbe,
  MetricsKind,
  ToNode,
  TransferResult,
  Workload
} from './types.ts'

const SINK = '/peerscope-bench/sink/1.0.0'

const [role, kind] = process.argv.slice(2) as ['sender' | 'receiver', MetricsKind]

function send(message: FromNode): void {
  process.send?.(message)
}

/** Builds the node's metrics and the function that renders its scrape text. */
function metricsOf(): { metrics?: (components: never) => Metrics; scrape: () => Promise<string> } {
  if (kind === 'ours' || kind === 'ours-lean' || kind === 'counting' || kind === 'quiet') {
    let instance: PeerscopeMetrics | undefined
    // Process metrics are on by default; `-lean` is ours without them, as it ran before they were.
    const factory = libp2pMetrics({ processMetrics: kind !== 'ours-lean' })
    return {
      metrics: ((components: never) => {
        instance = factory(components) as PeerscopeMetrics
        if (kind === 'counting') withInertRegistry(instance)
        if (kind === 'quiet') withoutCounting(instance)
        return instance
      }) as (components: never) => Metrics,
      scrape: () => (instance as PeerscopeMetrics).prometheus()
    }
  }
  if (kind === 'prometheus-metrics' || kind === 'prometheus-metrics-lean') {
    const registry = new Registry()
    // Its default collects Node's process metrics too (heap, GC, event-loop lag sampling), as ours does; `-lean`
    // switches that off, to tell what that part costs from what its libp2p metrics cost.
    const collectDefaultMetrics = kind === 'prometheus-metrics'
    return {
      metrics: prometheusMetrics({ registry, preserveExistingMetrics: true, collectDefaultMetrics }) as (
        components: never
      ) => Metrics,
      scrape: () => registry.metrics()
    }
  }
  if (kind === 'inert' || kind === 'hooks') {
    return { metrics: () => controlMetrics(kind === 'hooks'), scrape: async () => '' }
  }
  return { scrape: async () => '' }
}

const { metrics, scrape } = metricsOf()
const node: Libp2p = await createLibp2p({
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  ...(metrics === undefined ? {} : { metrics })
})

function encodeTotal(total: number): Uint8Array {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt(total))
  return out
}

async function readTotal(stream: Stream): Promise<number> {
  const parts: Uint8Array[] = []
  for await (const chunk of stream) parts.push(chunk.subarray())
  const bytes = Buffer.concat(parts)
  if (bytes.byteLength !== 8) throw new Error(`expected an 8-byte total, got ${bytes.byteLength} bytes`)
  return Number(bytes.readBigUInt64BE(0))
}

async function runWorkload(
  addr: string,
  workload: Workload,
  scrapesPerSecond: number
): Promise<TransferResult> {
  const stream = await node.dialProtocol(multiaddr(addr), SINK)
  const payload = new Uint8Array(workload.messageSize).fill(0xa5)
  const scrapeTimes: number[] = []
  let scraping = false
  const timer =
    scrapesPerSecond > 0
      ? setInterval(() => {
          if (scraping) return // a slow scrape is not stacked on itself
          scraping = true
          const t0 = performance.now()
          void scrape().then(() => {
            scrapeTimes.push(performance.now() - t0)
            scraping = false
          })
        }, 1000 / scrapesPerSecond)
      : undefined
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  for (let i = 0; i < workload.messages; i++) {
    if (!stream.send(payload)) await pEvent(stream, 'drain')
  }
  const answer = readTotal(stream)
  await stream.close()
  const total = await answer
  const ms = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  if (timer !== undefined) clearInterval(timer)
  const expected = workload.messageSize * workload.messages
  if (total !== expected) throw new Error(`receiver counted ${total} bytes, sent ${expected}`)
  return {
    workload: workload.name,
    ms,
    bytes: total,
    messages: workload.messages,
    scrapes: scrapeTimes.length,
    scrapeMeanMs: scrapeTimes.length === 0 ? 0 : mean(scrapeTimes),
    scrapeMaxMs: scrapeTimes.length === 0 ? 0 : Math.max(...scrapeTimes),
    cpuMicros: cpu.user + cpu.system
  }
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function measureIdleCosts(probe: IdleProbe): Promise<IdleCosts> {
  await delay(200) // the last transfer's tail (stream close, a collection) is not charged to the idle window
  const window0 = performance.eventLoopUtilization()
  await delay(probe.windowMs)
  const window = performance.eventLoopUtilization(window0)
  const threadMs: number[] = []
  const wallMs: number[] = []
  let bytes = 0
  for (let i = 0; i < probe.scrapes; i++) {
    await delay(10)
    const elu0 = performance.eventLoopUtilization()
    const t0 = performance.now()
    bytes = (await scrape()).length
    wallMs.push(performance.now() - t0)
    threadMs.push(performance.eventLoopUtilization(elu0).active)
  }
  return {
    activeMsPerSecond: (window.active / (window.active + window.idle)) * 1000,
    scrapeThreadMs: median(threadMs),
    scrapeThreadMeanMs: mean(threadMs),
    scrapeWallMs: median(wallMs),
    scrapeBytes: bytes
  }
}

if (role === 'receiver') {
  await node.handle(SINK, async (stream: Stream) => {
    let total = 0
    for await (const chunk of stream) total += chunk.byteLength
    stream.send(encodeTotal(total))
    await stream.close()
  })
}

process.on('message', (message: ToNode) => {
  if (message.type === 'stop') {
    void Promise.resolve(node.stop()).then(() => process.disconnect())
    return
  }
  void (async () => {
    // Untimed first: a fresh process runs its first messages in the interpreter, and each variant has different
    // code to compile, so timing from a cold start would measure warm-up as much as metrics.
    for (const workload of message.warmup) await runWorkload(message.addr, workload, message.scrapesPerSecond)
    const results: TransferResult[] = []
    for (const workload of message.workloads) {
      results.push(await runWorkload(message.addr, workload, message.scrapesPerSecond))
    }
    const idle = message.idleProbe === undefined ? undefined : await measureIdleCosts(message.idleProbe)
    send({ type: 'results', results, idle })
  })().catch((err: unknown) => {
    send({ type: 'error', error: String((err as Error).stack ?? err) })
  })
})

send({ type: 'ready', addr: node.getMultiaddrs()[0]?.toString() ?? '' })
