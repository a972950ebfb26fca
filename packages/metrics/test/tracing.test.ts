import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import type { Metrics } from '@libp2p/interface'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { defaultLogger } from '@libp2p/logger'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { type Context, context, SpanStatusCode, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider
} from '@opentelemetry/sdk-trace'
import { libp2pMetrics, type PeerscopeMetrics } from '@peerscope/metrics'
import { createLibp2p } from 'libp2p'
import { TypedEventEmitter } from 'main-event'
import { pEvent } from 'p-event'

function metrics(init: Parameters<typeof libp2pMetrics>[0] = {}): PeerscopeMetrics {
  return libp2pMetrics({ processMetrics: false, ...init })({
    events: new TypedEventEmitter(),
    logger: defaultLogger(),
    nodeInfo: { name: 'tracing-test', version: '1.2.3' }
  })
}

type Options = { trace?: unknown; n?: number }

/** A global tracer provider whose finished spans land in memory, for one describe block. */
function recordSpans() {
  const exporter = new InMemorySpanExporter()
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] })
  return {
    exporter,
    register: () => {
      trace.disable()
      context.disable()
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
      assert.ok(trace.setGlobalTracerProvider(provider), 'the test provider is the global one')
    },
    unregister: async () => {
      await provider.shutdown()
      trace.disable()
      context.disable()
    },
    spans: (name?: string): ReadableSpan[] =>
      exporter.getFinishedSpans().filter((s) => name === undefined || s.name === name)
  }
}

function isChildOf(child: ReadableSpan, parent: ReadableSpan): boolean {
  return (
    child.spanContext().traceId === parent.spanContext().traceId &&
    child.parentSpanContext?.spanId === parent.spanContext().spanId
  )
}

describe('with no tracer provider registered', () => {
  before(() => {
    trace.disable()
    context.disable()
  })

  test('traced functions return what they return, and pass a (non-recording) context on', async () => {
    const m = metrics()
    let seen: Options | undefined
    const fn = m.traceFunction(
      'test.fn',
      async (x: number, options: Options = {}) => {
        seen = options
        return x * 2
      },
      { optionsIndex: 1 }
    )
    assert.equal(await fn(21), 42)
    assert.equal(seen?.trace, undefined, 'an untraced call gets its options untouched')
    const mine: Options = { trace: m.createTrace(), n: 1 }
    assert.equal(await fn(4, mine), 8)
    assert.notEqual(seen, mine, 'the caller options object is not the one passed on')
    assert.equal(seen?.n, 1)
    const span = trace.getSpan(seen?.trace as unknown as Context)
    assert.ok(span !== undefined, 'a span is in the context passed on')
    assert.equal(span.isRecording(), false)
    assert.deepEqual(mine, { trace: mine.trace, n: 1 }, 'the caller options are unchanged')
  })

  test('tracing: false hands functions back unwrapped', () => {
    const m = metrics({ tracing: false })
    const fn = (_options?: Options) => 1
    assert.equal(m.traceFunction('test.fn', fn), fn)
    assert.equal(m.createTrace(), undefined)
    assert.throws(() => metrics({ tracing: 'on' as never }), { code: 'ERR_INVALID_OPTIONS' })
  })
})

