// Pools transfer runs made with the same settings: reads the JSON line transfer.ts prints last from each log file
// given, joins every variant's per-round paired ratios (`pairedRounds`), and prints the pooled median with the
// benchmark's own bootstrap interval. Also each variant against prometheus-metrics round by round, where both ran.
//   node --conditions=@peerscope/source transfer/pool.ts run-S.log run-T.log     (in benchmarks/)
import { readFileSync } from 'node:fs'
import { bootstrapMedian, pairedRatios } from '@peerscope/bench-kit'

interface TransferRun {
  workload: string
  pairedRounds: Record<string, number[]>
}

const files = process.argv.slice(2)
if (files.length === 0) {
  console.error('usage: transfer/pool.ts <transfer log or JSON file>...')
  process.exit(2)
}

const runs = files.map((file): TransferRun => {
  const line = readFileSync(file, 'utf8')
    .split('\n')
    .findLast((l) => l.startsWith('{"bench":"transfer"'))
  if (line === undefined) {
    console.error(
      `${file}: no transfer JSON line (a line starting {"bench":"transfer"); is it a transfer.ts log?`
    )
    process.exit(2)
  }
  return JSON.parse(line) as TransferRun
})
const settings = new Set(runs.map((r) => r.workload.replace(/; \d+ rounds,/, '; N rounds,')))
if (settings.size > 1)
  console.warn(`warning: the runs were made with different settings:\n${[...settings].join('\n')}`)

const pooled = new Map<string, number[]>()
const headToHead = new Map<string, number[]>()
for (const run of runs) {
  for (const [key, ratios] of Object.entries(run.pairedRounds))
    pooled.set(key, [...(pooled.get(key) ?? []), ...ratios])
  for (const [key, ratios] of Object.entries(run.pairedRounds)) {
    const [variant = '', workload = ''] = key.split('/')
    if (!variant.startsWith('ours')) continue
    const rivalName = variant.replace('ours', 'prometheus-metrics')
    const rival = run.pairedRounds[`${rivalName}/${workload}`]
    if (rival === undefined) continue
    const name = `${variant} / ${rivalName}, ${workload}`
    headToHead.set(name, [...(headToHead.get(name) ?? []), ...pairedRatios(ratios, rival)])
  }
}

const format = (values: number[]): string => {
  const b = bootstrapMedian(values)
  return `${b.median.toFixed(3)} [${b.low.toFixed(3)}, ${b.high.toFixed(3)}] (${values.length} rounds)`
}
console.log(`pooled paired ratios to none over ${files.length} runs (median, bootstrap 95% interval):`)
for (const [key, values] of pooled) console.log(`  ${key}: ${format(values)}`)
if (headToHead.size > 0) console.log('round by round against prometheus-metrics (above 1: ours faster):')
for (const [key, values] of headToHead) console.log(`  ${key}: ${format(values)}`)
