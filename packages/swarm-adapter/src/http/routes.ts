import { MAX_PEER_SEARCH_LENGTH, PEER_ORDERS, PEER_SORTS } from '../view/peer-query.ts'
import { notFound } from './errors.ts'
import {
  booleanParam,
  enumParam,
  integerParam,
  MAX_PROTOCOL_LENGTH,
  peerIdParam,
  protocolParam,
  type Query,
  textParam
} from './params.ts'
import { schemaRef } from './schemas.ts'
import type { PeerscopeView, Resolution } from './view.ts'

export const PEERS_DEFAULT_LIMIT = 100
export const PEERS_MAX_LIMIT = 1000
/** Series a history answer carries at most, per kind. */
export const HISTORY_MAX_SERIES = 64
const HISTORY_DEFAULT_PEERS = 8
const HISTORY_DEFAULT_PROTOCOLS = 12
const RESOLUTIONS: readonly Resolution[] = ['fine', 'coarse']

export interface StaticFile {
  contentType: string
  body: Buffer
}

export interface RouteContext {
  view: PeerscopeView
  /** Path parameters, already percent-decoded. */
  params: Record<string, string>
  query: Query
  assets: ReadonlyMap<string, StaticFile>
  openapi: string
  /** Appended to the dashboard's asset links when the page was opened with `?token=`. */
  assetQuery: string
}

export interface Reply {
  contentType: string
  body: string | Buffer
}

export interface RouteParam {
  name: string
  in: 'path' | 'query'
  description: string
  schema: Record<string, unknown>
}

export interface Route {
  /** OpenAPI path template; `{name}` matches exactly one path segment. */
  path: string
  operationId: string
  summary: string
  tag: string
  params: RouteParam[]
  /** Media type and schema of the 200 answer. */
  produces: { contentType: string; schema: Record<string, unknown> }
  /** Extra error statuses this route answers besides 401/405/500 (e.g. 400, 404). */
  errors: number[]
  /** Pages a browser loads without custom headers may carry the token as `?token=` instead. */
  queryToken: boolean
  handle(ctx: RouteContext): Promise<Reply>
}

const JSON_TYPE = 'application/json; charset=utf-8'
const PROMETHEUS_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

const json = (value: unknown): Reply => ({ contentType: JSON_TYPE, body: JSON.stringify(value) })
const jsonRoute = (schema: string) => ({ contentType: 'application/json', schema: schemaRef(schema) })

// Peer ids carry a multihash (and for identity hashes a public key) that no JSON Schema can express: a string
// matching the pattern may still be refused with 400 ERR_INVALID_PEER_ID.
const peerIdPath: RouteParam = {
  name: 'peerId',
  in: 'path',
  description: 'A peer id (base58btc multihash or CIDv1)',
  schema: {
    type: 'string',
    pattern: '^([1-9A-HJ-NP-Za-km-z]{46,100}|b[a-z2-7]{50,120}|k[0-9a-z]{50,120})$',
    examples: ['12D3KooWGRUVh2UBZrWGXfbbW3mSQkBY6swuoDpnUWxiVDzJcLrv']
  }
}
const tokenQuery: RouteParam = {
  name: 'token',
  in: 'query',
  description: 'The bearer token, for browsers opening the page (an Authorization header works too)',
  schema: { type: 'string' }
}

const resolutionQuery: RouteParam = {
  name: 'resolution',
  in: 'query',
  description: '`fine` (default: 1 s samples for 1 h) or `coarse` (1 min samples for 24 h)',
  schema: { enum: RESOLUTIONS, default: 'fine' }
}
const sinceQuery: RouteParam = {
  name: 'since',
  in: 'query',
  description: 'Only samples newer than this time (epoch ms); polls pass the last time they have',
  schema: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0 }
}
const seriesQuery = (name: string, what: string, fallback: number): RouteParam => ({
  name,
  in: 'query',
  description: `Most ${what} series returned, the busiest over the samples returned (default ${fallback})`,
  schema: { type: 'integer', minimum: 0, maximum: HISTORY_MAX_SERIES, default: fallback }
})

const JS = 'text/javascript; charset=utf-8'
/** Dashboard files served under `/assets/`; nothing else is read from disk. */
export const ASSET_TYPES: Record<string, string> = {
  'dashboard.js': JS,
  'charts.js': JS,
  'format.js': JS,
  'dashboard.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
  'uplot.js': JS,
  'uplot.css': 'text/css; charset=utf-8',
  'uplot-LICENSE.txt': 'text/plain; charset=utf-8'
}

