import { readFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo, Socket } from 'node:net'
import { logger as createLogger } from '@libp2p/logger'
import { bearerToken, createTokenCheck } from './auth.ts'
import { ConnectionSlots } from './connections.ts'
import {
  errorBody,
  HttpError,
  HttpListenError,
  InvalidHttpOptionsError,
  type ListenOptionNames
} from './errors.ts'
import { defaultAllowedHosts, exposureProblem, hostName } from './hosts.ts'
import { openapiDocument } from './openapi.ts'
import { decodeComponent, parseQuery } from './params.ts'
import { ASSET_TYPES, matchRoute, type Reply, routes, type StaticFile, VENDOR_ASSETS } from './routes.ts'
import type { PeerscopeView } from './view.ts'

/** Request limits; every one is enforced by the server or by Node's HTTP parser. */
export interface HttpLimits {
  /** Longest request target (path and query) in characters; longer gets 414. */
  maxUrlLength: number
  /** Total size of the request headers in bytes; larger gets 431 from the parser. */
  maxHeaderSize: number
  /** ms a client has to send all headers; slower gets 408 and the socket is closed. */
  headersTimeout: number
  /** ms a client has to send the whole request; also how long a socket may go without traffic either way. */
  requestTimeout: number
  /** ms an idle keep-alive connection stays open. */
  keepAliveTimeout: number
  /**
   * Concurrent sockets. Past it a new socket takes the slot of the oldest one not serving a request (idle,
   * half-open or mid-headers); it is refused only when every socket is serving one (connections.ts).
   */
  maxConnections: number
  /** Concurrent sockets from one client address (an IPv6 client: its /64), with the same rule. */
  maxConnectionsPerClient: number
}

// The longest valid target is a protocol id of 1024 characters, each percent-encoded from up to 4 UTF-8 bytes
// (about 12.3 KB); Node counts the request line in the header size.
export const DEFAULT_HTTP_LIMITS: Readonly<HttpLimits> = Object.freeze({
  maxUrlLength: 16_384,
  maxHeaderSize: 32_768,
  headersTimeout: 10_000,
  requestTimeout: 15_000,
  keepAliveTimeout: 5_000,
  maxConnections: 1024,
  maxConnectionsPerClient: 64
})

export interface HttpLogger {
  error(formatter: string, ...args: unknown[]): void
}

export interface HttpServerOptions {
  view: PeerscopeView
  /** Defaults to 127.0.0.1: the API is local unless asked otherwise. */
  host?: string
  /** 0 (the default) picks a free port. */
  port?: number
  /** When set, every request needs `Authorization: Bearer <token>` (the dashboard page may use `?token=`). */
  token?: string
  /**
   * A `host` that is not a loopback address needs a `token`, or this set to `true` to serve the peer data to anyone
   * who can reach it; without either the server refuses to start (`ERR_INVALID_HTTP_OPTIONS`).
   */
  allowUnauthenticated?: boolean
  /**
   * Host names (without port) requests may be addressed to, against DNS rebinding. Defaults to the loopback
   * names (`localhost`, `127.0.0.1`, `[::1]`) when bound to loopback, and to any name otherwise; `'*'` allows all.
   */
  allowedHosts?: string[] | '*'
  logger?: HttpLogger
  limits?: Partial<HttpLimits>
}

export interface HttpServer {
  /** Base URL, e.g. `http://127.0.0.1:41234/`. */
  url: string
  port: number
  /** Sockets open now; sockets closed to make room for new ones; new ones refused (every slot serving). */
  connections(): { open: number; evicted: number; refused: number }
  close(): Promise<void>
}

const ALLOW = 'GET, HEAD'
const ASSETS_DIR = new URL('../../assets/', import.meta.url)
const require = createRequire(import.meta.url)
const VERSION = '1.0.0'

const COMMON_HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  // The dashboard URL may carry the token; never pass it on.
  'Referrer-Policy': 'no-referrer'
}
const PAGE_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY'
}

/**
 * Starts the HTTP API and dashboard over a view; resolves once listening. Rejects with `ERR_INVALID_HTTP_OPTIONS`
 * for options it cannot run with, and `ERR_HTTP_LISTEN` (`HttpListenError`) when it cannot listen; `names` are how
 * the caller's user spells the host and port options in that error (default `host`, `port`).
 */
