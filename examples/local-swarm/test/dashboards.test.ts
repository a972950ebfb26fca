import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { peerscopeDashboard } from '../../../dashboards/build.ts'
import {
  type Json,
  PROMTOOL,
  PrometheusServer,
  poll,
  skip
} from '../../../packages/swarm-adapter/test/helpers/prometheus.ts'
import { echo } from '../src/echo.ts'
import { prometheusConfig } from '../src/prometheus-config.ts'
import { type SwarmNode, startSwarmNode } from '../src/swarm.ts'

// The Grafana board and the rules in dashboards/, evaluated by a real Prometheus that scrapes every node of a
// local swarm built as the demo builds it (per-peer series on): each expression must parse and return series.

const DASHBOARD = fileURLToPath(new URL('../../../dashboards/peerscope.json', import.meta.url))
const RULES = fileURLToPath(new URL('../../../dashboards/peerscope.rules.yml', import.meta.url))
const NODES = 4
// With a 1 s scrape interval, a 20 s rate window holds about 20 samples.
const RATE_INTERVAL = '20s'
const SCRAPES_BEFORE_CHECKS = 8
const DEADLINE_MS = 60_000

/** A dashboard expression as Grafana would send it with every node selected. */
function promql(expr: string): string {
  const text = expr
    .replaceAll('$__rate_interval', RATE_INTERVAL)
    .replaceAll('$topk', '10')
    .replaceAll('$job', '.*')
    .replaceAll('$instance', '.*')
  assert.doesNotMatch(text, /\$/, `a Grafana variable the test does not know, in ${expr}`)
  return text
}

// biome-ignore lint/suspicious/noExplicitAny: the dashboard is arbitrary JSON the test walks into
type Board = any

function panelExpressions(board: Board): Array<{ panel: string; expr: string }> {
  return board.panels.flatMap((panel: Board) =>
    (panel.targets ?? []).map((target: Board) => ({ panel: panel.title, expr: target.expr }))
  )
}

function variableQueries(board: Board): Array<{ name: string; metric: string; label: string }> {
  return board.templating.list
    .filter((v: Board) => v.type === 'query')
    .map((v: Board) => {
      const match = /^label_values\((.+),\s*(\w+)\)$/.exec(v.query.query)
      assert.ok(match !== null, `variable ${v.name} is label_values(selector, label): ${v.query.query}`)
      return { name: v.name, metric: match[1]!, label: match[2]! }
    })
}

/** An alert's expression without its final comparison with a number: the signal it watches. */
function alertSignal(expr: string): string {
  const match = /^(.*\S)\s*(?:>|<|==|!=|>=|<=)\s*-?[0-9.]+(?:e[+-]?\d+)?\s*$/s.exec(expr)
  assert.ok(match !== null, `an alert is "<signal> <comparison> <number>": ${expr}`)
  return match[1]!
}

