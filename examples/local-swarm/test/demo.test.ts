import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../../', import.meta.url))

test('script/demo: bootstrap prints a timed line per step, and a taken port is named with --port', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'peerscope-demo-'))
  const taken = createServer()
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
  const port = (taken.address() as { port: number }).port
  try {
    const env = { ...process.env }
    delete env.NODE_TEST_CONTEXT
    const child = spawn(
      'bash',
      ['script/demo', '--port', String(port), '--nodes', '2', '--dir', dir, '--duration', '1'],
      { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] }
    )
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk
    })
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    const steps = out.split('\n').filter((line) => line.startsWith('bootstrap: '))
    assert.equal(steps.length, 4, out)
    for (const [i, line] of steps.entries()) {
      assert.match(line, new RegExp(`^bootstrap: \\[${i + 1}/4\\] .+ \\.\\.\\. .+ \\(\\d+\\.\\ds\\)$`))
    }
    assert.equal(code, 1, out + err)
    assert.equal(
      err.trim(),
      `local-swarm: the dashboard's port ${port} on 127.0.0.1 is already in use; choose another with --port <N> ` +
        '(or PEERSCOPE_PORT=<N>), or --port 0 for any free port'
    )
  } finally {
    taken.close()
    await rm(dir, { recursive: true, force: true })
  }
})
