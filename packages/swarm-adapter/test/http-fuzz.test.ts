import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import { type HttpServer, routes, startHttpServer } from '../src/http/index.ts'
import { MemoryView, PROTOCOLS } from './fixtures/memory-view.ts'

const TOKEN = 'fuzz-token'
const REQUESTS = 10_000
const PARALLEL = 48

interface RawResponse {
  status: number | undefined
  headers: string
  body: string
}

/**
 * Sends raw bytes and reads one response (skipping 1xx). Resolves when the declared body has arrived or the
 * server closes; the socket is destroyed either way.
 */
function rawRequest(port: number, chunks: (string | Buffer)[], isHead: boolean): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let data = Buffer.alloc(0)
    let settled = false
    const finish = () => {
      if (settled) return
      settled = true
      socket.destroy()
      resolve(parse(data))
    }
    const complete = (): boolean => {
      let text = data.toString('latin1')
      while (/^HTTP\/1\.1 1\d\d /.test(text) && text.includes('\r\n\r\n'))
        text = text.slice(text.indexOf('\r\n\r\n') + 4)
      const end = text.indexOf('\r\n\r\n')
      if (end === -1 || /^HTTP\/1\.1 1\d\d /.test(text)) return false
      if (isHead) return true
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end))
      return length !== null && text.length - end - 4 >= Number(length[1])
    }
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk])
      if (complete()) finish()
    })
    socket.on('error', () => finish())
    socket.on('close', finish)
    socket.on('connect', () => {
      for (const chunk of chunks) if (!socket.destroyed) socket.write(chunk)
    })
    socket.setTimeout(20_000, () => {
      settled = true
      socket.destroy()
      reject(new Error('no answer and no close within 20 s'))
    })
  })
}

// Only the first (non-1xx) response counts: bytes after its declared body belong to a pipelined request.
function parse(data: Buffer): RawResponse {
  let text = data.toString('latin1')
  while (/^HTTP\/1\.1 1\d\d /.test(text) && text.includes('\r\n\r\n'))
    text = text.slice(text.indexOf('\r\n\r\n') + 4)
  const status = /^HTTP\/1\.[01] (\d{3}) /.exec(text)
  const end = text.indexOf('\r\n\r\n')
  const headers = end === -1 ? text : text.slice(0, end)
  const length = /\r\ncontent-length: *(\d+)/i.exec(headers)
  const body =
    end === -1 ? '' : text.slice(end + 4, length === null ? undefined : end + 4 + Number(length[1]))
  return {
    status: status === null ? undefined : Number(status[1]),
    headers,
    body: Buffer.from(body, 'latin1').toString('utf8')
  }
}

// ---- request generators -------------------------------------------------------------------------------------

const knownPaths = routes.map((r) =>
  r.path
    .replace('{peerId}', '12D3KooWGRUVh2UBZrWGXfbbW3mSQkBY6swuoDpnUWxiVDzJcLrv')
    .replace('{protocol}', encodeURIComponent(PROTOCOLS[0] ?? ''))
    .replace('{file}', 'dashboard.js')
)

const segment = fc.oneof(
  fc.constantFrom(
    'api',
    'v1',
    'peers',
    'bandwidth',
    'protocols',
    'assets',
    '..',
    '.',
    '',
    '%2e%2e',
    'metrics'
  ),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
  fc.string({ unit: 'binary', maxLength: 8 }).map((s) => encodeURIComponent(s)),
  fc.constantFrom('%', '%Z', '%E0%A4%A', '%00', '%FF%FE', '%2F', '%252F', '\u00e9', '~', ';x=1', '%C0%AE'),
  fc.stringMatching(/^[A-Za-z0-9%+._~:@!$&'()*,;=-]{0,20}$/)
)

const path = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...knownPaths) },
  { weight: 3, arbitrary: fc.array(segment, { maxLength: 6 }).map((s) => `/${s.join('/')}`) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(...knownPaths), segment)
      .map(([known, extra]) => `${known.replace(/\/[^/]*$/, '')}/${extra}`)
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('*', 'http://127.0.0.1/api/v1/bandwidth', '', '//', '/\\..\\', 'api/v1')
  },
  { weight: 1, arbitrary: fc.nat({ max: 20_000 }).map((n) => `/api/v1/peers?x=${'a'.repeat(n)}`) }
)

