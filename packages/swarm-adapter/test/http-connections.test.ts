// A local client holding sockets cannot starve the HTTP API: a real client opens more sockets than the server's
// cap, each with a partial request, never closes one, and opens a new one for each the server closes; requests
// that arrive meanwhile are all served. `pnpm soak` keeps the pressure on for longer (PEERSCOPE_HTTP_HOLD_MS).
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { connect, type Socket } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { openPeerStore } from '@peerscope/peerstore-level'
import { MemoryLevel } from 'memory-level'
import { clientKey } from '../src/http/connections.ts'
import { DEFAULT_HTTP_LIMITS, type HttpServer, startHttpServer } from '../src/http/server.ts'
import { offlineView } from '../src/view/offline-view.ts'

/** How long the socket-holding client keeps up its pressure while requests are made (soak: longer). */
const HOLD_MS = Number(process.env.PEERSCOPE_HTTP_HOLD_MS ?? 2_000)

const store = await openPeerStore({ db: new MemoryLevel<string, string>() })
after(() => store.close())

/** Resolves once `check` holds, polling; rejects with `what` after `ms` (a bound on waiting, not a timing check). */
async function until(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** One request on a new connection (no agent), as a fresh client makes it. */
function get(server: HttpServer, localAddress = '127.0.0.1'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: server.port, path: '/api/v1/peerstore', agent: false, localAddress },
      (res) => {
        let body = ''
        res.setEncoding('utf8').on('data', (chunk: string) => {
          body += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      }
    )
    req.on('error', reject)
    req.end()
  })
}

/**
 * A client that holds sockets: each connects (from one of `addresses`), sends the start of a request and nothing
 * more, never closes its side, and when the server ends one it opens another, until `stop()`.
 */
class SocketHolder {
  readonly #port: number
  readonly #addresses: string[]
  readonly #sockets = new Set<Socket>()
  #stopped = false
  /** Sockets the server ended or reset. */
  endedByServer = 0
  opened = 0

  constructor(port: number, addresses: string[]) {
    this.#port = port
    this.#addresses = addresses
  }

  /** Sockets the server has not ended (as this client sees it). */
  get holding(): number {
    return this.#sockets.size
  }

  open(n: number): void {
    for (let i = 0; i < n; i++) this.#openOne(this.#addresses[this.opened % this.#addresses.length]!)
  }

