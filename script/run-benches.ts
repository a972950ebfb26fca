// `pnpm bench`: every package's benchmarks, then the root benchmarks/ workspace (the cross-package harnesses), one
// after another so they do not compete for the two cores. `pnpm bench <name>...` runs only those (a package's
// directory name, or `benchmarks`). Each benchmark prints its settings and the load average, its table, and as its
// last line one JSON object; this collects those lines.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

const only = process.argv.slice(2)
const suites = [
  ...readdirSync('packages')
    .filter((name) => existsSync(join('packages', name, 'bench', 'index.ts')))
    .map((name) => ({ name, cwd: join('packages', name), entry: 'bench/index.ts' })),
  { name: 'benchmarks', cwd: 'benchmarks', entry: 'index.ts' }
]
const unknown = only.filter((name) => !suites.some((s) => s.name === name))
if (unknown.length > 0) {
  console.error(
    `run-benches: no benchmarks named ${unknown.join(', ')}; known: ${suites.map((s) => s.name).join(', ')}`
  )
  process.exit(2)
}
const summaries: unknown[] = []
let failed = 0
for (const suite of suites) {
  if (only.length > 0 && !only.includes(suite.name)) continue
  console.log(`\n== ${suite.name}`)
  // --expose-gc: the benchmarks that report heap figures collect garbage before they read the heap (without it the
  // peer store's heap figure was silently skipped).
  const run = spawnSync(process.execPath, ['--conditions=@peerscope/source', '--expose-gc', suite.entry], {
    cwd: suite.cwd,
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024
  })
  process.stdout.write(run.stdout)
  if (run.status !== 0) failed++
  for (const line of run.stdout.split('\n')) {
    if (line.startsWith('{"bench"')) summaries.push(JSON.parse(line))
  }
}
console.log('\n== summary (one JSON object per benchmark)')
for (const s of summaries) console.log(JSON.stringify(s))
process.exit(failed === 0 ? 0 : 1)