const queryString = fc.oneof(
  fc.constant(''),
  fc
    .array(
      fc.tuple(
        fc.constantFrom('limit', 'offset', 'token', 'x', '', '%', 'limit%'),
        fc.oneof(
          fc.constantFrom(
            '0',
            '1',
            '100',
            '1000',
            '1001',
            '-1',
            '1e3',
            '%ZZ',
            '',
            'NaN',
            TOKEN,
            '9'.repeat(30)
          ),
          fc.string({ maxLength: 10 }).map(encodeURIComponent)
        )
      ),
      { maxLength: 4 }
    )
    .map((pairs) => `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`),
  fc.string({ maxLength: 30 }).map((s) => `?${s.replace(/[\s#]/g, '')}`)
)

const method = fc.oneof(
  { weight: 6, arbitrary: fc.constant('GET') },
  {
    weight: 2,
    arbitrary: fc.constantFrom('HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'PROPFIND')
  },
  { weight: 1, arbitrary: fc.constantFrom('get', 'G ET', 'GETT', 'CONNECT', 'X'.repeat(40), '') }
)

const header = fc.oneof(
  { weight: 12, arbitrary: fc.constant(`Authorization: Bearer ${TOKEN}`) },
  {
    weight: 4,
    arbitrary: fc.constantFrom('Accept: application/json', 'User-Agent: fuzz/1.0', 'Accept: */*')
  },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'Authorization: Bearer wrong',
      'Authorization: Basic Zm9vOmJhcg==',
      'Authorization: ',
      'Expect: 100-continue',
      'Expect: teapot',
      'Upgrade: websocket',
      'Connection: upgrade',
      'Host: evil.example',
      'Host: a\r\nHost: b',
      'Transfer-Encoding: gzip',
      'Content-Length: -1',
      'Content-Length: 1, 2',
      'X-Forwarded-For: 1.2.3.4',
      'Range: bytes=0-10',
      'Accept-Encoding: gzip',
      'bad header line',
      ': no name',
      'X-Null: a\u0000b'
    )
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.stringMatching(/^[A-Za-z-]{1,12}$/), fc.string({ maxLength: 40 }))
      .map(([k, v]) => `${k}: ${v.replace(/[\r\n]/g, '')}`)
  },
  { weight: 1, arbitrary: fc.nat({ max: 40_000 }).map((n) => `X-Big: ${'b'.repeat(n)}`) }
)

const body = fc.oneof(
  { weight: 12, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((s) => ({ kind: 'length' as const, s })) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((s) => ({ kind: 'chunked' as const, s })) },
  { weight: 1, arbitrary: fc.string({ maxLength: 50 }).map((s) => ({ kind: 'lying' as const, s })) }
)

const request = fc.oneof(
  {
    weight: 20,
    arbitrary: fc
      .record({
        method,
        path,
        query: queryString,
        headers: fc.array(header, { minLength: 1, maxLength: 3 }),
        body,
        close: fc.boolean(),
        host: fc.constantFrom(
          '127.0.0.1',
          '127.0.0.1',
          'localhost:80',
          '127.0.0.1:1',
          'evil.example',
          '[::1]'
        )
      })
      .map((r) => {
        const lines = [`${r.method} ${r.path}${r.query} HTTP/1.1`, `Host: ${r.host}`, ...r.headers]
        if (r.close) lines.push('Connection: close')
        let payload = ''
        if (r.body?.kind === 'length') {
          lines.push(`Content-Length: ${Buffer.byteLength(r.body.s)}`)
          payload = r.body.s
        } else if (r.body?.kind === 'chunked') {
          lines.push('Transfer-Encoding: chunked')
          payload = `${Buffer.byteLength(r.body.s).toString(16)}\r\n${r.body.s}\r\n0\r\n\r\n`
        } else if (r.body?.kind === 'lying') {
          lines.push(`Content-Length: ${Buffer.byteLength(r.body.s) + 1000}`)
          payload = r.body.s
        }
        return { bytes: [`${lines.join('\r\n')}\r\n\r\n${payload}`], head: r.method === 'HEAD' }
      })
  },
  // Bytes that are barely HTTP at all.
  {
    weight: 1,
    arbitrary: fc
      .uint8Array({ maxLength: 300 })
      .map((b) => ({ bytes: [Buffer.from(b), '\r\n\r\n'], head: false }))
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/9', 'HTTP/1.1 extra', ''),
        fc.constantFrom(...knownPaths)
      )
      .map(([version, p]) => ({ bytes: [`GET ${p} ${version}\r\nHost: 127.0.0.1\r\n\r\n`], head: false }))
  }
)

// ---- checks -------------------------------------------------------------------------------------------------

