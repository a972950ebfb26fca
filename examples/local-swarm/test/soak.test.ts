import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'

const soak = fileURLToPath(new URL('../src/soak.ts', import.meta.url))
const dir = await mkdtemp(join(tmpdir(), 'peerscope-soak-test-'))
after(() => rm(dir, { recursive: true, force: true }))

/** Runs the soak as `pnpm soak` does, smaller; resolves with its output and exit code. */
function run(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@peerscope/source', soak, ...args], {
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
    })
    child.on('error', reject)
    child.on('exit', (code) => resolve({ code, out }))
  })
}

test('a bounded soak (6 nodes, 12 s): store and counters match the ledger, and the process exits by itself', async () => {
  const { code, out } = await run(['--nodes', '6', '--duration', '12', '--checkpoint', '5', '--dir', dir])
  assert.equal(code, 0, out)
  const summary = /^soak: PASS \((\d+) checks passed, 0 failed\)$/m.exec(out)
  assert.ok(summary !== null, `no passing summary line:\n${out}`)
  // Two checkpoints and the final check cover all 6 nodes: at least 18 node checks ran.
  assert.ok(Number(summary[1]) >= 18, out)
  // Every kind of action happened, echoes moved bytes, and the exit was not forced by the watchdog.
  for (const kind of ['dial', 'hangup', 'restart', 'echo']) {
    const ok = Number(new RegExp(`^${kind}\\s+(\\d+)`, 'm').exec(out)?.[1])
    assert.ok(ok > 0, `no successful ${kind}:\n${out}`)
  }
  assert.match(out, /^echo payload: \d+\.\d MiB sent/m)
  assert.match(out, /^soak: exited by itself \d+ ms after the last node stopped$/m)
})

test('bad arguments are refused with a usage error', async () => {
  const { code, out } = await run(['--nodes', '1', '--dir', dir])
  assert.equal(code, 2, out)
  assert.match(out, /^soak: error ERR_SOAK_USAGE: --nodes must be an integer from 2 to 50, got 1$/m)
})