describe('the Grafana board and rules against a real Prometheus scraping a local swarm', () => {
  const nodes: SwarmNode[] = []
  let dir: string
  let prometheus: PrometheusServer
  let traffic: ReturnType<typeof setInterval> | undefined
  const board: Board = JSON.parse(readFileSync(DASHBOARD, 'utf8'))

  before(async () => {
    if (skip !== false) return
    dir = await mkdtemp(join(tmpdir(), 'peerscope-dashboards-'))
    for (let i = 0; i < NODES; i++) nodes.push(await startSwarmNode({ dir, index: i, httpPort: 0 }))
    for (const [i, node] of nodes.entries()) await node.dial(nodes[(i + 1) % NODES]!.getMultiaddrs()[0]!)
    for (const node of nodes) await node.services.peerscope.gc()
    const targets = nodes.map((node) => new URL(node.services.peerscope.httpUrl!).host)
    prometheus = await PrometheusServer.start(
      prometheusConfig({ targets, interval: '1s', ruleFiles: [RULES] }),
      dir
    )
    // Echo traffic between neighbours all along, as the demo sends it.
    let turn = 0
    traffic = setInterval(() => {
      const from = nodes[turn++ % NODES]!
      const to = from.getPeers()[0]
      if (to !== undefined) echo(from, to, 1024 + (turn % 16) * 1024).catch(() => {})
    }, 50)
    await poll(
      `${SCRAPES_BEFORE_CHECKS} scrapes of every node`,
      async () => {
        const [scrapes] = await prometheus.query(
          `count(count_over_time(up{job="peerscope"}[1m]) >= ${SCRAPES_BEFORE_CHECKS})`
        )
        return scrapes?.value === NODES
      },
      DEADLINE_MS
    )
    await poll(
      'every rule evaluated',
      async () => {
        const { groups } = await prometheus.api('/api/v1/rules')
        // Never evaluated reads as year 1 (Go's zero time).
        return groups.every((g: Json) => g.rules.every((r: Json) => !r.lastEvaluation.startsWith('0001')))
      },
      DEADLINE_MS
    )
  })

  after(async () => {
    if (traffic !== undefined) clearInterval(traffic)
    await Promise.all(nodes.map((node) => node.stop()))
    await prometheus?.stop()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  test('dashboards/peerscope.json is what dashboards/build.ts makes', () => {
    assert.deepEqual(board, JSON.parse(JSON.stringify(peerscopeDashboard())))
  })

  test('the board is importable: a data source input, unique ids, panels inside the grid', () => {
    assert.equal(board.__inputs[0].name, 'DS_PROMETHEUS')
    const ids = board.panels.map((p: Board) => p.id)
    assert.equal(new Set(ids).size, ids.length)
    for (const panel of board.panels) {
      assert.ok(panel.gridPos.x + panel.gridPos.w <= 24, panel.title)
      if (panel.type === 'row') continue
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's data source placeholder
      assert.equal(panel.datasource.uid, '${DS_PROMETHEUS}', panel.title)
      assert.ok(panel.targets.length > 0, panel.title)
      assert.equal(new Set(panel.targets.map((t: Board) => t.refId)).size, panel.targets.length, panel.title)
    }
  })

  test('Prometheus scrapes every node of the swarm without an error', { skip }, async () => {
    const { activeTargets } = await prometheus.api('/api/v1/targets?state=active')
    assert.equal(activeTargets.length, NODES)
    for (const target of activeTargets) {
      assert.equal(target.health, 'up', JSON.stringify(target))
      assert.equal(target.lastError, '')
    }
  })

  test('every expression of the board parses and returns at least one series', { skip }, async () => {
    const expressions = panelExpressions(board)
    assert.ok(expressions.length >= 30, `${expressions.length} expressions`)
    const failures: string[] = []
    for (const { panel, expr } of expressions) {
      const res = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(promql(expr))}`)
      const body = (await res.json()) as Json
      if (body.status !== 'success') failures.push(`${panel}: ${expr}\n  ${body.error}`)
      else if (body.data.result.length === 0) failures.push(`${panel}: ${expr}\n  no series`)
    }
    assert.deepEqual(failures, [], `${failures.length} of ${expressions.length} expressions failed`)
  })

  test("every variable's label_values query finds values", { skip }, async () => {
    for (const { name, metric, label } of variableQueries(board)) {
      const series = await prometheus.query(promql(metric))
      const values = new Set(series.map((s) => s.metric[label]))
      assert.ok(values.size > 0 && !values.has(undefined), `variable ${name}: ${[...values].join(', ')}`)
    }
  })

  test('the demo swarm has per-peer series, one per peer of the swarm', { skip }, async () => {
    const series = await prometheus.query('libp2p_peer_transfer_bytes_total{peer!="other"}')
    const peers = new Set(series.map((s) => s.metric.peer))
    const ids = new Set(nodes.map((node) => node.peerId.toString()))
    assert.ok(peers.size >= 2, `${peers.size} peers`)
    for (const peer of peers) assert.ok(ids.has(peer!), `${peer} is a node of the swarm`)
  })

  test('promtool accepts the rules, and Prometheus evaluates each one with series', { skip }, async () => {
    assert.ok(PROMTOOL !== undefined, 'promtool comes with prometheus')
    const check = spawnSync(PROMTOOL, ['check', 'rules', RULES], { encoding: 'utf8' })
    assert.equal(check.status, 0, `${check.stdout}${check.stderr}`)
    const { groups } = await prometheus.api('/api/v1/rules')
    const rules = groups.flatMap((g: Json) => g.rules)
    assert.ok(rules.length >= 7, `${rules.length} rules loaded`)
    for (const rule of rules) {
      assert.equal(rule.health, 'ok', `${rule.name}: ${rule.lastError}`)
      const query = rule.type === 'recording' ? rule.name : alertSignal(rule.query)
      const series = await prometheus.query(query)
      assert.ok(series.length > 0, `${rule.name}: ${query} returns series`)
    }
  })
})
