import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type HttpServer, type InvalidHttpOptionsError, routes, startHttpServer } from '../src/http/index.ts'
import { validate } from './fixtures/json-schema.ts'
import { MemoryView } from './fixtures/memory-view.ts'

// Fills an OpenAPI path template with values the fixture knows.
function concretePath(template: string, view: MemoryView): string {
  return template
    .replace('{peerId}', view.connectedIds[0] ?? '')
    .replace('{protocol}', encodeURIComponent('/ipfs/ping/1.0.0'))
    .replace('{file}', 'dashboard.js')
}

interface OpenApi {
  openapi: string
  paths: Record<
    string,
    Record<
      string,
      { responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }> }
    >
  >
  components: { schemas: Record<string, Record<string, unknown>> }
}

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Json = any

async function getJson(
  url: string,
  init?: RequestInit
): Promise<{ status: number; body: Json; headers: Headers }> {
  const res = await fetch(url, init)
  const text = await res.text()
  return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) }
}

describe('HTTP API without a token', () => {
  let view: MemoryView
  let server: HttpServer
  const logged: unknown[][] = []

  before(async () => {
    view = await MemoryView.create({ peers: 250, connected: 12 })
    server = await startHttpServer({ view, logger: { error: (...args: unknown[]) => logged.push(args) } })
  })
  after(() => server.close())

  it('binds 127.0.0.1 on an ephemeral port by default', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/)
    assert.ok(server.port > 0)
  })

  it('the OpenAPI document is valid JSON and lists exactly the routes of the route table', async () => {
    const res = await fetch(`${server.url}api/v1/openapi.json`)
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8')
    const doc = JSON.parse(await res.text()) as OpenApi
    assert.equal(doc.openapi, '3.1.0')
    assert.deepEqual(Object.keys(doc.paths).sort(), routes.map((r) => r.path).sort())
    for (const [path, item] of Object.entries(doc.paths)) {
      assert.deepEqual(Object.keys(item).sort(), ['get', 'head'], path)
    }
    // Every $ref points at a schema that exists.
    const refs = JSON.stringify(doc).match(/#\/components\/schemas\/\w+/g) ?? []
    assert.ok(refs.length > 10)
    for (const ref of refs) assert.ok(doc.components.schemas[ref.split('/').at(-1) ?? ''], ref)
  })

  it('every documented route answers GET with its declared type and a body valid against its schema', async () => {
    const doc = (await getJson(`${server.url}api/v1/openapi.json`)).body as OpenApi
    for (const [template, item] of Object.entries(doc.paths)) {
      const url = new URL(concretePath(template, view).slice(1), server.url)
      const res = await fetch(url)
      assert.equal(res.status, 200, template)
      const [declared, media] = Object.entries(item.get?.responses['200']?.content ?? {})[0] ?? []
      const type = res.headers.get('content-type') ?? ''
      if (declared !== '*/*') assert.ok(type.startsWith(declared ?? '?'), `${template}: ${type}`)
      const text = await res.text()
      assert.ok(text.length > 0, template)
      if (declared === 'application/json') {
        const errors = validate(JSON.parse(text), media?.schema ?? {}, doc)
        assert.deepEqual(errors, [], template)
      }
    }
  })

  it('HEAD answers with the same status and headers as GET and no body', async () => {
    for (const route of routes) {
      const url = new URL(concretePath(route.path, view).slice(1), server.url)
      const get = await fetch(url)
      const getBody = Buffer.from(await get.arrayBuffer())
      const head = await fetch(url, { method: 'HEAD' })
      assert.equal(head.status, 200, route.path)
      assert.equal(head.headers.get('content-type'), get.headers.get('content-type'), route.path)
      assert.equal(Buffer.from(await head.arrayBuffer()).length, 0, route.path)
      assert.equal(head.headers.get('content-length'), String(getBody.length), route.path)
    }
    const missing = await fetch(`${server.url}api/v1/nope`, { method: 'HEAD' })
    assert.equal(missing.status, 404)
  })

  it('serves Prometheus text with the 0.0.4 content type', async () => {
    const res = await fetch(`${server.url}metrics`)
    assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
    const text = await res.text()
    assert.match(text, /^# TYPE libp2p_bandwidth_bytes_total counter$/m)
    assert.match(
      text,
      new RegExp(`^libp2p_bandwidth_bytes_total\\{direction="in"\\} ${view.bandwidthTotals().totalIn}$`, 'm')
    )
  })

  it('answers follow the view as traffic grows and GC runs', async () => {
    const before = (await getJson(`${server.url}api/v1/bandwidth`)).body
    const peerBefore = (await getJson(`${server.url}api/v1/bandwidth/peers/${view.connectedIds[0]}`)).body
    view.grow(1_000_000)
    const afterGrow = (await getJson(`${server.url}api/v1/bandwidth`)).body
    assert.ok(afterGrow.totalIn > before.totalIn)
    assert.ok(afterGrow.totalOut > before.totalOut)
    assert.deepEqual(afterGrow, view.bandwidthTotals())
    const peerAfter = (await getJson(`${server.url}api/v1/bandwidth/peers/${view.connectedIds[0]}`)).body
    assert.ok(peerAfter.totalIn > peerBefore.totalIn)
    const ping = (await getJson(`${server.url}api/v1/bandwidth/protocols/%2Fipfs%2Fping%2F1.0.0`)).body
    assert.deepEqual(ping, view.bandwidthForProtocol('/ipfs/ping/1.0.0'))

    const storeBefore = (await getJson(`${server.url}api/v1/peerstore`)).body
    assert.equal(storeBefore.lastGc, null)
    view.collectGarbage(3)
    const storeAfter = (await getJson(`${server.url}api/v1/peerstore`)).body
    assert.equal(storeAfter.peers, storeBefore.peers - 3)
    assert.equal(storeAfter.lastGc.peersRemoved, 3)
  })

  it('a peer shows addresses with TTLs, protocols, public key, metadata, pins and never a private key', async () => {
    const pinned = view.peerIds.find((_, i) => (i + 1) % 9 === 0 && i > 0) ?? ''
    const { status, body } = await getJson(`${server.url}api/v1/peers/${pinned}`)
    assert.equal(status, 200)
    assert.equal(body.peerId, pinned)
    assert.deepEqual(body.pins, ['kad'])
    assert.ok(body.addresses.some((a: { ttlName?: string }) => a.ttlName === 'connected'))
    assert.ok(body.addresses.some((a: { expiresAt: number | null }) => typeof a.expiresAt === 'number'))
    assert.equal(typeof body.publicKey, 'string')
    assert.equal(JSON.stringify(body).toLowerCase().includes('private'), false)
    assert.deepEqual(body, await view.peer(pinned))
    // A peer id in CID form is the same peer.
    const { peerIdFromString } = await import('@libp2p/peer-id')
    const cid = peerIdFromString(pinned).toCID().toString()
    assert.equal((await getJson(`${server.url}api/v1/peers/${cid}`)).body.peerId, pinned)
  })

  it('paginates peers: default 100, max 1000, offset, pages cover the store exactly once', async () => {
    const first = (await getJson(`${server.url}api/v1/peers`)).body
    assert.equal(first.limit, 100)
    assert.equal(first.offset, 0)
    assert.equal(first.items.length, 100)
    const total = first.total
    const seen: string[] = []
    for (let offset = 0; offset < total; offset += 70) {
      const page = (await getJson(`${server.url}api/v1/peers?limit=70&offset=${offset}`)).body
      assert.equal(page.total, total)
      seen.push(...page.items.map((p: { peerId: string }) => p.peerId))
    }
    assert.equal(seen.length, total)
    assert.equal(new Set(seen).size, total)
    const all = (await getJson(`${server.url}api/v1/peers?limit=1000`)).body
    assert.equal(all.items.length, total)
    const beyond = (await getJson(`${server.url}api/v1/peers?offset=${total + 5}`)).body
    assert.deepEqual(beyond.items, [])
    for (const bad of [
      'limit=0',
      'limit=1001',
      'limit=-1',
      'limit=abc',
      'limit=1.5',
      'limit=',
      'limit=1&limit=2',
      'offset=-1',
      'offset=1e3',
      `offset=${'9'.repeat(20)}`
    ]) {
      const res = await getJson(`${server.url}api/v1/peers?${bad}`)
      assert.equal(res.status, 400, bad)
      assert.equal(res.body.error.code, 'ERR_BAD_PARAMETER', bad)
    }
  })

  it('400 for malformed peer ids, protocol ids and percent-encodings', async () => {
    for (const path of [
      'api/v1/peers/not-a-peer-id',
      'api/v1/bandwidth/peers/Qm123',
      'api/v1/peers/12D3KooWxyz'
    ]) {
      const res = await getJson(`${server.url}${path}`)
      assert.equal(res.status, 400, path)
      assert.equal(res.body.error.code, 'ERR_INVALID_PEER_ID', path)
    }
    const encoding = await getJson(`${server.url}api/v1/bandwidth/protocols/%E0%A4%A`)
    assert.equal(encoding.body.error.code, 'ERR_BAD_ENCODING')
    const query = await getJson(`${server.url}api/v1/peers?limit=%ZZ`)
    assert.equal(query.body.error.code, 'ERR_BAD_ENCODING')
    const long = await getJson(`${server.url}api/v1/bandwidth/protocols/${'p'.repeat(1025)}`)
    assert.equal(long.status, 400)
    assert.equal(long.body.error.code, 'ERR_BAD_PARAMETER')
  })

  it('404 for unknown routes, peers and protocols', async () => {
    const unknownPeer = view.peerIds.at(-1) ?? ''
    view.collectGarbage(1000) // removes every unconnected, unpinned peer
    const cases: [string, string][] = [
      ['api/v1/nope', 'ERR_NOT_FOUND'],
      ['api/v2/bandwidth', 'ERR_NOT_FOUND'],
      ['assets/secret.txt', 'ERR_NOT_FOUND'],
      ['assets/..%2Fpackage.json', 'ERR_NOT_FOUND'],
      ['api/v1/bandwidth/protocols/%2Fnope%2F1.0.0', 'ERR_UNKNOWN_PROTOCOL'],
      [`api/v1/peers/${unknownPeer}`, 'ERR_UNKNOWN_PEER'],
      [`api/v1/bandwidth/peers/${unknownPeer}`, 'ERR_UNKNOWN_PEER']
    ]
    for (const [path, code] of cases) {
      const res = await getJson(`${server.url}${path}`)
      assert.equal(res.status, 404, path)
      assert.equal(res.body.error.code, code, path)
      assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8')
    }
  })

  it('405 with Allow for other methods; 413 for any body', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const res = await getJson(`${server.url}api/v1/bandwidth`, { method })
      assert.equal(res.status, 405, method)
      assert.equal(res.headers.get('allow'), 'GET, HEAD')
      assert.equal(res.body.error.code, 'ERR_METHOD_NOT_ALLOWED')
    }
    const withBody = await getJson(`${server.url}api/v1/bandwidth`, { method: 'POST', body: 'x'.repeat(100) })
    assert.equal(withBody.status, 413)
    assert.equal(withBody.body.error.code, 'ERR_BODY_NOT_ALLOWED')
  })

  it('403 for a request addressed to a foreign host name (DNS rebinding), loopback names pass', async () => {
    const { request } = await import('node:http')
    const statusFor = (host: string) =>
      new Promise<number | undefined>((resolve, reject) => {
        const req = request(`${server.url}api/v1/bandwidth`, { headers: { Host: host } }, (res) => {
          res.resume()
          resolve(res.statusCode)
        })
        req.on('error', reject)
        req.end()
      })
    for (const host of ['evil.example', 'evil.example:8080', '10.0.0.1', 'localhost.evil.example']) {
      assert.equal(await statusFor(host), 403, host)
    }
    for (const host of [
      'localhost',
      `localhost:${server.port}`,
      `127.0.0.1:${server.port}`,
      'LOCALHOST',
      '[::1]:80'
    ]) {
      assert.equal(await statusFor(host), 200, host)
    }
  })

  it('414 for a request target over the limit', async () => {
    const res = await getJson(`${server.url}api/v1/peers?x=${'a'.repeat(17_000)}`)
    assert.equal(res.status, 414)
    assert.equal(res.body.error.code, 'ERR_URL_TOO_LONG')
  })

  it('an unexpected failure is logged and answered as a bare 500, and the next request works', async () => {
    view.failNext()
    const res = await fetch(`${server.url}api/v1/connections`)
    const text = await res.text()
    assert.equal(res.status, 500)
    assert.deepEqual(JSON.parse(text), { error: { code: 'ERR_INTERNAL', message: 'Internal error' } })
    assert.equal(text.includes('secret'), false)
    assert.equal(logged.length, 1)
    assert.match(String((logged[0]?.at(-1) as Error | undefined)?.message), /simulated view failure/)
    assert.equal((await fetch(`${server.url}api/v1/connections`)).status, 200)
  })

  it('the dashboard page has a strict content security policy and local assets only', async () => {
    const res = await fetch(server.url)
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'self'/)
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff')
    const html = await res.text()
    assert.equal(/(src|href)="(https?:)?\/\//.test(html), false)
    for (const [, asset] of html.matchAll(/(?:src|href)="(assets\/[^"]+)"/g)) {
      assert.equal((await fetch(new URL(asset ?? '', server.url))).status, 200, asset)
    }
  })
})

