import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { compareInConfig, describeMismatch, summarise, type TraceOutcome } from '../src/compare.ts'
import { goSkipReason } from '../src/go-binary.ts'
import { type SuiteTrace, suiteKeys, suiteTraces } from '../src/suite-traces.ts'
import type { StoreConfig } from '../src/trace.ts'

// Every case of go-libp2p v0.52.0's AddrBook, KeyBook and Peerstore suites as a hand-written trace
// (src/suite-traces.ts), played on go's pstoremem and on @peerscope/peerstore-level (LevelDB in a temp
// dir) and compared op by op in both configurations; only the differences in DIFFERENCES.md are accounted for.
const skip = goSkipReason()
if (skip !== undefined) console.log(`# skipped: ${skip}`)

// The trace list is built before the tests are declared so that each case is its own test.
const keys = skip === undefined ? await suiteKeys() : []
const traces: SuiteTrace[] = skip === undefined ? await suiteTraces(keys) : []

for (const config of ['exact', 'defaults'] as StoreConfig[]) {
  describe(`go-libp2p peerstore suites as traces: peerscope vs go-libp2p pstoremem (${config})`, {
    skip
  }, () => {
    let outcomes: Promise<TraceOutcome[]> | undefined
    const played = (): Promise<TraceOutcome[]> => {
      outcomes ??= compareInConfig(
        traces.map((t) => t.trace),
        config
      )
      return outcomes
    }

    for (const [i, t] of traces.entries()) {
      it(t.name, async () => {
        const o = (await played())[i] as TraceOutcome
        if (o.comparison.mismatch !== undefined) assert.fail(describeMismatch(o, t.name))
      })
    }

    it('every trace was compared', async () => {
      const all = await played()
      const s = summarise(all)
      const cut = all
        .map((o, i) =>
          o.comparison.cut === undefined
            ? undefined
            : `${traces[i]?.name} at op ${o.comparison.cut.at} (${o.comparison.cut.why})`
        )
        .filter((c) => c !== undefined)
      console.log(
        `# ${config}: ${s.traces} suite traces, ${s.compared} of ${s.ops} ops compared; cut short: ${cut.join('; ') || 'none'}`
      )
      assert.ok(s.compared > 0)
    })
  })
}
