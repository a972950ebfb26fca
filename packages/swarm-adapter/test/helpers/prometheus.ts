import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'

// A real Prometheus server: Debian's `prometheus` package, installed by script/setup-test-deps.
const PROMETHEUS =
  process.env.PEERSCOPE_PROMETHEUS ??
  ['/usr/bin/prometheus', '/usr/local/bin/prometheus'].find((path) => existsSync(path))
const available = PROMETHEUS !== undefined && existsSync(PROMETHEUS)
if (!available && process.env.CI === 'true') {
  throw new Error('prometheus is required in CI but missing: run script/setup-test-deps (apt: prometheus)')
}
/** `false` when Prometheus can run here, else why the tests that need it are skipped. */
export const skip: false | string = available
  ? false
  : `prometheus not found at ${PROMETHEUS ?? '/usr/bin or /usr/local/bin'} (run script/setup-test-deps, or set PEERSCOPE_PROMETHEUS)`

/** promtool, from the same package; `undefined` when missing. */
export const PROMTOOL = [
  process.env.PEERSCOPE_PROMTOOL,
  PROMETHEUS === undefined ? undefined : join(dirname(PROMETHEUS), 'promtool'),
  '/usr/bin/promtool'
].find((path) => path !== undefined && existsSync(path))

// Waits on events with this overall deadline; nothing asserts on time.
export const DEADLINE_MS = 15_000

/** Polls `check` every 100 ms until it returns true; fails with `what` after `deadline` ms. */
export async function poll(
  what: string,
  check: () => Promise<boolean>,
  deadline = DEADLINE_MS
): Promise<void> {
  const until = Date.now() + deadline
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out after ${deadline} ms waiting for: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

// biome-ignore lint/suspicious/noExplicitAny: Prometheus and our API answer arbitrary JSON the assertions walk into
export type Json = any

export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** A Prometheus server on 127.0.0.1 (a free port) with its data in `dir`; `stop()` ends it. */
export class PrometheusServer {
  readonly url: string
  readonly #child: ChildProcess
  #log = ''
  #exited: Promise<void>

  private constructor(child: ChildProcess, url: string) {
    this.#child = child
    this.url = url
    const keep = (chunk: Buffer) => {
      this.#log = (this.#log + chunk.toString()).slice(-20_000)
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()))
  }

  static async start(config: string, dir: string): Promise<PrometheusServer> {
    const configFile = join(dir, 'prometheus.yml')
    await writeFile(configFile, config)
    const port = await freePort()
    const child = spawn(
      PROMETHEUS!,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn'
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] }
    )
    const server = new PrometheusServer(child, `http://127.0.0.1:${port}`)
    let exited = false
    child.once('exit', () => (exited = true))
    try {
      await poll('prometheus /-/ready', async () => {
        if (exited) throw new Error(`prometheus exited at start:\n${server.log}`)
        return (await fetch(`${server.url}/-/ready`).catch(() => undefined))?.status === 200
      })
    } catch (err) {
      await server.stop()
      throw err
    }
    return server
  }

  get log(): string {
    return this.#log
  }

  async api(path: string): Promise<Json> {
    const res = await fetch(`${this.url}${path}`)
    const body = (await res.json()) as Json
    assert.equal(body.status, 'success', `${path}: ${JSON.stringify(body)}`)
    return body.data
  }

  async targets(): Promise<Map<string, Json>> {
    const data = await this.api('/api/v1/targets?state=active')
    return new Map(data.activeTargets.map((target: Json) => [target.labels.job, target]))
  }

  /** An instant query's samples as `labels -> value`. */
  async query(promql: string): Promise<Array<{ metric: Record<string, string>; value: number }>> {
    const data = await this.api(`/api/v1/query?query=${encodeURIComponent(promql)}`)
    assert.equal(data.resultType, 'vector')
    return data.result.map((r: Json) => ({ metric: r.metric, value: Number(r.value[1]) }))
  }

  /** Prometheus' own counters (its /metrics), by name, summed over labels. */
  async selfMetrics(): Promise<Map<string, number>> {
    const text = await (await fetch(`${this.url}/metrics`)).text()
    const values = new Map<string, number>()
    for (const line of text.split('\n')) {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})? (\S+)$/.exec(line)
      if (match !== null) values.set(match[1]!, (values.get(match[1]!) ?? 0) + Number(match[2]))
    }
    return values
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return
    this.#child.kill('SIGTERM')
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5_000)
    await this.#exited
    clearTimeout(timer)
  }
}

/** RFC 3339 with nanoseconds (Go) to epoch ms. */
export function goTime(text: string): number {
  return Date.parse(text.replace(/(\.\d{3})\d*/, '$1'))
}
