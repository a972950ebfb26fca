import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { describe, test } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { BandwidthCounter } from '@peerscope/metrics'
import { createLibp2p } from 'libp2p'
import { MemoryLevel } from 'memory-level'
import { Registry } from 'prom-client'
import {
  FOREIGN_METRICS_WARNING,
  HttpListenError,
  InvalidHttpOptionsError,
  type PeerscopeInit,
  PeerscopeOptionsError,
  peerscope,
  peerscopeService,
  startHttpServer
} from '../src/index.ts'
import { MemoryView } from './fixtures/memory-view.ts'

/** Asserts `fn` throws `ERR_INVALID_OPTIONS` for `option`, with a message matching `message`. */
function refuses(fn: () => unknown, option: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof PeerscopeOptionsError, String(err))
    assert.equal(err.code, 'ERR_INVALID_OPTIONS')
    assert.equal(err.option, option)
    assert.match(err.message, message)
    return true
  })
}

const memory = { peerStore: { memory: true } } as const

/** Every option the README's table documents, set (each to a valid value). */
function everyOption(): PeerscopeInit {
  return {
    peerStore: {
      path: '/tmp/unused',
      addressTtl: 60_000,
      gcInterval: 0,
      gcRunAfterAddrs: 5000,
      limits: {
        maxProtocols: 16,
        maxProtocolLength: 256,
        maxAddrsPerPeer: 8,
        maxAddrs: 1000,
        maxMetadataKeys: 8,
        maxMetadataValueBytes: 1024,
        maxKeyLength: 64,
        maxTags: 8
      },
      maxPeerAge: 6 * 3600_000,
      addressFilter: () => true
    } as PeerscopeInit['peerStore'],
    http: {
      host: '0.0.0.0',
      port: 0,
      token: 't',
      allowUnauthenticated: false,
      allowedHosts: ['peerscope.test'],
      logger: { error: () => {} },
      limits: {
        maxUrlLength: 1000,
        maxHeaderSize: 8192,
        headersTimeout: 1000,
        requestTimeout: 2000,
        keepAliveTimeout: 1000,
        maxConnections: 10,
        maxConnectionsPerClient: 5
      }
    },
    latencySampleInterval: 0,
    history: {
      fine: { intervalMs: 1000, samples: 60 },
      coarse: { intervalMs: 60_000, samples: 60 },
      topPeers: 5,
      topProtocols: 5,
      peerProtocols: 2,
      maxKeys: 100,
      maxKeyLength: 64
    },
    metrics: {
      bandwidth: { maxPeers: 100, publishRates: false },
      prometheus: { perPeer: true, maxPeerLabels: 10 },
      idleTimeout: 0,
      exportFromWorker: false,
      processMetrics: { eventLoopResolution: 100, gcDurationBuckets: [0.01, 0.1] },
      registries: [new Registry()],
      openTelemetry: {
        meterName: 'x',
        perPeer: true,
        maxPeerLabels: 5,
        perConnection: true,
        maxConnectionLabels: 5
      },
      tracing: { tracerName: 'node', tracerVersion: '1' }
    }
  }
}

/** The dotted paths of every key set in `value` (objects only, not arrays or class instances). */
function paths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return []
  if (Object.getPrototypeOf(value) !== Object.prototype) return []
  return Object.entries(value).flatMap(([key, inner]) => {
    const path = prefix === '' ? key : `${prefix}.${key}`
    return [path, ...paths(inner, path)]
  })
}