export async function startHttpServer(
  options: HttpServerOptions,
  names?: ListenOptionNames
): Promise<HttpServer> {
  const { view, host = '127.0.0.1', port = 0 } = options
  const limits: HttpLimits = { ...DEFAULT_HTTP_LIMITS, ...options.limits }
  for (const name of ['maxConnections', 'maxConnectionsPerClient'] as const) {
    if (!Number.isSafeInteger(limits[name]) || limits[name] < 1) {
      throw new InvalidHttpOptionsError(`limits.${name} must be an integer >= 1, got ${String(limits[name])}`)
    }
  }
  const log = options.logger ?? createLogger('peerscope:http')
  const slots = new ConnectionSlots(limits)
  if (options.token !== undefined && (typeof options.token !== 'string' || options.token.length === 0)) {
    throw new InvalidHttpOptionsError('The HTTP token must be a non-empty string')
  }
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new InvalidHttpOptionsError(`The HTTP port must be an integer from 0 to 65535, got ${String(port)}`)
  }
  const exposure = exposureProblem(host, options.token, options.allowUnauthenticated)
  if (exposure !== undefined) throw new InvalidHttpOptionsError(`The HTTP server will not start: ${exposure}`)
  const hostList =
    options.allowedHosts === '*' ? undefined : (options.allowedHosts ?? defaultAllowedHosts(host))
  const allowedHosts =
    hostList === undefined ? undefined : new Set(hostList.map((name) => name.toLowerCase()))
  const checkToken = options.token === undefined ? undefined : createTokenCheck(options.token)
  const assets = await loadAssets(log)
  const openapi = JSON.stringify(
    openapiDocument(routes, { version: VERSION, auth: checkToken !== undefined })
  )

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = req.url ?? ''
    if (target.length > limits.maxUrlLength) {
      throw new HttpError(
        414,
        'ERR_URL_TOO_LONG',
        `Request targets are limited to ${limits.maxUrlLength} characters`
      )
    }
    if (hasBody(req)) {
      // The body is never read, so this connection cannot carry another request.
      throw new HttpError(413, 'ERR_BODY_NOT_ALLOWED', 'Requests must not have a body', {
        Connection: 'close'
      })
    }
    // A request without Host cannot come from a browser, so only a present, foreign Host is refused.
    const hostHeader = req.headers.host
    if (allowedHosts !== undefined && hostHeader !== undefined && !allowedHosts.has(hostName(hostHeader))) {
      throw new HttpError(
        403,
        'ERR_HOST_NOT_ALLOWED',
        'This server does not answer requests for that host name'
      )
    }
    if (!target.startsWith('/'))
      throw new HttpError(400, 'ERR_BAD_REQUEST', 'The request target must be a path')
    const queryAt = target.indexOf('?')
    const rawPath = queryAt === -1 ? target : target.slice(0, queryAt)
    const query = parseQuery(queryAt === -1 ? '' : target.slice(queryAt + 1))
    const segments = rawPath.split('/').slice(1)
    // `/api/v1/peers/` is `/api/v1/peers`; the root keeps its single empty segment.
    if (segments.length > 1 && segments.at(-1) === '') segments.pop()
    const match = matchRoute(segments, decodeComponent)

    if (checkToken !== undefined) {
      const queryToken = match?.route.queryToken === true ? query.get('token') : undefined
      const presented =
        bearerToken(req.headers.authorization) ?? (queryToken?.length === 1 ? queryToken[0] : undefined)
      if (!checkToken(presented)) {
        throw new HttpError(401, 'ERR_UNAUTHORIZED', 'A valid bearer token is required', {
          'WWW-Authenticate': 'Bearer realm="peerscope"'
        })
      }
    }
    if (match === undefined) throw new HttpError(404, 'ERR_NOT_FOUND', 'No such route')
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      throw new HttpError(405, 'ERR_METHOD_NOT_ALLOWED', 'Only GET and HEAD are allowed', { Allow: ALLOW })
    }
    const token = query.get('token')?.[0]
    const assetQuery =
      match.route.queryToken && token !== undefined ? `?token=${encodeURIComponent(token)}` : ''
    const reply = await match.route.handle({ view, params: match.params, query, assets, openapi, assetQuery })
    send(req, res, 200, reply, match.route.path === '/' ? PAGE_HEADERS : {})
  }

  const checkingInterval = Math.min(1000, limits.headersTimeout)
  const server = createServer(
    {
      maxHeaderSize: limits.maxHeaderSize,
      headersTimeout: limits.headersTimeout,
      requestTimeout: limits.requestTimeout,
      keepAliveTimeout: limits.keepAliveTimeout,
      connectionsCheckingInterval: checkingInterval,
      // Node would answer a missing Host with a bare 400 of its own; such a request cannot come from a browser,
      // so it is served (the Host check above handles the ones that name a host).
      requireHostHeader: false
    },
    (req, res) => {
      const socket = req.socket
      slots.requestStarted(socket)
      res.once('close', () => slots.requestEnded(socket))
      handle(req, res).catch((err: unknown) => {
        if (err instanceof HttpError) {
          sendError(req, res, err)
        } else {
          log.error('HTTP request %s %s failed: %e', req.method, req.url?.slice(0, 200), err)
          sendError(req, res, new HttpError(500, 'ERR_INTERNAL', 'Internal error'))
        }
      })
    }
  )
  // Sockets without traffic either way (a client that stopped reading its response) are destroyed by Node; after
  // the request timeouts have had their check, so a slow request still gets its 408.
  server.timeout = Math.max(limits.headersTimeout, limits.requestTimeout) + checkingInterval
  server.on('connection', (socket: Socket) => slots.accepted(socket))
  // Node's own answer to an unknown `Expect` is a bare 417; ours carries the usual JSON error.
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('Connection', 'close')
    sendError(
      req,
      res,
      new HttpError(417, 'ERR_EXPECTATION_FAILED', 'Only "Expect: 100-continue" is understood')
    )
  })
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    answerClientError(err, socket)
    // Ended or destroyed: either way the slot is not held for a client that never closes its side.
    slots.ended(socket)
  })

  await new Promise<void>((resolve, reject) => {
    const failed = (err: Error): void => reject(new HttpListenError(host, port, err, names))
    server.once('error', failed)
    server.listen(port, host, () => {
      server.off('error', failed)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const hostInUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address

  return {
    url: `http://${hostInUrl}:${address.port}/`,
    port: address.port,
    connections: () => ({ open: slots.open, ...slots.counts }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
        slots.closeAll()
      })
  }
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length']
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}

function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  reply: Reply,
  extra: Record<string, string>
): void {
  if (res.headersSent || res.destroyed) return
  const body = typeof reply.body === 'string' ? Buffer.from(reply.body, 'utf8') : reply.body
  res.writeHead(status, {
    ...COMMON_HEADERS,
    ...extra,
    'Content-Type': reply.contentType,
    'Content-Length': String(body.byteLength)
  })
  // Node drops the body of a HEAD answer on its own; ending without it keeps the intent explicit.
  if (req.method === 'HEAD') res.end()
  else res.end(body)
}

function sendError(req: IncomingMessage, res: ServerResponse, err: HttpError): void {
  const reply = { contentType: 'application/json; charset=utf-8', body: errorBody(err.code, err.message) }
  send(req, res, err.status, reply, err.headers)
}

const CLIENT_ERRORS: Record<string, [number, string, string, string]> = {
  HPE_HEADER_OVERFLOW: [
    431,
    'Request Header Fields Too Large',
    'ERR_HEADERS_TOO_LARGE',
    'Request headers too large'
  ],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'ERR_REQUEST_TIMEOUT', 'The request took too long']
}

/** Requests Node's parser rejects (malformed, oversized, too slow) still get a JSON answer, then the socket closes. */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy()
    return
  }
  const [status, reason, code, message] = CLIENT_ERRORS[err.code ?? ''] ?? [
    400,
    'Bad Request',
    'ERR_BAD_REQUEST',
    'Malformed request'
  ]
  const body = errorBody(code, message)
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`
  )
}

async function loadAssets(log: HttpLogger): Promise<Map<string, StaticFile>> {
  const files: Record<string, string> = { 'index.html': 'text/html; charset=utf-8', ...ASSET_TYPES }
  const assets = new Map<string, StaticFile>()
  for (const [name, contentType] of Object.entries(files)) {
    try {
      const vendored = VENDOR_ASSETS[name]
      const path = vendored === undefined ? new URL(name, ASSETS_DIR) : require.resolve(vendored)
      assets.set(name, { contentType, body: await readFile(path) })
    } catch (err) {
      // A package installed without its assets still serves the API; the dashboard routes answer 404.
      log.error('dashboard file %s is missing: %e', name, err)
    }
  }
  return assets
}
