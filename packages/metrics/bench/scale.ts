// How the metrics scale with tracked peers (1k, 10k, 100k by default), ours beside @libp2p/prometheus-metrics 5
// (per protocol only, prom-client's process metrics on as by default) and a prom-client counter labelled by peer
// (per-peer series at the same cardinality). Per variant and N, in a fresh process each (bench/scale-case.ts):
//   - heap per tracked peer (what the peers' first bytes leave on the heap, after two full GCs);
//   - the once-a-second rate sweep, with 1% of the peers counting bytes each second, and with none;
//   - a Prometheus scrape with per-peer labels (the 100 busiest), node-thread time: mean, p99, max, and the first
//     scrape apart; in the node's thread, and with exportFromWorker (bandwidth and process families rendered by a
//     worker over a SharedMetricMap).
// With BENCH_BASELINE_REF=<git ref> (e.g. the commit before a change), that version of this package runs beside the
// working tree's in the same rounds (`before`, `before, exportFromWorker`): before/after on the same machine at
// the same time.
//
// Every case of a round runs once, in an order rotated each round; the ratios are taken within a round (the
// machine's drift moves whole rounds). Rounds repeat until every ratio's median moves by at most
// BENCH_SCALE_TOLERANCE_PCT (10) when the last round is added, after BENCH_SCALE_MIN_ROUNDS (3) and at most
// BENCH_SCALE_MAX_ROUNDS (6); otherwise the benchmark says they are not stable. The load average is printed at the
// start and the end. Knobs: BENCH_SCALE_PEERS (1000,10000,100000), BENCH_SCALE_SCRAPES (100 per case),
// BENCH_SCALE_BUDGET_S (20: a case stops scraping after this long, at least 10 scrapes).
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { envInteger, loadAverage, median, parseInteger, readConfig, startBench } from '@peerscope/bench-kit'
import { baselineSource } from './baseline-source.ts'
import type { CaseFigures, CaseInput, CaseVariant, Distribution } from './scale-case.ts'

const config = readConfig(() => ({
  peers: (process.env.BENCH_SCALE_PEERS ?? '1000,10000,100000')
    .split(',')
    .map((n) => parseInteger('BENCH_SCALE_PEERS', n, 0, { min: 1 })),
  scrapes: envInteger('BENCH_SCALE_SCRAPES', 100, { min: 10 }),
  budgetSeconds: envInteger('BENCH_SCALE_BUDGET_S', 20, { min: 1 }),
  minRounds: envInteger('BENCH_SCALE_MIN_ROUNDS', 3, { min: 2 }),
  maxRounds: envInteger('BENCH_SCALE_MAX_ROUNDS', 6, { min: 2 }),
  tolerancePct: envInteger('BENCH_SCALE_TOLERANCE_PCT', 10, { min: 1, max: 100 }),
  baseline: process.env.BENCH_BASELINE_REF?.trim() || undefined
}))
const PEERS = config.peers
const TOLERANCE = config.tolerancePct / 100
const BASELINE_REF = config.baseline
const bench = startBench('scale', config)
const load = () => loadAverage().join(' / ')

const variants: CaseVariant[] = [
  'ours',
  'ours, exportFromWorker',
  'prometheus-metrics',
  'prom-client by peer'
]
const baseline = BASELINE_REF === undefined ? undefined : baselineSource(BASELINE_REF)
if (baseline !== undefined) variants.push('before', 'before, exportFromWorker')

const CASE = fileURLToPath(new URL('./scale-case.ts', import.meta.url))

function runCase(input: CaseInput): CaseFigures {
  const run = spawnSync(
    process.execPath,
    ['--expose-gc', '--conditions=@peerscope/source', CASE, JSON.stringify(input)],
    { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 }
  )
  const line = run.stdout.trim().split('\n').pop() ?? ''
  if (run.status !== 0 || !line.startsWith('{')) {
    throw new Error(`scale case ${input.variant} @ ${input.peers} failed: ${run.stderr || run.stdout}`)
  }
  return JSON.parse(line) as CaseFigures
}