describe('peerscope() options are checked when it is called', () => {
  test('every documented option is accepted, and every row of the README options table is one of them', async () => {
    assert.doesNotThrow(() => peerscope(everyOption()))
    assert.doesNotThrow(() => peerscope({ ...everyOption(), http: false, history: false }))
    assert.doesNotThrow(() =>
      peerscope({ peerStore: { db: new MemoryLevel() }, metrics: { bandwidth: new BandwidthCounter() } })
    )
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8')
    const table = readme.slice(
      readme.indexOf('## Options'),
      readme.indexOf('\n## ', readme.indexOf('## Options') + 5)
    )
    const documented = [...table.matchAll(/^\| `([\w.]+)` \|/gm)].map((m) => m[1]!)
    assert.ok(documented.length >= 10, `the options table was found (${documented.length} rows)`)
    const known = new Set([...paths(everyOption()), 'peerStore.db', 'peerStore.memory'])
    for (const option of documented) assert.ok(known.has(option), `${option} (README) is set by this test`)
  })

  test('misspelled options are refused by name, with the likely meant one', () => {
    refuses(
      () => peerscope({ peerstore: { path: './x' } } as never),
      'peerstore',
      /unknown option peerstore \(did you mean peerStore\?\)/
    )
    refuses(() => peerscope({ ...memory, htttp: { port: 0 } } as never), 'htttp', /did you mean http\?/)
    refuses(
      () => peerscope({ peerStore: { memory: true, gcIntervall: 5 } } as never),
      'peerStore.gcIntervall',
      /did you mean peerStore\.gcInterval\?/
    )
    refuses(
      () => peerscope({ ...memory, metrics: { prometheus: { perpeer: true } } } as never),
      'metrics.prometheus.perpeer',
      /did you mean metrics\.prometheus\.perPeer\?/
    )
    refuses(
      () => peerscope({ ...memory, zzz: 1 } as never),
      'zzz',
      /^peerscope\(\): unknown option zzz; the options here are peerStore, http, latencySampleInterval, history, metrics$/
    )
    refuses(
      () => peerscopeService({ ...memory, metrics: {} } as never),
      'metrics',
      /^peerscopeService\(\): unknown option metrics/
    )
  })

  test('numbers, types and the token are checked', () => {
    refuses(
      () => peerscope({ peerStore: { memory: true, gcInterval: -5 } }),
      'peerStore.gcInterval',
      /peerStore\.gcInterval must be an integer >= 0 \(ms\), got -5/
    )
    refuses(
      () => peerscope({ ...memory, http: { token: 12345 as never } }),
      'http.token',
      /http\.token must be a non-empty string, got 12345/
    )
    refuses(() => peerscope({ ...memory, http: { token: '' } }), 'http.token', /must not be empty/)
    refuses(() => peerscope({ ...memory, http: { port: 70_000 } }), 'http.port', /from 0 to 65535, got 70000/)
    refuses(
      () => peerscope({ ...memory, http: { port: '9102' as never } }),
      'http.port',
      /got the string "9102"/
    )
    refuses(
      () => peerscope({ ...memory, latencySampleInterval: Number.NaN }),
      'latencySampleInterval',
      /got NaN/
    )
    refuses(
      () => peerscope({ ...memory, http: true as never }),
      'http',
      /http must be false or an options object, got true/
    )
    refuses(() => peerscope({ ...memory, metrics: { idleTimeout: -1 } }), 'metrics.idleTimeout', />= 0/)
    refuses(
      () => peerscope({ ...memory, metrics: { registries: [{}] as never } }),
      'metrics.registries[0]',
      /prom-client Registry/
    )
    refuses(
      () => peerscope({ ...memory, history: { fine: { intervalMs: 1000 }, coarse: { intervalMs: 1500 } } }),
      'history',
      /history\.coarse\.intervalMs \(1500\) must be a multiple of history\.fine\.intervalMs/
    )
  })

  test('there is no default data directory: the peer store location is required, once', () => {
    for (const init of [undefined, {}, { peerStore: {} }, { peerStore: { memory: false } }]) {
      refuses(() => peerscope(init), 'peerStore', /peerscope has no default data directory/)
    }
    refuses(
      () => peerscopeService({}),
      'peerStore',
      /^peerscopeService\(\): say where the peer store lives: peerStore\.path/
    )
    refuses(
      () => peerscope({ peerStore: { path: './x', memory: true } }),
      'peerStore',
      /give only one of peerStore\.path, peerStore\.memory/
    )
  })

  test('a non-loopback http.host needs a token or allowUnauthenticated: true', async () => {
    refuses(
      () => peerscope({ ...memory, http: { host: '0.0.0.0' } }),
      'http.host',
      /serve peer data to anyone who can reach 0\.0\.0\.0 \(not a loopback address\) without a token: set http\.token, or http\.allowUnauthenticated: true/
    )
    refuses(() => peerscope({ ...memory, http: { host: '::' } }), 'http.host', /reach ::/)
    assert.doesNotThrow(() => peerscope({ ...memory, http: { host: '0.0.0.0', token: 'secret' } }))
    assert.doesNotThrow(() => peerscope({ ...memory, http: { host: '0.0.0.0', allowUnauthenticated: true } }))
    assert.doesNotThrow(() => peerscope({ ...memory, http: { host: 'localhost' } }))
    // The server itself refuses too, before it listens.
    await assert.rejects(
      startHttpServer({ view: await MemoryView.create({ peers: 1 }), host: '0.0.0.0', port: 0 }),
      (err: unknown) =>
        err instanceof InvalidHttpOptionsError && /allowUnauthenticated: true/.test(err.message)
    )
    await assert.rejects(
      startHttpServer({ view: await MemoryView.create({ peers: 1 }), token: 5 as never }),
      (err: unknown) => err instanceof InvalidHttpOptionsError && err.code === 'ERR_INVALID_HTTP_OPTIONS'
    )
  })
})

