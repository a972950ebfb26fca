import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { AddressTTL, openPeerStore, PermanentAddrTTL } from '@peerscope/peerstore-level'
import { chromiumSkip, launchChromium } from './helpers/chromium.ts'
import { tempDir } from './helpers/nodes.ts'
import { dataset, nextUpdates } from './helpers/page-probes.ts'

const RESULTS = new URL('../test-results/', import.meta.url)
const PEERS = 12
const skip = chromiumSkip

/** `peerscope serve` in its own process, as an operator runs it over a stopped node's database. */
async function serve(db: string): Promise<{ url: string; stop(): Promise<number | null> }> {
  const bin = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url))
  const child = spawn(
    process.execPath,
    ['--conditions=@peerscope/source', bin, 'serve', '--db', db, '--port', '0'],
    {
      stdio: ['ignore', 'pipe', 'inherit']
    }
  )
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => {
      out += chunk
      const found = / at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1]
      if (found !== undefined) resolve(found)
    })
    void exited.then(() => reject(new Error(`serve exited early: ${out}`)))
  })
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM')
      return exited
    }
  }
}

describe('dashboard of `peerscope serve` (offline database) in headless Chromium', () => {
  let dir: Awaited<ReturnType<typeof tempDir>> | undefined
  let served: Awaited<ReturnType<typeof serve>> | undefined
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined
  const peers: PeerId[] = []

  before(async () => {
    if (skip !== false) return
    await mkdir(RESULTS, { recursive: true })
    dir = await tempDir()
    const db = join(dir.path, 'db')
    const store = await openPeerStore({ path: db, gc: { interval: 0 } })
    for (let i = 0; i < PEERS; i++) {
      const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
      peers.push(peer)
      await store.addAddrs(
        peer,
        [multiaddr(`/ip4/10.0.0.${i + 1}/tcp/4001`)],
        i % 3 === 0 ? PermanentAddrTTL : AddressTTL
      )
      await store.setProtocols(peer, ['/ipfs/id/1.0.0', '/ipfs/kad/1.0.0'])
      await store.putMetadata(peer, 'AgentVersion', new TextEncoder().encode(`kubo/0.${i}.0/`))
      if (i % 4 === 0) await store.pin(peer, 'kad')
    }
    await store.close()
    served = await serve(db)
    browser = await launchChromium()
  })

  after(async () => {
    await browser?.close()
    if (served !== undefined) assert.equal(await served.stop(), 0)
    await dir?.remove()
  })

  it('says it is offline, shows no live badge and no chart, and lists the stored peers', {
    skip
  }, async () => {
    const page = await browser!.context.newPage()
    const problems: string[] = []
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text())
    })
    page.on('pageerror', (err) => problems.push(err.message))
    await page.goto(served!.url)
    await nextUpdates(page, 1)

    assert.equal(await dataset(page, 'status'), 'offline')
    assert.equal(await page.getAttribute('#status-dot', 'class'), 'dot offline')
    assert.doesNotMatch((await page.textContent('#status-text')) ?? '', /live/)
    assert.match((await page.textContent('#status-text')) ?? '', /offline/)
    assert.equal(await page.isVisible('#offline-banner'), true)
    assert.equal(await page.textContent('#node-id'), 'offline peer store')
    // No live section is shown and no chart is drawn at all.
    assert.equal(await page.locator('canvas').count(), 0)
    for (const e of await page.locator('.live-only').all()) assert.equal(await e.isVisible(), false)

    assert.equal(await page.textContent('#stat-peers'), String(PEERS))
    assert.equal(await page.textContent('#stat-pinned'), String(Math.ceil(PEERS / 4)))
    const shown = await page
      .locator('#offline-peers tbody a')
      .evaluateAll((links) => links.map((a) => (a as unknown as { title: string }).title))
    assert.deepEqual(shown, peers.map(String).sort())
    assert.equal(await page.locator('#offline-peers tbody tr', { hasText: 'stored' }).count(), PEERS)
    await page.screenshot({ path: new URL('dashboard-offline.png', RESULTS).pathname, fullPage: true })

    // A stored peer opens on its own page with its addresses, TTL class and protocols.
    const target = peers[0]!.toString()
    await page.locator(`#offline-peers a[title="${target}"]`).click()
    await page.locator('#peer-title', { hasText: target }).waitFor()
    await page.locator('[data-fact="agent"]', { hasText: 'kubo/0.0.0/' }).waitFor()
    assert.deepEqual(await page.locator('#peer-addresses tr td').allTextContents(), [
      '/ip4/10.0.0.1/tcp/4001',
      'permanent',
      'never',
      'no'
    ])
    assert.equal(await page.textContent('[data-fact="pins"]'), 'kad')
    assert.equal(await page.locator('#peer-protocols tr').count(), 2)
    assert.equal(await page.locator('canvas').count(), 0)

    // Search works offline too.
    await page.goto(`${served!.url}#/peers?q=kubo/0.11.`)
    await page.locator('#peers-list tbody tr').first().waitFor()
    assert.equal(await page.textContent('#peers-count'), '1 peer')
    assert.deepEqual(problems, [])
    await page.close()
  })
})