describe('with the SDK in-memory exporter registered', () => {
  const recorder = recordSpans()
  before(recorder.register)
  after(recorder.unregister)

  test('a call with a trace context makes a span with the args, return value and status', async () => {
    recorder.exporter.reset()
    const m = metrics()
    const fn = m.traceFunction('test.add', async (a: number, b: number, _options?: Options) => a + b, {
      optionsIndex: 2,
      getAttributesFromArgs: ([a, b]: number[], attrs: object) => ({ ...attrs, a, b }),
      // libp2p's type says the promise; what the callback gets (here and upstream) is the resolved value.
      getAttributesFromReturnValue: (sum: number, attrs: object) => ({ ...attrs, sum })
      // biome-ignore lint/suspicious/noExplicitAny: see above
    } as any)
    assert.equal(await fn(2, 3), 5)
    assert.equal(recorder.spans().length, 0, 'no trace context, no span (as @libp2p/opentelemetry-metrics)')
    assert.equal(await fn(2, 3, { trace: m.createTrace() }), 5)
    const [span] = recorder.spans()
    assert.equal(span?.name, 'test.add')
    assert.deepEqual(span.attributes, { a: 2, b: 3, sum: 5 })
    assert.equal(span.status.code, SpanStatusCode.OK)
    assert.equal(span.instrumentationScope.name, 'tracing-test')
    assert.equal(span.instrumentationScope.version, '1.2.3')
  })

  test('a rejection and a throw are recorded as errors and still reach the caller', async () => {
    recorder.exporter.reset()
    const m = metrics()
    const rejects = m.traceFunction('test.rejects', async (_options?: Options) => {
      throw new Error('refused')
    })
    const throws = m.traceFunction('test.throws', (_options?: Options) => {
      throw new TypeError('bad')
    })
    await assert.rejects(rejects({ trace: m.createTrace() }), /refused/)
    assert.throws(() => throws({ trace: m.createTrace() }), TypeError)
    for (const [name, message] of [
      ['test.rejects', 'refused'],
      ['test.throws', 'bad']
    ]) {
      const [span] = recorder.spans(name)
      assert.equal(span?.status.code, SpanStatusCode.ERROR, name)
      assert.equal(span.status.message, message)
      assert.equal(span.events[0]?.name, 'exception')
    }
  })

  test('generators: yielded values add attributes, the span ends when done or when the consumer stops', async () => {
    recorder.exporter.reset()
    const m = metrics()
    const options = {
      getAttributesFromYieldedValue: (value: number, attrs: Record<string, number[]>, index: number) => ({
        ...attrs,
        seen: [...(attrs.seen ?? []), value],
        count: [index]
      })
    }
    const asyncGen = m.traceFunction(
      'test.async-gen',
      async function* (_options?: Options) {
        yield 1
        yield 2
        yield 3
      },
      // biome-ignore lint/suspicious/noExplicitAny: libp2p's option types are generic over the wrapped function
      options as any
    )
    const syncGen = m.traceFunction(
      'test.gen',
      function* (_options?: Options) {
        yield 10
        yield 20
      },
      // biome-ignore lint/suspicious/noExplicitAny: as above
      options as any
    )
    const all: number[] = []
    for await (const v of asyncGen({ trace: m.createTrace() })) all.push(v)
    for (const v of syncGen({ trace: m.createTrace() })) all.push(v)
    assert.deepEqual(all, [1, 2, 3, 10, 20])
    const [full] = recorder.spans('test.async-gen')
    assert.deepEqual(full?.attributes, { seen: [1, 2, 3], count: [3] }, 'attributes accumulate over yields')
    assert.equal(full.status.code, SpanStatusCode.OK)
    assert.deepEqual(recorder.spans('test.gen')[0]?.attributes, { seen: [10, 20], count: [2] })

    for await (const v of asyncGen({ trace: m.createTrace() })) {
      if (v === 1) break
    }
    const spans = recorder.spans('test.async-gen')
    assert.equal(spans.length, 2, 'a consumer that breaks out still ends the span')
    assert.deepEqual(spans[1]?.attributes, { seen: [1], count: [1] })
    assert.notEqual(spans[1]?.status.code, SpanStatusCode.ERROR)
  })

  test('nested traced calls that pass their options on make a parent-child chain', async () => {
    recorder.exporter.reset()
    const m = metrics()
    const inner = m.traceFunction('test.inner', async (_options?: Options) => 'inner')
    const outer = m.traceFunction('test.outer', async (options?: Options) => inner(options))
    assert.equal(await outer({ trace: m.createTrace() }), 'inner')
    const [o] = recorder.spans('test.outer')
    const [i] = recorder.spans('test.inner')
    assert.ok(o !== undefined && i !== undefined)
    assert.ok(isChildOf(i, o), 'inner is a child of outer')
  })
})