/** A node of the quick start's shape with these peerscope options; `metrics: false` leaves ps.metrics out. */
async function node(init: PeerscopeInit, withMetrics = true) {
  const ps = peerscope(init)
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    ...(withMetrics ? { metrics: ps.metrics } : {}),
    services: { identify: identify(), ping: ping(), peerscope: ps.service }
  })
}

describe('the service at start', () => {
  test('an HTTP port in use: createLibp2p rejects with ERR_HTTP_LISTEN naming host, port and http.port', async () => {
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const port = (taken.address() as { port: number }).port
    try {
      await assert.rejects(node({ ...memory, http: { port } }), (err: unknown) => {
        assert.ok(err instanceof HttpListenError, String(err))
        assert.equal(err.code, 'ERR_HTTP_LISTEN')
        assert.equal(err.host, '127.0.0.1')
        assert.equal(err.port, port)
        assert.equal(err.reason, 'EADDRINUSE')
        assert.equal(
          err.message,
          `peerscope's HTTP server cannot listen on 127.0.0.1:${port}: port ${port} is already in use on ` +
            '127.0.0.1; set http.port to a free port (0 picks one) (EADDRINUSE)'
        )
        return true
      })
    } finally {
      taken.close()
    }
  })

  test("a warning when the node's metrics are not peerscope's (bandwidth would read zero)", async () => {
    const warnings: Array<Error & { code?: string }> = []
    const listener = (w: Error) => warnings.push(w)
    process.on('warning', listener)
    try {
      const without = await node({ ...memory, http: { port: 0 } }, false)
      await without.stop()
      const withOurs = await node({ ...memory, http: { port: 0 } })
      await withOurs.stop()
      await new Promise((resolve) => setImmediate(resolve)) // warnings are emitted on the next tick
    } finally {
      process.off('warning', listener)
    }
    const ours = warnings.filter((w) => w.code === FOREIGN_METRICS_WARNING)
    assert.equal(ours.length, 1, 'one warning, for the node without peerscope metrics')
    assert.equal(ours[0]!.name, 'PeerscopeWarning')
    assert.match(
      ours[0]!.message,
      /the node has no metrics, so the HTTP API and dashboard show zero bandwidth; pass the metrics half to createLibp2p/
    )
  })
})