/** One round's ratios, by name. */
function ratiosOf(round: Map<string, CaseFigures>): Map<string, number> {
  const out = new Map<string, number>()
  const get = (variant: CaseVariant, peers: number) => round.get(`${variant}@${peers}`)
  for (const n of PEERS) {
    const ours = get('ours', n)
    const worker = get('ours, exportFromWorker', n)
    const prom = get('prometheus-metrics', n)
    const byPeer = get('prom-client by peer', n)
    const before = get('before', n)
    const beforeWorker = get('before, exportFromWorker', n)
    const put = (name: string, a: number | undefined, b: number | undefined) => {
      if (a !== undefined && b !== undefined && b > 0)
        out.set(`${name} @ ${n.toLocaleString('en-US')}`, a / b)
    }
    put('scrape, ours in-thread / prometheus-metrics', ours?.scrape.mean, prom?.scrape.mean)
    put('scrape, ours exportFromWorker / prometheus-metrics', worker?.scrape.mean, prom?.scrape.mean)
    put('scrape, ours in-thread / prom-client by peer', ours?.scrape.mean, byPeer?.scrape.mean)
    put('heap per peer, ours / prom-client by peer', ours?.heapPerPeer, byPeer?.heapPerPeer)
    put('scrape, ours / before (in-thread)', ours?.scrape.mean, before?.scrape.mean)
    put('scrape p99, ours / before (exportFromWorker)', worker?.scrape.p99, beforeWorker?.scrape.p99)
    put('sweep, ours / before', ours?.sweep?.mean, before?.sweep?.mean)
    put('heap per peer, ours / before', ours?.heapPerPeer, before?.heapPerPeer)
    put('heap per peer, ours / before (exportFromWorker)', worker?.heapPerPeer, beforeWorker?.heapPerPeer)
  }
  return out
}

const rounds: Array<Map<string, CaseFigures>> = []
const ratioRounds: Array<Map<string, number>> = []
let stable = false
const cases = PEERS.flatMap((peers) => variants.map((variant) => ({ variant, peers })))
try {
  for (let r = 0; r < config.maxRounds; r++) {
    const round = new Map<string, CaseFigures>()
    // Rotated, so no variant always runs first (or right after the heaviest case).
    const order = cases.map((_, i) => cases[(i + r) % cases.length] as (typeof cases)[number])
    for (const { variant, peers } of order) {
      const input: CaseInput = {
        variant,
        peers,
        scrapes: config.scrapes,
        budgetMs: config.budgetSeconds * 1000
      }
      if (baseline !== undefined) input.baseline = baseline.dir
      round.set(`${variant}@${peers}`, runCase(input))
    }
    rounds.push(round)
    ratioRounds.push(ratiosOf(round))
    console.log(`scale: round ${r + 1} done, load average ${load()}`)
    if (rounds.length >= Math.min(config.minRounds, config.maxRounds)) {
      const all = ratioRounds
      const previous = ratioRounds.slice(0, -1)
      stable = [...(all[0] as Map<string, number>).keys()].every((name) => {
        const now = median(all.map((m) => m.get(name) as number))
        const then = median(previous.map((m) => m.get(name) as number))
        return Math.abs(now / then - 1) <= TOLERANCE
      })
      if (stable) break
    }
  }
} finally {
  baseline?.remove()
}

// Figures: per variant and N, the median over rounds of each case's figure.
const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2))
const medianOf = (variant: CaseVariant, peers: number, pick: (f: CaseFigures) => number | undefined) => {
  const values = rounds
    .map((round) => round.get(`${variant}@${peers}`))
    .map((f) => (f === undefined ? undefined : pick(f)))
    .filter((v): v is number => v !== undefined)
  return values.length === 0 ? undefined : median(values)
}
const table: Record<string, Record<string, string>> = {}
for (const peers of PEERS) {
  for (const variant of variants) {
    const d = (pick: (f: CaseFigures) => Distribution | null, field: keyof Distribution) =>
      medianOf(variant, peers, (f) => pick(f)?.[field])
    const cell = (v: number | undefined) => (v === undefined ? '–' : ms(v))
    table[`${variant} @ ${peers.toLocaleString('en-US')}`] = {
      'scrape ms mean': cell(d((f) => f.scrape, 'mean')),
      p99: cell(d((f) => f.scrape, 'p99')),
      max: cell(d((f) => f.scrape, 'max')),
      'cpu mean': cell(medianOf(variant, peers, (f) => f.scrapeCpuMean)),
      first: cell(medianOf(variant, peers, (f) => f.firstScrapeMs)),
      'wall mean': cell(medianOf(variant, peers, (f) => f.scrapeWallMean)),
      'GC in scrape mean': cell(medianOf(variant, peers, (f) => f.scrapeGcMean)),
      'GC max': cell(medianOf(variant, peers, (f) => f.scrapeGcMax)),
      'sweep ms mean': cell(d((f) => f.sweep, 'mean')),
      'sweep max': cell(d((f) => f.sweep, 'max')),
      'idle sweep': cell(d((f) => f.sweepIdle, 'mean')),
      'hand-over ms': cell(d((f) => f.handOver, 'mean')),
      'heap B/peer': cell(medianOf(variant, peers, (f) => f.heapPerPeer)),
      'output KiB': cell(medianOf(variant, peers, (f) => f.outputBytes / 1024))
    }
  }
}
const workload =
  `N tracked peers, one stream each on one of 10 protocols, per-peer labels on (100 busiest); 1% of the peers count ` +
  `bytes each (virtual) second; ${config.scrapes} scrapes per case (budget ${config.budgetSeconds} s, at least 10); ` +
  `scrape ms = node-thread (event-loop active) time per scrape; medians over ${rounds.length} rounds`