describe('a real libp2p node doing identify and kad-dht work', () => {
  const recorder = recordSpans()
  const KAD = '/peerscope-test/kad/1.0.0'
  const node = () =>
    createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionMonitor: { enabled: false },
      metrics: libp2pMetrics({ processMetrics: false }),
      services: {
        identify: identify(),
        ping: ping(),
        dht: kadDHT({ protocol: KAD, clientMode: false, peerInfoMapper: passthroughMapper })
      }
    })
  let nodes: Array<Awaited<ReturnType<typeof node>>> = []

  before(async () => {
    recorder.register()
    nodes = [await node(), await node(), await node()]
    const [a, b, c] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]]
    // a - b - c: a reaches c only through b's answers. Identify tells each DHT the other speaks its protocol.
    const identified = Promise.all([pEvent(a, 'peer:identify'), pEvent(c, 'peer:identify')])
    await a.dial(b.getMultiaddrs()[0]!)
    await b.dial(c.getMultiaddrs()[0]!)
    await identified
    for (const n of nodes) {
      await pollUntil(async () => (await n.services.dht.getMode()) === 'server' && n.getPeers().length > 0)
    }
    const table = (a.services.dht as unknown as { routingTable: { size: number } }).routingTable
    await pollUntil(async () => table.size > 0)
  })

  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()))
    await recorder.unregister()
  })

  test('identify ran and made no span (js-libp2p traces no identify call)', () => {
    const [a] = nodes
    assert.ok((a?.getConnections().length ?? 0) > 0)
    assert.deepEqual(
      recorder.spans().filter((s) => /identify/i.test(s.name)),
      []
    )
  })

  test('getClosestPeers under an application span: peerRouting -> kadDHT -> sendRequest spans', async () => {
    recorder.exporter.reset()
    const [a, b, c] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]]
    const key = c.peerId.toMultihash().bytes
    const found: string[] = []
    const appTracer = trace.getTracer('the-app')
    await appTracer.startActiveSpan('app.lookup', async (span) => {
      // The application passes the active context down, as @libp2p/opentelemetry-metrics documents.
      const metricsOfA = a.metrics as Metrics
      for await (const event of a.peerRouting.getClosestPeers(key, { trace: metricsOfA.createTrace() })) {
        found.push(event.id.toString())
      }
      span.end()
    })
    assert.ok(found.length > 0, 'the query found peers')
    const [app] = recorder.spans('app.lookup')
    const [routing] = recorder.spans('libp2p.peerRouting.getClosestPeers')
    const [dht] = recorder.spans('libp2p.kadDHT.getClosestPeers')
    const requests = recorder.spans('libp2p.kadDHT.sendRequest')
    assert.ok(app !== undefined && routing !== undefined && dht !== undefined, 'the three spans ended')
    assert.ok(isChildOf(routing, app), 'libp2p.peerRouting.getClosestPeers is a child of the app span')
    assert.ok(isChildOf(dht, routing), 'libp2p.kadDHT.getClosestPeers is a child of peerRouting')
    // js-libp2p's own attribute callbacks: the key in base36, and the peers yielded.
    assert.match(String(routing.attributes.key), /^[0-9a-z]{40,}$/)
    assert.deepEqual(
      [...(routing.attributes.peers as string[])].sort(),
      [...new Set(found)].sort(),
      'the peers attribute lists what the query yielded'
    )
    // libp2p also looks each peer up (peerRouting.findPeer -> kadDHT.findPeer), under the same query span.
    const lookups = recorder.spans('libp2p.kadDHT.findPeer')
    for (const lookup of recorder.spans('libp2p.peerRouting.findPeer')) {
      assert.ok(isChildOf(lookup, routing), 'peerRouting.findPeer is a child of peerRouting.getClosestPeers')
      assert.match(String(lookup.attributes.peer), /^12D3KooW/)
    }
    assert.ok(
      requests.some((request) => isChildOf(request, dht)),
      'the query sent requests under libp2p.kadDHT.getClosestPeers'
    )
    for (const request of requests) {
      assert.ok(
        isChildOf(request, dht) || lookups.some((lookup) => isChildOf(request, lookup)),
        'every sendRequest is a child of the kadDHT query or of a kadDHT lookup in it'
      )
      assert.equal(request.attributes['message type'], 'FIND_NODE')
      assert.ok([b.peerId.toString(), c.peerId.toString()].includes(String(request.attributes.to)))
      assert.equal(request.status.code, SpanStatusCode.OK)
    }
    const traceId = app.spanContext().traceId
    assert.ok(
      recorder.spans().every((s) => s.spanContext().traceId === traceId),
      'one trace'
    )
  })

  test('a call without a trace context makes no span', async () => {
    recorder.exporter.reset()
    const [a, , c] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]]
    for await (const _ of a.peerRouting.getClosestPeers(c.peerId.toMultihash().bytes)) {
      // drain
    }
    assert.deepEqual(
      recorder.spans().map((s) => s.name),
      []
    )
  })
})

async function pollUntil(check: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + 15_000
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting for the DHT to be ready')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
