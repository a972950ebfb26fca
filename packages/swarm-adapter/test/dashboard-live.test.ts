import assert from 'node:assert/strict'
import { mkdir } from 'node:fs/promises'
import { test } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import type { ConnectionView, HistoryPage, PeerHistoryPage } from '../src/http/view.ts'
import { peerscope } from '../src/index.ts'
import { chromiumSkip, launchChromium } from './helpers/chromium.ts'
import { eventually, plainNode } from './helpers/nodes.ts'
import { chartPixels, nextUpdates } from './helpers/page-probes.ts'

const SCREENSHOT = new URL('../test-results/dashboard-live.png', import.meta.url)

test('the dashboard of a real node shows its real peer, traffic, streams and kept history', {
  skip: chromiumSkip
}, async () => {
  const ps = peerscope({ peerStore: { memory: true }, http: { port: 0 } })
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    metrics: ps.metrics,
    services: { identify: identify(), ping: ping(), peerscope: ps.service }
  })
  const other = await plainNode()
  const browser = await launchChromium()
  const context = browser.context
  const problems: string[] = []
  let pings = 0
  // Each ping is a stream that opens and closes within milliseconds: never seen in `connection.streams`.
  const traffic = setInterval(
    () =>
      void node.services.ping
        .ping(other.peerId)
        .then(() => pings++)
        .catch(() => {}),
    100
  )
  const api = async <T>(path: string): Promise<T> =>
    (await (await fetch(new URL(`api/v1/${path}`, node.services.peerscope.httpUrl))).json()) as T
  try {
    await node.dial(other.getMultiaddrs()[0]!)
    // Rates come from the metrics' one-second sweep: the first samples can precede it.
    await eventually(
      'samples with ping traffic, and 10 pings',
      async () => {
        const h = await api<HistoryPage>('history')
        return h.protocols.some((p) => p.id === '/ipfs/ping/1.0.0') && h.t.length >= 3 && pings >= 10
      },
      20_000
    )

    const { connections } = await api<{ connections: ConnectionView[] }>('connections')
    assert.equal(connections.length, 1)
    const [connection] = connections
    assert.equal(connection?.transport, 'tcp')
    assert.equal(connection?.encryption, '/noise')
    assert.equal(connection?.muxer, '/yamux/1.0.0')
    assert.equal(connection?.direction, 'outbound')
    assert.ok(
      (connection?.streamsOpened ?? 0) >= pings,
      `${connection?.streamsOpened} streams opened, ${pings} pings`
    )
    assert.ok((connection?.streams ?? 0) < 5, 'short-lived streams are closed again')

    const history = await api<HistoryPage>('history')
    assert.equal(history.totals.connections.at(-1), 1)
    assert.ok(history.totals.streamsOpened.some((n) => (n ?? 0) > 0))
    assert.ok(history.protocols.some((p) => p.id === '/ipfs/ping/1.0.0'))
    const peerHistory = await api<PeerHistoryPage>(`history/peers/${other.peerId}`)
    assert.ok(peerHistory.rateOut.some((v) => v !== null && v > 0))

    const page = await context.newPage()
    page.on('pageerror', (err) => problems.push(err.message))
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text())
    })
    await page.goto(node.services.peerscope.httpUrl!)
    await nextUpdates(page, 3)
    assert.equal(await page.textContent('#node-id'), node.peerId.toString())
    assert.equal(await page.textContent('#stat-connections'), '1')
    assert.equal(await page.textContent('#stat-peers'), '1')
    assert.notEqual(await page.textContent('#stat-total-out'), '0 B')
    const row = page.locator('#connections tr').first()
    assert.match((await row.textContent()) ?? '', /tcp\/noise\/yamux\/1\.0\.0/)
    const streams = Number(((await row.locator('td').nth(6).textContent()) ?? '').split('/')[1])
    assert.ok(streams >= pings - 5, `the streams column counts short-lived streams: ${streams}`)
    assert.ok(Number(await page.getAttribute('#chart-bandwidth', 'data-points')) >= 3)
    const drawn = await chartPixels(page, 'chart-bandwidth', ['--in', '--out'])
    assert.ok((drawn.byColor['--in'] ?? 0) > 50 && (drawn.byColor['--out'] ?? 0) > 50, JSON.stringify(drawn))
    assert.ok(((await page.textContent('#chart-protocols')) ?? '').includes('/ipfs/ping/1.0.0'))

    await row.locator('a').click()
    await page.locator('#peer-title', { hasText: other.peerId.toString() }).waitFor()
    await page.locator('#peer-connections tr', { hasText: 'tcp' }).waitFor()
    await page.locator('[data-fact="agent"]').waitFor()
    await mkdir(new URL('.', SCREENSHOT), { recursive: true })
    await page.screenshot({ path: SCREENSHOT.pathname, fullPage: true })
    assert.deepEqual(problems, [])
  } finally {
    clearInterval(traffic)
    await browser.close()
    await node.stop()
    await other.stop()
  }
})
