// `pnpm bench`: every package benchmark, one after another so they do not compete for the two cores.
// Each benchmark prints its own table and, as its last line, one JSON object; this collects those lines.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

const only = process.argv.slice(2)
const packages = readdirSync('packages').filter((name) =>
  existsSync(join('packages', name, 'bench', 'index.ts'))
)
const summaries: unknown[] = []
let failed = 0
for (const name of packages) {
  if (only.length > 0 && !only.includes(name)) continue
  console.log(`\n== ${name}`)
  const run = spawnSync(process.execPath, ['--conditions=@peerscope/source', 'bench/index.ts'], {
    cwd: join('packages', name),
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
