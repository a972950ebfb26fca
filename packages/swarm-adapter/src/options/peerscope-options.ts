// The options of `peerscope()` and `peerscopeService()`, described once and checked when they are called, so a
// misspelled or mistyped option fails at once with the option's name instead of being ignored.

import { BandwidthCounter } from '@peerscope/metrics'
import { validateHistoryOptions } from '../history/history.ts'
import { exposureProblem } from '../http/hosts.ts'
import { check, type Rule } from './schema.ts'

/** A bad option of `peerscope()` / `peerscopeService()`; `option` is its dotted path, e.g. `peerStore.gcInterval`. */
export class PeerscopeOptionsError extends Error {
  readonly code = 'ERR_INVALID_OPTIONS'
  readonly option: string

  constructor(option: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'PeerscopeOptionsError'
    this.option = option
  }
}

const ms = (min: number, max?: number): Rule => ({
  kind: 'number',
  min,
  integer: true,
  unit: 'ms',
  ...(max === undefined ? {} : { max })
})
const count = (min: number, max?: number): Rule => ({
  kind: 'number',
  min,
  integer: true,
  ...(max === undefined ? {} : { max })
})
const bool: Rule = { kind: 'boolean' }
const text: Rule = { kind: 'string', nonEmpty: true }
const fn: Rule = { kind: 'function' }

const PEER_STORE: Rule = {
  kind: 'object',
  keys: {
    path: text,
    db: {
      kind: 'instance',
      describe: 'an abstract-level database (e.g. new MemoryLevel())',
      test: (v) => typeof (v as { sublevel?: unknown }).sublevel === 'function'
    },
    memory: bool,
    addressTtl: ms(1),
    gcInterval: ms(0),
    gcRunAfterAddrs: count(0),
    limits: {
      kind: 'object',
      keys: {
        maxProtocols: count(0),
        maxProtocolLength: count(0),
        maxAddrsPerPeer: count(0),
        maxAddrs: count(0),
        maxMetadataKeys: count(0),
        maxMetadataValueBytes: count(0),
        maxKeyLength: count(0),
        maxTags: count(0)
      }
    },
    // Peer ageing and the address filter of @libp2p/peer-store's init (issue 17's port of the view).
    maxPeerAge: ms(0),
    addressFilter: fn
  }
}

const HTTP_LIMITS: Rule = {
  kind: 'object',
  keys: {
    maxUrlLength: count(1),
    maxHeaderSize: count(1),
    headersTimeout: ms(1),
    requestTimeout: ms(1),
    keepAliveTimeout: ms(1),
    maxConnections: count(1),
    maxConnectionsPerClient: count(1)
  }
}

const HTTP: Rule = {
  kind: 'oneOf',
  rules: [
    { kind: 'literal', value: false },
    {
      kind: 'object',
      keys: {
        host: text,
        port: count(0, 65_535),
        token: text,
        allowUnauthenticated: bool,
        allowedHosts: {
          kind: 'oneOf',
          rules: [
            { kind: 'literal', value: '*' },
            { kind: 'array', items: text }
          ]
        },
        logger: {
          kind: 'instance',
          describe: 'a logger with an error(formatter, ...args) method',
          test: (v) => typeof (v as { error?: unknown }).error === 'function'
        },
        limits: HTTP_LIMITS
      }
    }
  ]
}

const TIER: Rule = { kind: 'object', keys: { intervalMs: ms(1), samples: count(1) } }
const HISTORY: Rule = {
  kind: 'oneOf',
  rules: [
    { kind: 'literal', value: false },
    {
      kind: 'object',
      keys: {
        fine: TIER,
        coarse: TIER,
        topPeers: count(0),
        topProtocols: count(0),
        peerProtocols: count(0),
        maxKeys: count(1),
        maxKeyLength: count(1)
      }
    }
  ]
}

const SERVICE_KEYS = {
  peerStore: PEER_STORE,
  http: HTTP,
  latencySampleInterval: ms(0),
  history: HISTORY
} satisfies Record<string, Rule>