console.log(`scale: ${workload}`)
console.table(table)

const ratioTable: Record<string, Record<string, string>> = {}
const ratios: Record<string, { median: number; min: number; max: number }> = {}
for (const name of ratioRounds[0]?.keys() ?? []) {
  const values = ratioRounds.map((m) => m.get(name) as number)
  const summary = { median: median(values), min: Math.min(...values), max: Math.max(...values) }
  ratios[name] = summary
  ratioTable[name] = {
    median: summary.median.toFixed(3),
    'min–max over rounds': `${summary.min.toFixed(3)}–${summary.max.toFixed(3)}`
  }
}
console.table(ratioTable)
console.log(
  stable
    ? `scale: ratios stable (every median moved <= ${TOLERANCE * 100}% with the last of ${rounds.length} rounds)`
    : `scale: ratios NOT stable after ${rounds.length} rounds (a median moved > ${TOLERANCE * 100}% with the last round)`
)

// Targets (issue 21), judged on the medians over rounds.
const targets: Array<{ target: string; met: boolean | undefined; figure: string }> = []
const judge = (target: string, value: number | undefined, limit: number, figure: (v: number) => string) =>
  targets.push({
    target,
    met: value === undefined ? undefined : value < limit,
    figure: value === undefined ? 'not measured (N not in BENCH_SCALE_PEERS)' : figure(value)
  })
const scrape = (variant: CaseVariant, n: number, field: keyof Distribution) =>
  medianOf(variant, n, (f) => f.scrape[field])
judge(
  'in-thread scrape at 100k tracked peers, 100 labelled: < 10 ms (mean)',
  scrape('ours', 100_000, 'mean'),
  10,
  (v) => `mean ${ms(v)} ms, p99 ${ms(scrape('ours', 100_000, 'p99') ?? Number.NaN)} ms`
)
judge(
  'sweep at 100k tracked peers (1% counting each second): < 10 ms per second',
  medianOf('ours', 100_000, (f) => f.sweep?.mean),
  10,
  (v) => `mean ${ms(v)} ms, max ${ms(medianOf('ours', 100_000, (f) => f.sweep?.max) ?? Number.NaN)} ms`
)
for (const n of [10_000, 100_000]) {
  judge(
    `exportFromWorker scrape at ${n.toLocaleString('en-US')} peers holds the node's thread < 1 ms (p99)`,
    scrape('ours, exportFromWorker', n, 'p99'),
    1,
    (v) =>
      `mean ${ms(scrape('ours, exportFromWorker', n, 'mean') ?? Number.NaN)}, p99 ${ms(v)}, max ${ms(scrape('ours, exportFromWorker', n, 'max') ?? Number.NaN)} ms`
  )
}
const growth = (pick: (f: CaseFigures) => number | undefined) => {
  const low = medianOf('ours', 10_000, pick)
  const high = medianOf('ours', 100_000, pick)
  return low === undefined || high === undefined ? undefined : high / low
}
judge(
  'in-thread scrape grows no faster than peers, 10k -> 100k (x10 peers): growth < 10',
  growth((f) => f.scrape.mean),
  10,
  (v) => `x${v.toFixed(2)}`
)
if (baseline !== undefined) {
  for (const n of PEERS) {
    const now = medianOf('ours', n, (f) => f.heapPerPeer)
    const before = medianOf('before', n, (f) => f.heapPerPeer)
    judge(
      `heap per tracked peer below ${BASELINE_REF}'s at ${n.toLocaleString('en-US')} peers`,
      now === undefined || before === undefined ? undefined : now / before,
      1,
      (v) => `${ms(now ?? Number.NaN)} B against ${ms(before ?? Number.NaN)} B (x${v.toFixed(3)})`
    )
  }
}
for (const t of targets) {
  console.log(`${t.met === undefined ? '-     ' : t.met ? 'met   ' : 'MISSED'}  ${t.target}: ${t.figure}`)
}
const results: Record<string, CaseFigures[]> = {}
for (const round of rounds) {
  for (const [key, figures] of round) results[key] = [...(results[key] ?? []), figures]
}
bench.finish({ workload, rounds: rounds.length, stable, ratios, targets, results })