describe('HTTP API with a token', () => {
  const token = 's3cret-token-Ö'
  let view: MemoryView
  let server: HttpServer

  before(async () => {
    view = await MemoryView.create({ peers: 20, connected: 4, online: false })
    server = await startHttpServer({ view, token: encodeURIComponent(token) })
  })
  after(() => server.close())

  const auth = (value: string) => ({ headers: { Authorization: value } })
  const right = () => auth(`Bearer ${encodeURIComponent(token)}`)

  it('refuses an empty token at start', async () => {
    await assert.rejects(
      startHttpServer({ view, token: '' }),
      (err: InvalidHttpOptionsError) => err.code === 'ERR_INVALID_HTTP_OPTIONS'
    )
  })

  it('401 with WWW-Authenticate when the token is missing or wrong, on every route', async () => {
    const wrong = [
      '',
      'Bearer',
      'Bearer wrong',
      `Bearer ${encodeURIComponent(token)}x`,
      `Basic ${encodeURIComponent(token)}`,
      `Bearer ${encodeURIComponent(token).slice(0, -1)}`
    ]
    for (const route of routes) {
      const url = new URL(concretePath(route.path, view).slice(1), server.url)
      const missing = await getJson(url.href)
      assert.equal(missing.status, 401, route.path)
      assert.equal(missing.body.error.code, 'ERR_UNAUTHORIZED')
      assert.match(missing.headers.get('www-authenticate') ?? '', /^Bearer/)
      for (const header of wrong)
        assert.equal((await fetch(url, auth(header))).status, 401, `${route.path} ${header}`)
      assert.equal((await fetch(url, right())).status, 200, route.path)
    }
    assert.equal((await fetch(`${server.url}api/v1/nope`)).status, 401)
    assert.equal((await fetch(`${server.url}api/v1/nope`, right())).status, 404)
  })

  it('the token is accepted in the query only for the dashboard page and its assets', async () => {
    const q = `?token=${encodeURIComponent(encodeURIComponent(token))}`
    const page = await fetch(`${server.url}${q}`)
    assert.equal(page.status, 200)
    const html = await page.text()
    const links = [...html.matchAll(/(?:src|href)="(assets\/[^"]+)"/g)].map((m) => m[1] ?? '')
    assert.ok(links.length >= 2)
    for (const link of links) {
      assert.ok(link.endsWith(q), link)
      assert.equal((await fetch(new URL(link, server.url))).status, 200, link)
    }
    assert.equal((await fetch(`${server.url}?token=wrong`)).status, 401)
    assert.equal((await fetch(`${server.url}api/v1/bandwidth${q}`)).status, 401)
    assert.equal((await fetch(`${server.url}metrics${q}`)).status, 401)
  })

  it('allowedHosts widens or replaces the loopback default', async () => {
    const { request } = await import('node:http')
    const statusFor = (url: string, host: string) =>
      new Promise<number | undefined>((resolve, reject) => {
        const req = request(`${url}api/v1/node`, { headers: { Host: host, ...right().headers } }, (res) => {
          res.resume()
          resolve(res.statusCode)
        })
        req.on('error', reject)
        req.end()
      })
    const any = await startHttpServer({ view, token: encodeURIComponent(token), allowedHosts: '*' })
    const named = await startHttpServer({
      view,
      token: encodeURIComponent(token),
      allowedHosts: ['peerscope.test']
    })
    try {
      assert.equal(await statusFor(any.url, 'anything.example'), 200)
      assert.equal(await statusFor(named.url, 'peerscope.test:1234'), 200)
      assert.equal(await statusFor(named.url, 'localhost'), 403)
    } finally {
      await any.close()
      await named.close()
    }
  })

  it('serves an offline view with a null node', async () => {
    assert.deepEqual((await getJson(`${server.url}api/v1/node`, right())).body, { node: null })
  })
})
