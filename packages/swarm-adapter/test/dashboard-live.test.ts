import assert from 'node:assert/strict'
import { mkdir } from 'node:fs/promises'
import { test } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { peerscope } from '../src/index.ts'
import { chromiumSkip, launchChromium } from './helpers/chromium.ts'
import { plainNode } from './helpers/nodes.ts'

const SCREENSHOT = new URL('../test-results/dashboard-live.png', import.meta.url)

declare const document: { body: { dataset: Record<string, string | undefined> } }

test('the dashboard of a real node shows its real peer and traffic', { skip: chromiumSkip }, async () => {
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
  const traffic = setInterval(() => void node.services.ping.ping(other.peerId).catch(() => {}), 100)
  try {
    await node.dial(other.getMultiaddrs()[0]!)
    const page = await context.newPage()
    page.on('pageerror', (err) => problems.push(err.message))
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text())
    })
    await page.goto(node.services.peerscope.httpUrl!)
    await page.waitForFunction(() => Number(document.body.dataset.updates ?? 0) >= 3, undefined, {
      timeout: 20_000
    })
    assert.equal(await page.textContent('#node-id'), node.peerId.toString())
    assert.equal(await page.textContent('#stat-connections'), '1')
    assert.equal(await page.textContent('#stat-peers'), '1')
    assert.notEqual(await page.textContent('#stat-total-out'), '0 B')
    const connections = (await page.textContent('#connections')) ?? ''
    assert.ok(
      connections.includes(other.peerId.toString().slice(0, 8)),
      'the connection table names the peer'
    )
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
