// Runs every test of the monorepo in one `node --test` process tree, so the closing summary covers all of it.
// Humans read the spec reporter; the last lines are the TAP totals plus one plain `N passed, N failed` line.
// A run that executes no test fails. A run that outlives its time budget (a test file that never exits, e.g. a
// leaked socket or timer) is interrupted, so node's runner names the file that hung, and fails.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const globs = [
  'packages/*/test/**/*.test.ts',
  'examples/*/test/**/*.test.ts',
  'test-interop/test/**/*.test.ts',
  'benchmarks/test/**/*.test.ts',
  'benchmarks/packages/*/test/**/*.test.ts',
  // The packed packages installed in a fresh project outside the workspace (npm, tsc, esbuild, Chromium).
  'test-consumer/*.test.ts'
]
// Extra arguments narrow the run, e.g. `pnpm test packages/metric-map/test/local.test.ts`.
const selected = process.argv.slice(2)

const dir = mkdtempSync(join(tmpdir(), 'peerscope-tests-'))
const tapFile = join(dir, 'report.tap')
// The whole run takes a few minutes here; the budget is far above that and far below CI's 90 minutes.
const budgetMs = Number(process.env.PEERSCOPE_TEST_BUDGET_MS ?? 30 * 60_000)
const child = spawn(
  process.execPath,
  [
    '--conditions=@peerscope/source',
    '--test',
    '--test-timeout=600000',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...(selected.length > 0 ? selected : globs)
  ],
  { stdio: 'inherit' }
)
let timedOut = false
const watchdog = setTimeout(() => {
  timedOut = true
  console.error(
    `run-tests: still running after ${budgetMs / 1000} s; interrupting (the hung file is named below)`
  )
  child.kill('SIGINT')
  setTimeout(() => child.kill('SIGKILL'), 30_000).unref()
}, budgetMs)
const status = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
clearTimeout(watchdog)

const tap = existsSync(tapFile) ? readFileSync(tapFile, 'utf8') : ''
rmSync(dir, { recursive: true, force: true })
const total = (name: string): number => {
  const lines = tap.match(new RegExp(`^# ${name} (\\d+)$`, 'gm')) ?? []
  const last = lines.at(-1)
  return last === undefined ? 0 : Number(last.split(' ')[2])
}
const summary = ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo'].map(
  (n) => [n, total(n)] as const
)
console.log('')
for (const [name, n] of summary) console.log(`# ${name} ${n}`)
const passed = total('pass')
const failed = total('fail') + total('cancelled')
console.log(`${passed} passed, ${failed} failed, ${total('skipped')} skipped`)

if (timedOut) {
  console.error(`run-tests: interrupted after ${budgetMs / 1000} s; that is a failure`)
  process.exit(1)
}
if (total('tests') === 0) {
  console.error('run-tests: no test was executed; that is a failure')
  process.exit(1)
}
process.exit(status === 0 && failed === 0 ? 0 : 1)
