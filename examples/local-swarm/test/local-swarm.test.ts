import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url))
const dir = await mkdtemp(join(tmpdir(), 'peerscope-swarm-'))
after(() => rm(dir, { recursive: true, force: true }))

/** Runs the example as a user would, until it stops by itself; resolves with its output and exit code. */
function run(
  seconds: number,
  onLine?: (line: string) => void
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--conditions=@peerscope/source',
        main,
        '--nodes',
        '3',
        '--port',
        '0',
        '--dir',
        dir,
        '--duration',
        String(seconds)
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] }
    )
    let out = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => {
      out += chunk
      for (const line of chunk.split('\n')) if (line !== '') onLine?.(line)
    })
    child.stderr.on('data', (chunk) => {
      out += chunk
    })
    child.on('error', reject)
    child.on('exit', (code) => resolve({ code, out }))
  })
}

test('the local swarm serves the dashboard, exchanges traffic, stops cleanly and remembers its peers', async () => {
  let dashboard: Promise<unknown> | undefined
  let metrics: Promise<string> | undefined
  let scrapeConfig: string | undefined
  const first = await run(6, (line) => {
    scrapeConfig ??= /^prometheus\.yml for all 3 nodes .*: (\S+)$/.exec(line)?.[1]
    const url = /^dashboard: (http:\/\/127\.0\.0\.1:\d+\/)$/.exec(line)?.[1]
    if (url !== undefined) {
      // While it runs: the API answers with the swarm's own traffic.
      const later = new Promise((resolve) => setTimeout(resolve, 3000))
      dashboard = later.then(async () => (await fetch(new URL('api/v1/bandwidth', url))).json())
      metrics = later.then(async () => (await fetch(new URL('metrics', url))).text())
    }
  })
  assert.equal(first.code, 0, first.out)
  assert.match(first.out, /node-0 \S+ remembers 0 peer\(s\)/)
  assert.match(first.out, /stopped cleanly after echoing/)
  assert.ok(dashboard !== undefined, 'the dashboard URL was printed')
  const totals = (await dashboard) as { totalOut: number }
  assert.ok(totals.totalOut > 0, 'traffic flowed through node 0')
  // The demo turns per-peer series on, and writes a scrape config with every node.
  assert.match(
    (await metrics) ?? '',
    /^libp2p_peer_transfer_bytes_total\{peer="12D3KooW\w+",direction="out"\} \d+$/m
  )
  assert.ok(scrapeConfig !== undefined, 'the prometheus.yml path was printed')
  const targets = /targets: \[(.*)\]/.exec(readFileSync(scrapeConfig, 'utf8'))?.[1]?.split(', ') ?? []
  assert.equal(targets.length, 3, 'one target per node')

  const second = await run(2)
  assert.equal(second.code, 0, second.out)
  const remembered = Number(/node-0 \S+ remembers (\d+) peer\(s\)/.exec(second.out)?.[1])
  assert.ok(remembered >= 2, `node-0 remembered ${remembered} peers after a restart`)
})