// What `@peerscope/metrics` checks in depth when the node builds it; here the names and kinds, so a typo fails early.
const METRICS: Rule = {
  kind: 'object',
  keys: {
    bandwidth: {
      kind: 'oneOf',
      rules: [
        { kind: 'instance', describe: 'a BandwidthCounter', test: (v) => v instanceof BandwidthCounter },
        {
          kind: 'object',
          keys: {
            clock: fn,
            maxPeers: count(1),
            map: { kind: 'instance', describe: 'a metric map', test: () => true },
            publishRates: bool
          }
        }
      ]
    },
    prometheus: { kind: 'object', keys: { perPeer: bool, maxPeerLabels: count(0) } },
    idleTimeout: ms(0),
    exportFromWorker: bool,
    processMetrics: {
      kind: 'oneOf',
      rules: [
        bool,
        {
          kind: 'object',
          keys: {
            eventLoopResolution: ms(1),
            gcDurationBuckets: { kind: 'array', items: { kind: 'number', min: 0 } }
          }
        }
      ]
    },
    registries: {
      kind: 'array',
      items: {
        kind: 'instance',
        describe: 'a prom-client Registry (an object with metrics())',
        test: (v) => typeof (v as { metrics?: unknown }).metrics === 'function'
      }
    },
    openTelemetry: {
      kind: 'oneOf',
      rules: [
        bool,
        {
          kind: 'object',
          keys: {
            meterProvider: { kind: 'instance', describe: 'a MeterProvider', test: () => true },
            meterName: text,
            perPeer: bool,
            maxPeerLabels: count(0),
            perConnection: bool,
            maxConnectionLabels: count(0)
          }
        }
      ]
    },
    tracing: {
      kind: 'oneOf',
      rules: [bool, { kind: 'object', keys: { tracerName: text, tracerVersion: text } }]
    }
  }
}

function fail(option: string, message: string, cause?: unknown): never {
  throw new PeerscopeOptionsError(option, message, cause === undefined ? undefined : { cause })
}

function checkInit(init: unknown, keys: Record<string, Rule>, fn: string): void {
  if (init === undefined) init = {}
  const broken = check({ kind: 'object', keys }, init, '')
  if (broken !== undefined) fail(broken.option, `${fn}: ${broken.message}`)
  const { peerStore, http, history } = init as {
    peerStore?: { path?: string; db?: unknown; memory?: boolean }
    http?: { host?: string; token?: string; allowUnauthenticated?: boolean } | false
    history?: object | false
  }
  // No default data directory: a default would depend on the node's identity, which is new on every run unless
  // a key is kept, and would fill a hidden directory with one database per run.
  const where = [
    peerStore?.path !== undefined && 'path',
    peerStore?.db !== undefined && 'db',
    peerStore?.memory === true && 'memory'
  ].filter((w) => w !== false)
  if (where.length === 0) {
    fail(
      'peerStore',
      `${fn}: say where the peer store lives: peerStore.path (a LevelDB directory, e.g. './data/peerstore'), ` +
        'peerStore.memory: true (nothing kept after the process), or peerStore.db (any abstract-level database); ' +
        'peerscope has no default data directory'
    )
  }
  if (where.length > 1) {
    fail('peerStore', `${fn}: give only one of peerStore.${where.join(', peerStore.')}`)
  }
  if (http !== undefined && http !== false) {
    const problem = exposureProblem(http.host, http.token, http.allowUnauthenticated, {
      token: 'http.token',
      allow: 'http.allowUnauthenticated: true'
    })
    if (problem !== undefined) fail('http.host', `${fn}: ${problem}`)
  }
  if (history !== undefined && history !== false) {
    try {
      validateHistoryOptions(history)
    } catch (err) {
      fail('history', `${fn}: ${(err as Error).message}`, err)
    }
  }
}

/** Throws `PeerscopeOptionsError` (`ERR_INVALID_OPTIONS`) for the first bad option of `peerscopeService(init)`. */
export function validateServiceInit(init: unknown): void {
  checkInit(init, SERVICE_KEYS, 'peerscopeService()')
}

/** Throws `PeerscopeOptionsError` (`ERR_INVALID_OPTIONS`) for the first bad option of `peerscope(init)`. */
export function validatePeerscopeInit(init: unknown): void {
  checkInit(init, { ...SERVICE_KEYS, metrics: METRICS }, 'peerscope()')
}
