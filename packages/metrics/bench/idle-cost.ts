// What Node process metrics cost a node's thread between scrapes and per scrape, ours against prom-client's
// `collectDefaultMetrics` (what `@libp2p/prometheus-metrics` runs by default). Each variant runs in a fresh process
// (prom-client's event-loop monitor cannot be stopped once started): it settles for 1 s, then the event loop's
// active time is read over BENCH_IDLE_SECONDS (default 5) of idleness, then 20 scrapes 10 ms apart are timed the
// same way (active time across each call; median).
//   none:             no metrics at all (the floor: timers of the runtime itself);
//   ours, no process: `libp2pMetrics({ processMetrics: false })` started (its once-a-second rate sweep);
//   ours:             `libp2pMetrics()` started, process metrics on (the default);
//   prom-client:      a prom-client Registry with `collectDefaultMetrics()` (its defaults: 10 ms loop sampling).
import { fileURLToPath } from 'node:url'
import { envInteger, median, runJsonChild } from '@peerscope/bench-kit'

export const IDLE_SECONDS = envInteger('BENCH_IDLE_SECONDS', 5, { min: 1 })
export const IDLE_SCRAPES = 20
export const IDLE_VARIANTS = ['none', 'ours, no process', 'ours', 'prom-client'] as const
type Variant = (typeof IDLE_VARIANTS)[number]

export interface IdleFigures {
  backgroundMsPerSecond: number
  scrapeMs: number | null
  scrapeBytes: number | null
}

async function setUp(variant: Variant): Promise<(() => Promise<string>) | undefined> {
  if (variant === 'none') return undefined
  if (variant === 'prom-client') {
    const { Registry, collectDefaultMetrics } = await import('prom-client')
    const registry = new Registry()
    collectDefaultMetrics({ register: registry })
    return () => registry.metrics()
  }
  const { libp2pMetrics } = await import('../src/node.ts')
  const logger = { forComponent: () => Object.assign(() => {}, { error() {}, trace() {}, enabled: false }) }
  const metrics = libp2pMetrics({ processMetrics: variant === 'ours' })({
    events: new EventTarget(),
    logger
  } as never) as ReturnType<ReturnType<typeof libp2pMetrics>> & { start(): void }
  metrics.start()
  return () => metrics.prometheus()
}

async function measure(variant: Variant): Promise<IdleFigures> {
  const scrape = await setUp(variant)
  const keepAlive = setInterval(() => {}, 60_000)
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const before = performance.eventLoopUtilization()
  await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000))
  const backgroundMsPerSecond = performance.eventLoopUtilization(before).active / IDLE_SECONDS
  let scrapeMs: number | null = null
  let scrapeBytes: number | null = null
  if (scrape !== undefined) {
    const times: number[] = []
    for (let i = 0; i < IDLE_SCRAPES; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10))
      const start = performance.eventLoopUtilization()
      const text = await scrape()
      times.push(performance.eventLoopUtilization(start).active)
      scrapeBytes = text.length
    }
    scrapeMs = median(times)
  }
  clearInterval(keepAlive)
  return { backgroundMsPerSecond, scrapeMs, scrapeBytes }
}

/** Runs every variant in its own process and returns their figures. */
export function idleCosts(): Record<Variant, IdleFigures> {
  const self = fileURLToPath(import.meta.url)
  const results = {} as Record<Variant, IdleFigures>
  for (const variant of IDLE_VARIANTS) {
    results[variant] = runJsonChild<IdleFigures>(self, [variant], `idle-cost ${variant}`)
  }
  return results
}

const variant = process.argv[2] as Variant | undefined
if (process.argv[1] === fileURLToPath(import.meta.url) && variant !== undefined) {
  if (!IDLE_VARIANTS.includes(variant)) throw new Error(`unknown variant ${variant}`)
  console.log(JSON.stringify(await measure(variant)))
  process.exit(0)
}
