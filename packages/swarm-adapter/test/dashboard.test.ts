import assert from 'node:assert/strict'
import { mkdir } from 'node:fs/promises'
import { after, before, describe, it } from 'node:test'
import type { BrowserContext, Page } from 'playwright-core'
import { type HttpServer, startHttpServer } from '../src/http/index.ts'
import { MemoryView } from './fixtures/memory-view.ts'
import { chromiumSkip, launchChromium } from './helpers/chromium.ts'

const SCREENSHOT = new URL('../test-results/dashboard.png', import.meta.url)
const TOKEN = 'dashboard-token'
const skip = chromiumSkip

// Functions passed to page.evaluate run in the browser. The project compiles without the DOM library, so these
// declare the few browser shapes they use.
interface CanvasLike {
  width: number
  height: number
  toDataURL(): string
  getContext(
    kind: '2d'
  ): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null
}
declare const document: {
  getElementById(id: string): unknown
  body: { dataset: Record<string, string | undefined> }
}

/** Counts the painted pixels of a canvas; a chart that drew nothing has none. */
const paintedPixels = (page: Page, id: string) =>
  page.evaluate((canvasId) => {
    const canvas = document.getElementById(canvasId) as CanvasLike
    const { data } = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height) ?? { data: [] }
    let painted = 0
    for (let i = 3; i < data.length; i += 4) if ((data[i] ?? 0) > 0) painted++
    return painted
  }, id)

const canvasImage = (page: Page, id: string) =>
  page.evaluate((canvasId) => (document.getElementById(canvasId) as CanvasLike).toDataURL(), id)

const updates = (page: Page) => page.evaluate(() => Number(document.body.dataset.updates ?? 0))

// Skipped per test (not per suite) so the run's summary counts them as skipped.
describe('dashboard in headless Chromium', () => {
  let view: MemoryView
  let server: HttpServer
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined
  let context: BrowserContext
  const problems: string[] = []

  before(async () => {
    if (skip !== false) return
    view = await MemoryView.create({ peers: 300, connected: 14 })
    view.collectGarbage(4)
    server = await startHttpServer({ view, token: TOKEN })
    browser = await launchChromium()
    context = browser.context
  })

  after(async () => {
    await browser?.close()
    await server?.close()
  })

  it('loads without console errors, renders every chart and follows growing traffic', { skip }, async () => {
    const page = await context.newPage()
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text())
    })
    page.on('pageerror', (err) => problems.push(err.message))
    page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`))

    // Let a few seconds of traffic history build up so the charts have a shape.
    const traffic = setInterval(() => view.grow(150_000 + Math.round(Math.random() * 150_000)), 250)
    try {
      await page.goto(`${server.url}?token=${TOKEN}`)
      await page.waitForFunction(() => Number(document.body.dataset.updates ?? 0) >= 4, undefined, {
        timeout: 20_000
      })
    } finally {
      clearInterval(traffic)
    }

    assert.equal(await page.textContent('#node-id'), view.node()?.peerId)
    assert.match((await page.textContent('#status-text')) ?? '', /^live/)
    for (const id of ['chart-bandwidth', 'chart-peers', 'chart-protocols', 'chart-peerstore']) {
      assert.ok((await paintedPixels(page, id)) > 500, `${id} drew something`)
    }
    assert.equal(await page.getAttribute('#chart-peers', 'data-items'), '8')
    assert.equal(await page.getAttribute('#chart-protocols', 'data-items'), '7')
    assert.equal(await page.locator('#connections tr').count(), 14)
    assert.equal(
      await page.textContent('#stat-peers'),
      (await view.peerStoreStats()).peers.toLocaleString('en-US')
    )

    // More traffic: the totals shown and the charts change on the next polls.
    const shownBefore = await page.textContent('#stat-total-in')
    const bandwidthBefore = await canvasImage(page, 'chart-bandwidth')
    const peersBefore = await canvasImage(page, 'chart-peers')
    const seen = await updates(page)
    view.grow(600_000)
    await page.waitForFunction((n) => Number(document.body.dataset.updates ?? 0) >= n + 2, seen, {
      timeout: 10_000
    })
    assert.notEqual(await page.textContent('#stat-total-in'), shownBefore)
    assert.notEqual(await canvasImage(page, 'chart-bandwidth'), bandwidthBefore)
    assert.notEqual(await canvasImage(page, 'chart-peers'), peersBefore)

    await mkdir(new URL('.', SCREENSHOT), { recursive: true })
    await page.screenshot({ path: SCREENSHOT.pathname, fullPage: true })
    assert.deepEqual(problems, [])
    await page.close()
  })

  it('without the token the page is refused and the API answers 401', { skip }, async () => {
    const page = await context.newPage()
    const response = await page.goto(server.url)
    assert.equal(response?.status(), 401)
    await page.close()
  })
})
