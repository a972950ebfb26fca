// What `traceFunction` adds to a traced call (libp2p wraps e.g. peerRouting.findPeer and the kad-dht queries):
//   bare:                        the function called directly (the floor);
//   untraced call:               the wrapper, called without a `trace` context in its options (every call libp2p
//                                makes on its own, and every call of an application that does not trace);
//   traced, no provider:         `{ trace: createTrace() }` with no tracer provider registered (the API's no-op);
//   traced, provider registered: the same with the SDK's TracerProvider and a span processor that drops the span,
//                                so span creation, attributes and end are counted but no export.
// Two shapes: an async function (findPeer) and an async generator of 3 values (getClosestPeers). Cases alternate
// over rounds, the provider registered and removed around its case; medians of ns per awaited call.
import { context, trace } from '@opentelemetry/api'
import { NoopSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace'
import { envInteger, median } from '@peerscope/bench-kit'
import { libp2pMetrics, type PeerscopeMetrics } from '../src/node.ts'

const CALLS = envInteger('BENCH_TRACE_CALLS', 100_000, { min: 1 })
const ROUNDS = envInteger('BENCH_ROUNDS', 5, { min: 1 })
/** Printed with hook-cost's settings, which runs this. */
export const traceCostConfig = { traceCalls: CALLS }

interface Options {
  trace?: unknown
  signal?: AbortSignal
}

async function find(id: string, _options: Options = {}): Promise<string> {
  return id
}

async function* closest(id: string, _options: Options = {}): AsyncGenerator<string> {
  yield id
  yield id
  yield id
}

const logger = { forComponent: () => Object.assign(() => {}, { error() {}, trace() {}, enabled: false }) }
const metrics = libp2pMetrics({ processMetrics: false })({
  events: new EventTarget(),
  logger,
  nodeInfo: { name: 'bench', version: '0' }
} as never) as PeerscopeMetrics
const tracedFind = metrics.traceFunction('bench.find', find, {
  optionsIndex: 1,
  getAttributesFromArgs: ([id]: [string], attrs: object) => ({ ...attrs, peer: id })
} as never)
const tracedClosest = metrics.traceFunction('bench.closest', closest, {
  optionsIndex: 1,
  getAttributesFromYieldedValue: (value: string, attrs: { peers?: string[] }) => ({
    ...attrs,
    peers: [...(attrs.peers ?? []), value]
  })
} as never)
const provider = new TracerProvider({ spanProcessors: [new NoopSpanProcessor()] })

type Call = (options: Options) => Promise<unknown>
const drain = async (generator: AsyncGenerator<string>) => {
  let n = 0
  for await (const _ of generator) n++
  return n
}
const shapes: Record<string, { bare: Call; wrapped: Call }> = {
  'async function': {
    bare: (options) => find('QmPeer', options),
    wrapped: (options) => tracedFind('QmPeer', options)
  },
  'async generator (3 values)': {
    bare: (options) => drain(closest('QmPeer', options)),
    wrapped: (options) => drain(tracedClosest('QmPeer', options))
  }
}

interface Case {
  call: 'bare' | 'wrapped'
  traced: boolean
  provider: boolean
}
const cases: Record<string, Case> = {
  bare: { call: 'bare', traced: false, provider: false },
  'untraced call': { call: 'wrapped', traced: false, provider: false },
  'traced, no provider': { call: 'wrapped', traced: true, provider: false },
  'traced, provider registered': { call: 'wrapped', traced: true, provider: true }
}

async function time(fn: Call, c: Case): Promise<number> {
  if (c.provider) trace.setGlobalTracerProvider(provider)
  try {
    const t0 = performance.now()
    for (let i = 0; i < CALLS; i++) {
      // As an application passes it: the context of the moment, in the call's options.
      await fn(c.traced ? { trace: metrics.createTrace() } : {})
    }
    return ((performance.now() - t0) * 1e6) / CALLS
  } finally {
    if (c.provider) {
      trace.disable()
      context.disable()
    }
  }
}

export async function traceCost(): Promise<
  Record<string, Record<string, { nsPerCall: number; overBare: number }>>
> {
  const results: Record<string, Record<string, { nsPerCall: number; overBare: number }>> = {}
  for (const [shape, calls] of Object.entries(shapes)) {
    const names = Object.keys(cases)
    const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]))
    for (let round = 0; round < ROUNDS + 1; round++) {
      for (let k = 0; k < names.length; k++) {
        const name = names[(k + round) % names.length] as string
        const c = cases[name] as Case
        const ns = await time(calls[c.call], c)
        if (round > 0) times[name]?.push(ns) // round 0 warms up
      }
    }
    const floor = median(times.bare as number[])
    results[shape] = Object.fromEntries(
      names.map((name) => {
        const ns = median(times[name] as number[])
        return [name, { nsPerCall: Math.round(ns), overBare: Math.round(ns - floor) }]
      })
    )
  }
  console.log(
    `trace cost: ${CALLS.toLocaleString('en-US')} awaited calls per case and round, ${ROUNDS} rounds after one warm-up; medians`
  )
  console.table(
    Object.fromEntries(
      Object.entries(results).flatMap(([shape, byCase]) =>
        Object.entries(byCase).map(([name, r]) => [
          `${shape}: ${name}`,
          { 'ns/call': r.nsPerCall, 'over bare': r.overBare }
        ])
      )
    )
  )
  return results
}