const STACK = /\bat [\w.<>]+ \(|node:internal|\.ts:\d+|Error: /

function checkResponse(res: RawResponse, sent: string, head = false): void {
  const where = `request ${JSON.stringify(sent.slice(0, 300))}`
  assert.notEqual(res.status, 500, where)
  assert.equal(STACK.test(res.headers + res.body), false, `stack trace in answer to ${where}`)
  if (res.status !== undefined && res.status >= 400 && res.body !== '') {
    const parsed = JSON.parse(res.body)
    assert.match(parsed.error.code, /^ERR_[A-Z_]+$/, where)
  }
  if (res.status !== undefined && res.status >= 400 && !head)
    assert.notEqual(res.body, '', `empty error body for ${where}`)
}

describe('HTTP fuzzing', () => {
  let view: MemoryView
  let server: HttpServer
  const logged: unknown[] = []

  before(async () => {
    view = await MemoryView.create({ peers: 40, connected: 8 })
    server = await startHttpServer({
      view,
      token: TOKEN,
      logger: { error: (...args: unknown[]) => logged.push(args) },
      limits: { headersTimeout: 1000, requestTimeout: 2000, keepAliveTimeout: 500 }
    })
  })
  after(() => server.close())

  it(`${REQUESTS} random and malformed requests over raw sockets: no crash, no 500, no stack trace`, async () => {
    const samples = fc.sample(request, { numRuns: REQUESTS, seed: 0x5eed })
    const statuses = new Map<string, number>()
    let next = 0
    const worker = async () => {
      while (next < samples.length) {
        const sample = samples[next++]
        if (sample === undefined) break
        const res = await rawRequest(server.port, sample.bytes, sample.head)
        checkResponse(res, sample.bytes.map(String).join(''), sample.head)
        const key = String(res.status ?? 'closed')
        statuses.set(key, (statuses.get(key) ?? 0) + 1)
      }
    }
    await Promise.all(Array.from({ length: PARALLEL }, worker))
    console.log('fuzz statuses:', Object.fromEntries([...statuses].sort()))
    assert.equal(logged.length, 0, 'no unexpected error was logged')
    // Enough of the requests were well-formed for each outcome class to be exercised.
    for (const status of ['200', '400', '401', '403', '404', '405', '413', '414', '431'])
      assert.ok((statuses.get(status) ?? 0) > 0, status)
    const health = await fetch(`${server.url}api/v1/bandwidth`, {
      headers: { Authorization: `Bearer ${TOKEN}` }
    })
    assert.equal(health.status, 200)
  })

  it('slow clients that stop mid-request are answered 408 or cut off, and the server keeps answering', async () => {
    const partial = [
      'GET /api/v1/bandwidth HTTP/1.1\r\nHost: 127.0.0.1\r\n',
      'GET /api/v1/band',
      'G',
      `GET /metrics HTTP/1.1\r\nAuthorization: Bearer ${TOKEN}\r\nX-Slow: `,
      'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\nabc'
    ]
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        rawRequest(server.port, [partial[i % partial.length] ?? ''], false)
      )
    )
    for (const [i, res] of results.entries()) {
      checkResponse(res, partial[i % partial.length] ?? '')
      assert.ok(res.status === undefined || res.status === 408 || res.status === 413, String(res.status))
    }
    assert.ok(results.some((r) => r.status === 408))
    const health = await fetch(`${server.url}metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } })
    assert.equal(health.status, 200)
  })

  it('property: any path and query under /api/v1 gets a JSON answer that is never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(segment, { maxLength: 4 }), queryString, async (segments, query) => {
        const res = await rawRequest(
          server.port,
          [
            `GET /api/v1/${segments.join('/')}${query} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nConnection: close\r\n\r\n`
          ],
          false
        )
        checkResponse(res, segments.join('/') + query)
        assert.ok(res.status !== undefined)
        JSON.parse(res.body)
      }),
      { numRuns: 500, seed: 7 }
    )
  })

  it('200 concurrent /metrics scrapes while traffic flows all succeed', async () => {
    const scrapesBefore = view.scrapes
    const traffic = setInterval(() => view.grow(), 1)
    try {
      const bodies = await Promise.all(
        Array.from({ length: 200 }, () =>
          rawRequest(
            server.port,
            [
              `GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nConnection: close\r\n\r\n`
            ],
            false
          )
        )
      )
      for (const res of bodies) {
        assert.equal(res.status, 200)
        assert.match(res.body, /^libp2p_bandwidth_bytes_total\{direction="in"\} \d+$/m)
      }
    } finally {
      clearInterval(traffic)
    }
    assert.equal(view.scrapes - scrapesBefore, 200)
  })
})
