import assert from 'node:assert/strict'
import { copyFile, mkdir } from 'node:fs/promises'
import { after, before, describe, it } from 'node:test'
import type { BrowserContext, Page } from 'playwright-core'
import { SCALAR_FIELDS, type Scalars } from '../src/history/tier.ts'
import { type HttpServer, startHttpServer } from '../src/http/index.ts'
import { MemoryView } from './fixtures/memory-view.ts'
import { chromiumSkip, launchChromium } from './helpers/chromium.ts'
import { chartPixels, dataset, nextUpdates, pageFormat } from './helpers/page-probes.ts'

const RESULTS = new URL('../test-results/', import.meta.url)
// `PEERSCOPE_UPDATE_DOCS=1` also refreshes the README screenshot from this test.
const DOCS_SCREENSHOT = new URL('../docs/dashboard.png', import.meta.url)
const TOKEN = 'dashboard-token'
const skip = chromiumSkip
const PHONE = { width: 390, height: 844 }

// The browser's location, for functions passed to page.waitForFunction (the project has no DOM library).
declare const location: { hash: string }

function watchProblems(page: Page): string[] {
  const problems: string[] = []
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text())
  })
  page.on('pageerror', (err) => problems.push(err.message))
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`))
  return problems
}

async function api<T>(server: HttpServer, path: string): Promise<T> {
  const res = await fetch(new URL(`api/v1/${path}`, server.url), {
    headers: { Authorization: `Bearer ${TOKEN}` }
  })
  assert.equal(res.status, 200, path)
  return (await res.json()) as T
}

// Skipped per test (not per suite) so the run's summary counts them as skipped.
describe('dashboard in headless Chromium', () => {
  let view: MemoryView
  let server: HttpServer
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined
  let context: BrowserContext
  let traffic: ReturnType<typeof setInterval> | undefined
  const url = () => `${server.url}?token=${TOKEN}`

  before(async () => {
    if (skip !== false) return
    await mkdir(RESULTS, { recursive: true })
    view = await MemoryView.create({ peers: 300, connected: 14 })
    // Two minutes of history the node kept before anyone looked, with in and out exactly equal: the case where
    // one line of a pair used to hide the other.
    const start = Date.now() - 120_000
    for (let i = 0; i < 120; i++)
      view.grow(120_000 + (i % 10) * 8_000, { symmetric: true, at: start + i * 1000 })
    view.collectGarbage(4)
    server = await startHttpServer({ view, token: TOKEN })
    browser = await launchChromium()
    context = browser.context
    traffic = setInterval(() => view.grow(150_000, { symmetric: true }), 1000)
  })

  after(async () => {
    clearInterval(traffic)
    await browser?.close()
    await server?.close()
  })

  it('loads without console errors and draws every chart from the history the node kept', {
    skip
  }, async () => {
    const page = await context.newPage()
    const problems = watchProblems(page)
    await page.goto(url())
    await nextUpdates(page, 2)
    assert.equal(await page.textContent('#node-id'), view.node()?.peerId)
    assert.equal(await dataset(page, 'status'), 'ok')
    assert.match((await page.textContent('#status-text')) ?? '', /^live/)
    // The charts start with the node's two minutes, not with an empty tab.
    assert.ok(Number(await page.getAttribute('#chart-bandwidth', 'data-points')) >= 120)
    for (const id of [
      'chart-bandwidth',
      'chart-protocols',
      'chart-connections',
      'chart-latency',
      'chart-peerstore'
    ]) {
      const { painted } = await chartPixels(page, id, [])
      assert.ok(painted > 500, `${id} drew ${painted} pixels`)
    }
    assert.equal(await page.getAttribute('#chart-protocols', 'data-series'), '7')
    assert.equal(await page.locator('#top-peers tr').count(), 10)
    assert.equal(await page.locator('#top-protocols tr').count(), 7)
    assert.equal(await page.locator('#connections tr').count(), 14)
    // Remote addresses are shown whole, not cut mid-multiaddr.
    const firstAddr = view.connections().find((c) => c.peerId === view.connectedIds[0])?.remoteAddr ?? ''
    assert.ok(((await page.textContent('#connections')) ?? '').includes(firstAddr))
    assert.equal(
      await page.textContent('#stat-peers'),
      (await view.peerStoreStats()).peers.toLocaleString('en-US')
    )
    assert.deepEqual(problems, [])
    await page.close()
  })

  it('equal in and out both stay visible: the pixels of both colours are on the canvas', {
    skip
  }, async () => {
    const page = await context.newPage()
    await page.goto(url())
    await nextUpdates(page, 2)
    const history = await api<{ totals: { rateIn: number[]; rateOut: number[] } }>(server, 'history')
    assert.deepEqual(history.totals.rateIn, history.totals.rateOut, 'the traffic is symmetric')
    const both = await chartPixels(page, 'chart-bandwidth', ['--in', '--out'])
    assert.ok((both.byColor['--in'] ?? 0) > 300, `in: ${JSON.stringify(both)}`)
    assert.ok((both.byColor['--out'] ?? 0) > 300, `out: ${JSON.stringify(both)}`)
    // Peers (left axis) and addresses (right axis, dashed) of the peer store both show as well.
    const store = await chartPixels(page, 'chart-peerstore', ['--peers', '--addrs'])
    assert.ok(
      (store.byColor['--peers'] ?? 0) > 100 && (store.byColor['--addrs'] ?? 0) > 100,
      JSON.stringify(store)
    )

    // A legend button hides a series; the pixels of its colour go away, and come back.
    const outToggle = page.locator('#chart-bandwidth .series-toggle', { hasText: 'out' })
    await outToggle.click()
    assert.equal(await outToggle.getAttribute('aria-pressed'), 'false')
    const hidden = await chartPixels(page, 'chart-bandwidth', ['--in', '--out'])
    assert.ok((hidden.byColor['--out'] ?? 0) < 20, JSON.stringify(hidden))
    assert.ok((hidden.byColor['--in'] ?? 0) > (both.byColor['--in'] ?? 0), 'in is whole once out is hidden')
    await outToggle.click()
    assert.equal(await outToggle.getAttribute('aria-pressed'), 'true')

    // Hovering shows a tooltip with both values; dragging zooms, and "Reset zoom" undoes it.
    const plot = page.locator('#chart-bandwidth .u-over')
    const box = await plot.boundingBox()
    assert.ok(box !== null)
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5)
    const tip = page.locator('#chart-bandwidth .chart-tip')
    await tip.waitFor({ state: 'visible' })
    const tipText = (await tip.textContent()) ?? ''
    assert.match(tipText, /in: [\d.]+ KiB\/s/)
    assert.match(tipText, /out: [\d.]+ KiB\/s/)
    await page.mouse.move(box.x + box.width * 0.3, box.y + 20)
    await page.mouse.down()
    await page.mouse.move(box.x + box.width * 0.6, box.y + 20, { steps: 5 })
    await page.mouse.up()
    const reset = page.locator('#chart-bandwidth .chart-reset')
    await reset.waitFor({ state: 'visible' })
    await reset.click()
    await reset.waitFor({ state: 'hidden' })
    await page.close()
  })

  it('a reload, or a second browser, shows the same history', { skip }, async () => {
    const page = await context.newPage()
    await page.goto(url())
    await nextUpdates(page, 2)
    const before = Number(await page.getAttribute('#chart-bandwidth', 'data-points'))
    assert.ok(before >= 120)
    await page.reload()
    await nextUpdates(page, 1)
    const afterReload = Number(await page.getAttribute('#chart-bandwidth', 'data-points'))
    assert.ok(afterReload >= before, `${afterReload} points after the reload, ${before} before`)
    const second = await browser!.context.browser()?.newContext()
    const other = second === undefined || second === null ? await context.newPage() : await second.newPage()
    await other.goto(url())
    await nextUpdates(other, 1)
    assert.ok(Number(await other.getAttribute('#chart-bandwidth', 'data-points')) >= before)
    await other.close()
    await second?.close()
    await page.close()
  })

  it('clicking a peer opens its view, with the figures of the API', { skip }, async () => {
    const page = await context.newPage()
    const problems = watchProblems(page)
    await page.goto(`${url()}#/peers?sort=rate`)
    await page.locator('#peers-list tbody tr').first().waitFor()
    assert.equal(await page.locator('#peers-list tbody tr').count(), 50)
    assert.equal(await page.textContent('#peers-count'), `${(await view.peerStoreStats()).peers} peers`)
    const first = page.locator('#peers-list tbody tr a').first()
    const id = (await first.getAttribute('title')) ?? ''
    assert.equal(id, view.connectedIds[0], 'sorted by rate, the busiest peer comes first')
    await first.click()
    await page.waitForFunction((peer) => location.hash === `#/peers/${peer}`, id)
    await page.locator('#peer-title', { hasText: id }).waitFor()
    await page.locator('[data-fact="agent"]').waitFor()

    clearInterval(traffic) // the figures must not move while they are compared
    try {
      // Two: the first may have read the figures before the traffic stopped.
      await nextUpdates(page, 2)
      const peer = await api<{
        agent: string
        latencyMs: number | null
        pins: string[]
        addresses: Array<{ multiaddr: string }>
        protocols: string[]
        metadata: Record<string, string>
        bandwidth: { totalIn: number; totalOut: number }
        connections: unknown[]
      }>(server, `peers/${id}`)
      const fact = (name: string) => page.textContent(`[data-fact="${name}"]`)
      assert.equal(await fact('agent'), peer.agent)
      assert.equal(await fact('latency'), await pageFormat(page, 'formatMs', peer.latencyMs))
      assert.equal(await fact('pins'), peer.pins.length === 0 ? 'none' : peer.pins.join(', '))
      assert.equal(await fact('addresses'), String(peer.addresses.length))
      assert.equal(await fact('protocols'), String(peer.protocols.length))
      assert.equal(await fact('total-in'), await pageFormat(page, 'formatBytes', peer.bandwidth.totalIn))
      assert.equal(await fact('total-out'), await pageFormat(page, 'formatBytes', peer.bandwidth.totalOut))
      assert.deepEqual(
        await page.locator('#peer-addresses tr td:first-child').allTextContents(),
        peer.addresses.map((a) => a.multiaddr)
      )
      assert.equal(await page.locator('#peer-metadata tr').count(), Object.keys(peer.metadata).length)
      assert.equal(await page.locator('#peer-connections tr').count(), peer.connections.length)
      assert.equal(await page.textContent('#peer-state'), 'connected')
      // Its history: the node kept it among the busiest peers of every sample.
      const history = await api<{ t: number[] }>(server, `history/peers/${id}?since=${Date.now() - 300_000}`)
      assert.ok(
        Number(await page.getAttribute('#chart-peer-bandwidth', 'data-points')) >= history.t.length - 2
      )
      const drawn = await chartPixels(page, 'chart-peer-bandwidth', ['--in', '--out'])
      assert.ok(
        (drawn.byColor['--in'] ?? 0) > 100 && (drawn.byColor['--out'] ?? 0) > 100,
        JSON.stringify(drawn)
      )
      assert.ok(Number(await page.getAttribute('#chart-peer-protocols', 'data-series')) > 0)
    } finally {
      traffic = setInterval(() => view.grow(150_000, { symmetric: true }), 1000)
    }

    // The address is a deep link: a new tab opened on it shows the same peer.
    const deep = await context.newPage()
    await deep.goto(`${url()}#/peers/${id}`)
    await deep.locator('#peer-title', { hasText: id }).waitFor()
    assert.equal(await deep.isVisible('#view-overview'), false)
    await deep.close()
    assert.deepEqual(problems, [])
    await page.close()
  })

  it('works from the keyboard: views, sorting, opening a peer, moving along a chart', { skip }, async () => {
    const page = await context.newPage()
    await page.goto(url())
    await nextUpdates(page, 1)
    await page.focus('#nav-peers')
    await page.keyboard.press('Enter')
    await page.locator('#peers-list button[data-sort="latency"]').waitFor()
    await page.focus('#peers-list button[data-sort="latency"]')
    await page.keyboard.press('Enter')
    await page.waitForFunction(() => location.hash.includes('sort=latency'))
    await page.locator('#peers-list th[aria-sort="descending"] button[data-sort="latency"]').waitFor()
    // Focus stays on the header that was used, so a second Enter reverses the order.
    await page.keyboard.press('Enter')
    await page.locator('#peers-list th[aria-sort="ascending"] button[data-sort="latency"]').waitFor()
    await page.keyboard.press('Tab')
    const focused = await page.evaluate(
      () =>
        (globalThis as unknown as { document: { activeElement: { tagName: string } } }).document.activeElement
          .tagName
    )
    assert.ok(['BUTTON', 'A'].includes(focused))
    await page.focus('#peers-list tbody a')
    await page.keyboard.press('Enter')
    await page.waitForFunction(() => location.hash.startsWith('#/peers/'))
    await page.locator('#view-peer').waitFor()

    await page.focus('#nav-overview')
    await page.keyboard.press('Enter')
    await page.locator('#chart-bandwidth .chart-plot').waitFor()
    await page.focus('#chart-bandwidth .chart-plot')
    await page.keyboard.press('ArrowLeft')
    await page.locator('#chart-bandwidth .chart-tip').waitFor({ state: 'visible' })
    await page.keyboard.press('+')
    await page.locator('#chart-bandwidth .chart-reset').waitFor({ state: 'visible' })
    await page.keyboard.press('0')
    await page.locator('#chart-bandwidth .chart-reset').waitFor({ state: 'hidden' })
    // The time range is a radio group: arrow keys move along it.
    await page.focus('#range input[value="5m"]')
    await page.keyboard.press('ArrowRight')
    assert.equal(await page.isChecked('#range input[value="1h"]'), true)
    await page.close()
  })

  it('screenshots at desktop and phone widths, light and dark; nothing overflows the phone', {
    skip
  }, async () => {
    const page = await context.newPage()
    const problems = watchProblems(page)
    await page.goto(url())
    await nextUpdates(page, 3)
    await page.screenshot({ path: new URL('dashboard-desktop.png', RESULTS).pathname, fullPage: true })
    const viewport = new URL('dashboard-desktop-top.png', RESULTS).pathname
    await page.screenshot({ path: viewport })
    if (process.env.PEERSCOPE_UPDATE_DOCS === '1') {
      await mkdir(new URL('.', DOCS_SCREENSHOT), { recursive: true })
      await copyFile(viewport, DOCS_SCREENSHOT)
    }
    await page.goto(`${url()}#/peers/${view.connectedIds[1]}`)
    await page.locator('[data-fact="agent"]').waitFor()
    await nextUpdates(page, 2)
    await page.screenshot({ path: new URL('dashboard-peer.png', RESULTS).pathname, fullPage: true })

    await page.emulateMedia({ colorScheme: 'dark' })
    await page.goto(url())
    await nextUpdates(page, 2)
    const background = await page.evaluate(
      () =>
        (
          globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }
        ).getComputedStyle((globalThis as unknown as { document: { body: unknown } }).document.body)
          .backgroundColor
    )
    assert.equal(background, 'rgb(15, 20, 26)')
    const dark = await chartPixels(page, 'chart-bandwidth', ['--in', '--out'])
    assert.ok((dark.byColor['--in'] ?? 0) > 300 && (dark.byColor['--out'] ?? 0) > 300, JSON.stringify(dark))
    await page.screenshot({ path: new URL('dashboard-dark.png', RESULTS).pathname })
    await page.emulateMedia({ colorScheme: 'light' })

    await page.setViewportSize(PHONE)
    await page.goto(url())
    await nextUpdates(page, 2)
    const width = await page.evaluate(
      () =>
        (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document
          .documentElement.scrollWidth
    )
    assert.ok(width <= PHONE.width, `the page is ${width}px wide on a ${PHONE.width}px phone`)
    const phone = await chartPixels(page, 'chart-bandwidth', ['--in', '--out'])
    assert.ok(
      (phone.byColor['--in'] ?? 0) > 100 && (phone.byColor['--out'] ?? 0) > 100,
      JSON.stringify(phone)
    )
    await page.screenshot({ path: new URL('dashboard-phone.png', RESULTS).pathname, fullPage: true })
    await page.goto(`${url()}#/peers`)
    await page.locator('#peers-list tbody tr').first().waitFor()
    await page.screenshot({ path: new URL('dashboard-phone-peers.png', RESULTS).pathname })
    assert.deepEqual(problems, [])
    await page.close()
  })

  it('axes read right at zero traffic and at tiny rates', { skip }, async () => {
    const quiet = await MemoryView.create({ peers: 20, connected: 3 })
    const start = Date.now() - 30_000
    for (let i = 0; i < 10; i++) quiet.grow(0, { at: start + i * 1000 })
    const quietServer = await startHttpServer({ view: quiet })
    const page = await context.newPage()
    try {
      await page.goto(quietServer.url)
      await nextUpdates(page, 2)
      const zero = ((await page.getAttribute('#chart-bandwidth', 'data-y-ticks')) ?? '').split('|')
      assert.equal(zero[0], '0 B/s')
      assert.equal(new Set(zero).size, zero.length, `distinct ticks: ${zero}`)
      assert.ok(
        zero.every((t) => /^(0|0\.\d+|1\.0) B\/s$/.test(t)),
        zero.join(', ')
      )
      // Rates of a few hundredths of a byte per second (a peer pinged now and then) keep their scale.
      for (let i = 10; i < 20; i++) {
        const scalars = Object.fromEntries(SCALAR_FIELDS.map((f) => [f, 0])) as Scalars
        quiet.historyStore.record({
          t: start + i * 1000,
          scalars: { ...scalars, rateIn: 0.02 + (i % 3) * 0.005, rateOut: 0.03 },
          protocols: [],
          peers: []
        })
      }
      await nextUpdates(page, 2)
      const tiny = ((await page.getAttribute('#chart-bandwidth', 'data-y-ticks')) ?? '').split('|')
      assert.equal(tiny[0], '0 B/s')
      assert.equal(new Set(tiny).size, tiny.length, `distinct ticks: ${tiny}`)
      assert.ok(
        tiny.some((t) => /^0\.0[1-4]\d? B\/s$/.test(t)),
        tiny.join(', ')
      )
      assert.ok(
        tiny.every((t) => t === '0 B/s' || /^0\.0\d+ B\/s$/.test(t)),
        tiny.join(', ')
      )
    } finally {
      await page.close()
      await quietServer.close()
    }
  })

  it('without the token the page is refused and the API answers 401', { skip }, async () => {
    const page = await context.newPage()
    const response = await page.goto(server.url)
    assert.equal(response?.status(), 401)
    await page.close()
  })
})