/**
 * Dashboard files served from the `uplot` package as installed (the chart library, its style sheet and its
 * MIT licence), so they are the exact published files and are updated with the lockfile.
 */
export const VENDOR_ASSETS: Record<string, string> = {
  'uplot.js': 'uplot/dist/uPlot.iife.min.js',
  'uplot.css': 'uplot/dist/uPlot.min.css',
  'uplot-LICENSE.txt': 'uplot/LICENSE'
}

/**
 * The one route table: the server matches requests against it and the OpenAPI document is generated from it,
 * so the two cannot drift apart.
 */
export const routes: Route[] = [
  {
    path: '/metrics',
    operationId: 'getMetrics',
    summary: 'Prometheus metrics (text exposition format 0.0.4)',
    tag: 'metrics',
    params: [],
    produces: { contentType: 'text/plain; version=0.0.4', schema: { type: 'string' } },
    errors: [],
    queryToken: false,
    handle: async ({ view }) => ({ contentType: PROMETHEUS_TYPE, body: await view.prometheus() })
  },
  {
    path: '/api/v1/bandwidth',
    operationId: 'getBandwidth',
    summary: 'Bandwidth totals and rates of the node',
    tag: 'bandwidth',
    params: [],
    produces: jsonRoute('BandwidthStats'),
    errors: [],
    queryToken: false,
    handle: async ({ view }) => json(view.bandwidthTotals())
  },
  {
    path: '/api/v1/bandwidth/peers',
    operationId: 'getBandwidthByPeer',
    summary: 'Bandwidth per remote peer',
    tag: 'bandwidth',
    params: [],
    produces: jsonRoute('PeerBandwidth'),
    errors: [],
    queryToken: false,
    handle: async ({ view }) => json({ peers: view.bandwidthByPeer() })
  },
  {
    path: '/api/v1/bandwidth/peers/{peerId}',
    operationId: 'getBandwidthForPeer',
    summary: 'Bandwidth of one remote peer',
    tag: 'bandwidth',
    params: [peerIdPath],
    produces: jsonRoute('BandwidthStats'),
    errors: [400, 404],
    queryToken: false,
    handle: async ({ view, params }) => {
      const stats = view.bandwidthForPeer(peerIdParam(params.peerId ?? ''))
      if (stats === undefined) throw notFound('ERR_UNKNOWN_PEER', 'No bandwidth recorded for this peer')
      return json(stats)
    }
  },
  {
    path: '/api/v1/bandwidth/protocols',
    operationId: 'getBandwidthByProtocol',
    summary: 'Bandwidth per protocol',
    tag: 'bandwidth',
    params: [],
    produces: jsonRoute('ProtocolBandwidth'),
    errors: [],
    queryToken: false,
    handle: async ({ view }) => json({ protocols: view.bandwidthByProtocol() })
  },
  {
    path: '/api/v1/bandwidth/protocols/{protocol}',
    operationId: 'getBandwidthForProtocol',
    summary: 'Bandwidth of one protocol',
    tag: 'bandwidth',
    params: [
      {
        name: 'protocol',
        in: 'path',
        description: 'URL-encoded protocol id, e.g. %2Fipfs%2Fping%2F1.0.0',
        schema: {
          type: 'string',
          minLength: 1,
          maxLength: MAX_PROTOCOL_LENGTH,
          examples: ['/ipfs/ping/1.0.0']
        }
      }
    ],
    produces: jsonRoute('BandwidthStats'),
    errors: [400, 404],
    queryToken: false,
    handle: async ({ view, params }) => {
      const stats = view.bandwidthForProtocol(protocolParam(params.protocol ?? ''))
      if (stats === undefined)
        throw notFound('ERR_UNKNOWN_PROTOCOL', 'No bandwidth recorded for this protocol')
      return json(stats)
    }
  },
  {
    path: '/api/v1/connections',
    operationId: 'getConnections',
    summary: 'Open connections',
    tag: 'node',
    params: [],
    produces: jsonRoute('Connections'),
    errors: [],
    queryToken: false,
    handle: async ({ view }) => json({ connections: view.connections() })
  },
  {
    path: '/api/v1/peers',
    operationId: 'listPeers',
    summary: 'Peers in the peer store, one page at a time',
    tag: 'peers',
    params: [
      {
        name: 'limit',
        in: 'query',
        description: `Page size (default ${PEERS_DEFAULT_LIMIT})`,
        schema: { type: 'integer', minimum: 1, maximum: PEERS_MAX_LIMIT, default: PEERS_DEFAULT_LIMIT }
      },
      {
        name: 'offset',
        in: 'query',
        description: 'Peers to skip',
        schema: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0 }
      },
      {
        name: 'q',
        in: 'query',
        description: 'Case-insensitive text to find in the peer id, agent, an address or a protocol',
        schema: { type: 'string', maxLength: MAX_PEER_SEARCH_LENGTH }
      },
      {
        name: 'sort',
        in: 'query',
        description: '`rate`: bytes/s now; `traffic`: bytes so far (in and out together). Default `id`',
        schema: { enum: PEER_SORTS, default: 'id' }
      },
      {
        name: 'order',
        in: 'query',
        description: 'Default `asc` for id and agent, `desc` for the others; unknown values sort last',
        schema: { enum: PEER_ORDERS }
      },
      {
        name: 'connected',
        in: 'query',
        description: 'Only connected peers (`true`) or only stored, unconnected ones (`false`)',
        schema: { enum: ['true', 'false'] }
      }
    ],
    produces: jsonRoute('PeerPage'),
    errors: [400],
    queryToken: false,
    handle: async ({ view, query }) => {
      const limit = integerParam(query, 'limit', PEERS_DEFAULT_LIMIT, 1, PEERS_MAX_LIMIT)
      const offset = integerParam(query, 'offset', 0, 0, Number.MAX_SAFE_INTEGER)
      const search = textParam(query, 'q', MAX_PEER_SEARCH_LENGTH)
      const sort = enumParam(query, 'sort', PEER_SORTS)
      const order = enumParam(query, 'order', PEER_ORDERS)
      const connected = booleanParam(query, 'connected')
      return json(
        await view.peers({
          limit,
          offset,
          ...(search === '' ? {} : { search }),
          ...(sort === undefined ? {} : { sort }),
          ...(order === undefined ? {} : { order }),
          ...(connected === undefined ? {} : { connected })
        })
      )
    }
  },
  {
    path: '/api/v1/peers/{peerId}',
    operationId: 'getPeer',
    summary: 'One peer: addresses with TTL and expiry, protocols, public key, metadata, pins, latency',
    tag: 'peers',
    params: [peerIdPath],
    produces: jsonRoute('PeerDetail'),
    errors: [400, 404],
    queryToken: false,
    handle: async ({ view, params }) => {
      const peer = await view.peer(peerIdParam(params.peerId ?? ''))
      if (peer === undefined) throw notFound('ERR_UNKNOWN_PEER', 'The peer store does not know this peer')
      return json(peer)
    }
  },
  {
    path: '/api/v1/peerstore',
    operationId: 'getPeerStoreStats',
    summary: 'Peer store size and the last garbage collection',
    tag: 'peers',
    params: [],
    produces: jsonRoute('PeerStoreStats'),
    errors: [],
    queryToken: false,
    handle: async ({ view }) => json(await view.peerStoreStats())
  },
  {
    path: '/api/v1/history',
    operationId: 'getHistory',
    summary: 'Samples the node kept: totals, connections, streams, peer store, busiest protocols and peers',
    tag: 'history',
    params: [
      resolutionQuery,
      sinceQuery,
      seriesQuery('peers', 'peer', HISTORY_DEFAULT_PEERS),
      seriesQuery('protocols', 'protocol', HISTORY_DEFAULT_PROTOCOLS)
    ],
    produces: jsonRoute('History'),
    errors: [400],
    queryToken: false,
    handle: async ({ view, query }) =>
      json(
        view.history({
          resolution: enumParam(query, 'resolution', RESOLUTIONS) ?? 'fine',
          since: integerParam(query, 'since', 0, 0, Number.MAX_SAFE_INTEGER),
          peers: integerParam(query, 'peers', HISTORY_DEFAULT_PEERS, 0, HISTORY_MAX_SERIES),
          protocols: integerParam(query, 'protocols', HISTORY_DEFAULT_PROTOCOLS, 0, HISTORY_MAX_SERIES)
        })
      )
  },
  {
    path: '/api/v1/history/peers/{peerId}',
    operationId: 'getPeerHistory',
    summary: 'One peer over time (null where it was not among the busiest peers of a sample)',
    tag: 'history',
    params: [
      peerIdPath,
      resolutionQuery,
      sinceQuery,
      seriesQuery('protocols', 'protocol', HISTORY_DEFAULT_PROTOCOLS)
    ],
    produces: jsonRoute('PeerHistory'),
    errors: [400],
    queryToken: false,
    handle: async ({ view, params, query }) => {
      const peerId = peerIdParam(params.peerId ?? '')
      return json(
        view.peerHistory(peerId, {
          resolution: enumParam(query, 'resolution', RESOLUTIONS) ?? 'fine',
          since: integerParam(query, 'since', 0, 0, Number.MAX_SAFE_INTEGER),
          protocols: integerParam(query, 'protocols', HISTORY_DEFAULT_PROTOCOLS, 0, HISTORY_MAX_SERIES)
        })
      )
    }
  },
  {
    path: '/api/v1/node',
    operationId: 'getNode',
    summary: 'The local node (null when serving an offline database)',
    tag: 'node',
    params: [],
    produces: jsonRoute('Node'),
    errors: [],
    queryToken: false,
    handle: async ({ view }) => json({ node: view.node() })
  },
  {
    path: '/api/v1/openapi.json',
    operationId: 'getOpenApi',
    summary: 'This OpenAPI 3.1 document',
    tag: 'meta',
    params: [],
    produces: { contentType: 'application/json', schema: { type: 'object' } },
    errors: [],
    queryToken: false,
    handle: async ({ openapi }) => ({ contentType: JSON_TYPE, body: openapi })
  },
  {
    path: '/',
    operationId: 'getDashboard',
    summary: 'The dashboard page',
    tag: 'dashboard',
    params: [tokenQuery],
    produces: { contentType: 'text/html', schema: { type: 'string' } },
    errors: [404],
    queryToken: true,
    handle: async ({ assets, assetQuery }) => {
      const page = assets.get('index.html')
      if (page === undefined)
        throw notFound('ERR_DASHBOARD_UNAVAILABLE', 'The dashboard files are not installed')
      if (assetQuery === '') return page
      // Browsers fetch scripts and styles without our header, so the page's own token goes on its asset links.
      const html = page.body.toString('utf8').replace(/((?:src|href)="assets\/[\w.-]+)"/g, `$1${assetQuery}"`)
      return { contentType: page.contentType, body: html }
    }
  },
  {
    path: '/assets/{file}',
    operationId: 'getAsset',
    summary: 'A dashboard file (script, style sheet, icon)',
    tag: 'dashboard',
    params: [
      {
        name: 'file',
        in: 'path',
        description: 'File name',
        schema: { enum: Object.keys(ASSET_TYPES) }
      },
      tokenQuery
    ],
    produces: { contentType: '*/*', schema: { type: 'string' } },
    errors: [404],
    queryToken: true,
    handle: async ({ assets, params }) => {
      const file = Object.hasOwn(ASSET_TYPES, params.file ?? '') ? assets.get(params.file ?? '') : undefined
      if (file === undefined) throw notFound('ERR_NOT_FOUND', 'No such file')
      return file
    }
  }
]

interface CompiledRoute {
  route: Route
  segments: string[]
}

const compiled: CompiledRoute[] = routes.map((route) => ({ route, segments: route.path.split('/').slice(1) }))

/**
 * Finds the route for a raw (still percent-encoded) path. Segments are matched before decoding, so an
 * encoded `/` inside a protocol id stays inside its parameter.
 */
export function matchRoute(
  rawSegments: string[],
  decode: (raw: string, what: string) => string
): { route: Route; params: Record<string, string> } | undefined {
  for (const { route, segments } of compiled) {
    if (segments.length !== rawSegments.length) continue
    const params: Record<string, string> = {}
    let matched = true
    for (let i = 0; i < segments.length && matched; i++) {
      const want = segments[i] ?? ''
      const got = rawSegments[i] ?? ''
      if (want.startsWith('{')) {
        if (got === '') matched = false
        else params[want.slice(1, -1)] = got
      } else if (want !== got) {
        matched = false
      }
    }
    if (!matched) continue
    for (const [name, raw] of Object.entries(params)) params[name] = decode(raw, `path parameter "${name}"`)
    return { route, params }
  }
  return undefined
}
