// `pnpm bench` for @peerscope/swarm-adapter: the dashboard's page weight and time to first chart, and the cost
// of the history it reads. `--runs N` (default 5) page loads; `--smoke` for one short run that proves it works.
// Prints a table, then one JSON line (its last line) with the figures.
import { parseArgs } from 'node:util'
import { median, parseInteger, readConfig, startBench } from '@peerscope/bench-kit'
import { History } from '../src/history/history.ts'
import { startHttpServer } from '../src/http/index.ts'
import { MemoryView } from '../test/fixtures/memory-view.ts'
import { chromiumSkip, launchChromium } from '../test/helpers/chromium.ts'

const { values } = parseArgs({ options: { runs: { type: 'string' }, smoke: { type: 'boolean' } } })
const smoke = values.smoke === true
const runs = smoke ? 1 : readConfig(() => parseInteger('--runs', values.runs, 5, { min: 1 }))
const bench = startBench('dashboard', { runs, smoke })

// A node that has run for an hour: a full fine ring (3,600 samples) and an hour of coarse samples.
const view = await MemoryView.create({ peers: 300, connected: 14 })
const hour = smoke ? 600 : 3600
const start = Date.now() - hour * 1000
for (let i = 0; i < hour; i++) view.grow(100_000 + (i % 17) * 9_000, { at: start + i * 1000 })
const server = await startHttpServer({ view })

// Page weight: the page and every file it loads (the API answers it polls are not part of it).
const html = await (await fetch(server.url)).text()
// Only what the browser fetches on load: scripts, style sheets, the icon (not the licence the footer links to).
const files = [...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*\shref)="(assets\/[^"?]+)"/g)].map(
  (m) => m[1] ?? ''
)
const unique = [...new Set(files)]
let weight = Buffer.byteLength(html)
const rows: Array<[string, number]> = [['index.html', Buffer.byteLength(html)]]
for (const file of unique) {
  const bytes = (await (await fetch(new URL(file, server.url))).arrayBuffer()).byteLength
  rows.push([file, bytes])
  weight += bytes
}

// The history a first load (5 min) and a range switch (1 h, 24 h) fetch.
const historyCost = async (query: string) => {
  const times: number[] = []
  let bytes = 0
  for (let i = 0; i < (smoke ? 3 : 20); i++) {
    const t0 = performance.now()
    const text = await (await fetch(new URL(`api/v1/history?${query}`, server.url))).text()
    times.push(performance.now() - t0)
    bytes = Buffer.byteLength(text)
  }
  return { ms: median(times), bytes }
}
const first = await historyCost(`since=${Date.now() - 300_000}&peers=16&protocols=32`)
const fullHour = await historyCost('peers=16&protocols=32')
const day = await historyCost('resolution=coarse&peers=16&protocols=32')

const firstChart: number[] = []
if (chromiumSkip === false) {
  const browser = await launchChromium()
  try {
    for (let i = 0; i < runs; i++) {
      const page = await browser.context.newPage()
      await page.goto(server.url, { waitUntil: 'commit' })
      // Time from navigation start until the bandwidth chart's canvas holds the history's points.
      const ms = await page.evaluate(
        () =>
          new Promise<number>((resolve) => {
            const g = globalThis as unknown as {
              document: { querySelector(s: string): { dataset: Record<string, string> } | null }
              performance: { now(): number }
              requestAnimationFrame(fn: () => void): void
            }
            const check = () => {
              const host = g.document.querySelector('#chart-bandwidth')
              if (
                host?.dataset.points !== undefined &&
                Number(host.dataset.points) > 0 &&
                g.document.querySelector('#chart-bandwidth canvas')
              )
                resolve(g.performance.now())
              else g.requestAnimationFrame(check)
            }
            check()
          })
      )
      firstChart.push(ms)
      await page.close()
    }
  } finally {
    await browser.close()
  }
}
await server.close()

console.log('dashboard page weight (uncompressed, as served)')
for (const [file, bytes] of rows)
  console.log(`  ${file.padEnd(28)} ${bytes.toLocaleString('en-US').padStart(9)} B`)
console.log(`  ${'total'.padEnd(28)} ${weight.toLocaleString('en-US').padStart(9)} B`)
console.log(`history answers (${hour} fine samples kept, 14 peers, 7 protocols), median of runs`)
for (const [name, r] of [
  ['first load: last 5 min', first],
  ['range 1 h (whole fine ring)', fullHour],
  ['range 24 h (coarse ring)', day]
] as const) {
  console.log(
    `  ${name.padEnd(30)} ${r.bytes.toLocaleString('en-US').padStart(10)} B  ${r.ms.toFixed(1).padStart(7)} ms`
  )
}
if (firstChart.length === 0) console.log(`time to first chart: skipped (${chromiumSkip})`)
else
  console.log(
    `time to first chart (navigation start to the bandwidth chart drawn), median of ${runs}: ${median(firstChart).toFixed(0)} ms`
  )
const bound = History.memoryBound()
console.log(
  `history memory bound (defaults): ${bound.toLocaleString('en-US')} B (${(bound / 2 ** 20).toFixed(2)} MiB)`
)
bench.finish({
  smoke,
  pageBytes: weight,
  firstChartMs: firstChart.length === 0 ? null : Math.round(median(firstChart)),
  historyFirstLoadBytes: first.bytes,
  historyHourBytes: fullHour.bytes,
  historyHourMs: Number(fullHour.ms.toFixed(1)),
  historyDayBytes: day.bytes,
  historyMemoryBoundBytes: bound
})