  #openOne(localAddress: string): void {
    const socket = connect({ host: '127.0.0.1', port: this.#port, localAddress, allowHalfOpen: true })
    this.opened++
    this.#sockets.add(socket)
    socket.on('connect', () => socket.write('GET /api/v1/peerstore HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: '))
    socket.resume()
    let gone = false
    const lost = (): void => {
      if (gone) return
      gone = true
      this.#sockets.delete(socket)
      this.endedByServer++
      // Its own side stays open (half-open) for a while unless the server reset it; a new socket replaces it. Kept
      // for good, the ended sockets of a long run (`pnpm soak`: hundreds of thousands) ran this process out of memory.
      setTimeout(() => socket.destroy(), 2_000).unref()
      if (!this.#stopped) this.#openOne(localAddress)
    }
    socket.on('end', lost)
    socket.on('error', lost)
  }

  stop(): void {
    this.#stopped = true
    for (const socket of this.#sockets) socket.destroy()
    this.#sockets.clear()
  }
}

describe('HTTP connection slots', () => {
  let server: HttpServer
  const holders: SocketHolder[] = []
  before(async () => {
    // Timeouts far away: the slots are freed by the cap's rule here, not by a timeout.
    server = await startHttpServer({
      view: offlineView(store),
      limits: { headersTimeout: 120_000, requestTimeout: 120_000 }
    })
  })
  after(async () => {
    for (const h of holders) h.stop()
    await server.close()
  })

  it(`a client holding more sockets than the cap (${DEFAULT_HTTP_LIMITS.maxConnections}) cannot starve the API`, async (t) => {
    const { maxConnections, maxConnectionsPerClient } = DEFAULT_HTTP_LIMITS
    // Spread over enough loopback addresses that the per-client cap alone would not stop it.
    const addresses = Array.from({ length: 24 }, (_, i) => `127.0.1.${i + 1}`)
    const holder = new SocketHolder(server.port, addresses)
    holders.push(holder)
    holder.open(maxConnections + 200)
    await until(
      () =>
        holder.opened - holder.endedByServer >= maxConnections && server.connections().open >= maxConnections,
      'the holder fills every slot'
    )
    await until(() => server.connections().open <= maxConnections, 'the server keeps to its cap')

    let served = 0
    let failed = 0
    const started = Date.now()
    while (Date.now() - started < HOLD_MS) {
      // From the holder's own addresses and from another: both get in.
      const results = await Promise.allSettled([
        ...Array.from({ length: 8 }, () => get(server)),
        get(server, addresses[0]),
        get(server, addresses[1])
      ])
      for (const r of results) {
        if (r.status === 'fulfilled' && r.value.status === 200 && JSON.parse(r.value.body).peers === 0)
          served++
        else failed++
      }
      assert.ok(server.connections().open <= maxConnections + 10, `open sockets ${server.connections().open}`)
    }
    const counts = server.connections()
    t.diagnostic(
      `${served} requests served, ${failed} failed, while a client opened ${holder.opened} sockets (holding ` +
        `${holder.holding}); the server evicted ${counts.evicted}, refused ${counts.refused}, open ${counts.open} ` +
        `(cap ${maxConnections}, ${maxConnectionsPerClient} per client); this process's heap ` +
        `${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`
    )
    assert.equal(failed, 0)
    assert.ok(served >= 10)
    assert.ok(
      holder.holding >= maxConnections - served,
      'the holder kept its sockets (the cap was full throughout)'
    )
    holder.stop()
    await until(() => server.connections().open === 0, 'every socket is released once the client goes')
  })

  it(`one client address holds at most ${DEFAULT_HTTP_LIMITS.maxConnectionsPerClient} sockets; others are not affected`, async () => {
    const { maxConnectionsPerClient } = DEFAULT_HTTP_LIMITS
    const holder = new SocketHolder(server.port, ['127.0.2.1'])
    holders.push(holder)
    const before = server.connections().evicted
    holder.open(maxConnectionsPerClient + 50)
    await until(
      () => holder.opened >= maxConnectionsPerClient + 50 && server.connections().evicted - before >= 50,
      'the surplus is evicted'
    )
    await until(
      () => server.connections().open === maxConnectionsPerClient,
      'the client holds exactly its share'
    )
    assert.equal((await get(server, '127.0.2.2')).status, 200)
    assert.equal((await get(server, '127.0.2.1')).status, 200)
    holder.stop()
    await until(() => server.connections().open === 0, 'released')
  })
})

describe('a burst of requests from one client', () => {
  it(`${8 * DEFAULT_HTTP_LIMITS.maxConnectionsPerClient} requests at once, each on its own socket, all succeed`, async () => {
    const server = await startHttpServer({ view: offlineView(store) })
    try {
      const n = 8 * DEFAULT_HTTP_LIMITS.maxConnectionsPerClient
      const results = await Promise.allSettled(Array.from({ length: n }, () => get(server)))
      const ok = results.filter((r) => r.status === 'fulfilled' && r.value.status === 200).length
      assert.equal(ok, n, `${n - ok} failed: ${String(results.find((r) => r.status === 'rejected')?.reason)}`)
    } finally {
      await server.close()
    }
  })
})

describe('half-open and idle sockets', () => {
  it('a socket the server answered and ended is closed even though the client never closes its side', async () => {
    const server = await startHttpServer({
      view: offlineView(store),
      // The request timeout (and with it the inactivity timeout) far away: the linger after the 408 closes them.
      limits: { headersTimeout: 200, requestTimeout: 60_000 }
    })
    try {
      const sockets: Socket[] = []
      const answers = new Map<number, string>()
      for (let i = 0; i < 20; i++) {
        const socket = connect({ host: '127.0.0.1', port: server.port, allowHalfOpen: true })
        socket.on('error', () => {})
        let text = ''
        socket.setEncoding('utf8').on('data', (chunk: string) => {
          text += chunk
        })
        socket.on('end', () => answers.set(i, text))
        // Half of them send the start of a request, half send nothing at all.
        if (i % 2 === 0) socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n')
        sockets.push(socket)
      }
      await until(() => answers.size === 20, 'the server ends every socket')
      for (const [i, text] of answers) {
        // A partial request gets its 408; a socket that sent nothing may get one too, or be closed without one.
        if (i % 2 === 0 || text !== '') assert.match(text, /^HTTP\/1\.1 408 /)
      }
      // The client still holds its side of all 20; the server lets them go all the same.
      assert.ok(sockets.every((s) => !s.destroyed))
      await until(() => server.connections().open === 0, 'the server closed its side of every socket')
      for (const s of sockets) s.destroy()
    } finally {
      await server.close()
    }
  })

  it('refuses bad connection limits, naming the option', async () => {
    for (const limits of [{ maxConnections: 0 }, { maxConnectionsPerClient: 1.5 }]) {
      await assert.rejects(
        startHttpServer({ view: offlineView(store), limits }),
        (err: Error & { code?: string }) =>
          err.code === 'ERR_INVALID_HTTP_OPTIONS' && /limits\.maxConnections/.test(err.message)
      )
    }
  })

  it('counts an IPv6 client by its /64 and a mapped IPv4 client by its address', () => {
    assert.equal(clientKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64')
    assert.equal(clientKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64')
    assert.equal(clientKey('::1'), '0:0:0:0::/64')
    assert.equal(clientKey('::ffff:127.0.0.1'), '127.0.0.1')
    assert.equal(clientKey('127.0.0.1'), '127.0.0.1')
  })
})
