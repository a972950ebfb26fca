import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { loadAverage, startBench } from '../src/run.ts'

describe('startBench', () => {
  it('prints the load average and the settings at the start, the load average and one JSON line at the end', () => {
    const lines: string[] = []
    const run = startBench(
      'demo',
      { rounds: 2, variants: ['none', 'ours'], pin: undefined },
      { log: (l) => lines.push(l) }
    )
    assert.equal(lines.length, 2)
    assert.match(
      lines[0]!,
      /^\[demo\] start .*; \d+ CPUs; load average [\d.]+ \/ [\d.]+ \/ [\d.]+ \(1 \/ 5 \/ 15 min\)$/
    )
    assert.equal(lines[1], '[demo] config: rounds=2 variants=none,ours pin=-')
    const conditions = run.finish({ results: { a: 1 } })
    assert.equal(lines.length, 4)
    assert.match(lines[2]!, /^\[demo\] end after [\d.]+ s; load average [\d.]+ \/ /)
    // The last line is the JSON `pnpm bench` collects: it starts with the bench's name.
    assert.ok(lines[3]!.startsWith('{"bench":"demo",'))
    const json = JSON.parse(lines[3]!)
    assert.deepEqual(json.results, { a: 1 })
    assert.deepEqual(json.config, { rounds: 2, variants: ['none', 'ours'] })
    assert.deepEqual(json.conditions, conditions)
    assert.equal(conditions.loadAverageStart.length, 3)
    assert.ok(conditions.seconds >= 0)
  })

  it('prints no config line without settings, and ends once', () => {
    const lines: string[] = []
    const run = startBench('bare', {}, { log: (l) => lines.push(l) })
    assert.equal(lines.length, 1)
    run.finish({})
    assert.throws(() => run.finish({}), /called twice/)
  })

  it('reads three load averages', () => {
    const load = loadAverage()
    assert.equal(load.length, 3)
    for (const n of load) assert.ok(Number.isFinite(n) && n >= 0)
  })
})
