import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { comparableLength, firstMismatch, partsAt } from '../src/differences.ts'
import { goSkipReason, runGoPeerstoreTraces } from '../src/go-binary.ts'
import { playPeerscope } from '../src/play-peerscope.ts'
import { type SuiteTrace, suiteKeys, suiteTraces } from '../src/suite-traces.ts'
import type { OpResult } from '../src/trace.ts'

// Every case of go-libp2p v0.48.0's AddrBook, KeyBook and Peerstore suites as a hand-written trace
// (src/suite-traces.ts), played on go's pstoremem and on @peerscope/peerstore-level (LevelDB in a temp
// dir) and compared op by op; only the differences in DIFFERENCES.md are accounted for.
const skip = goSkipReason()
if (skip !== undefined) console.log(`# skipped: ${skip}`)

// The trace list is built before the tests are declared so that each case is its own test.
const keys = skip === undefined ? await suiteKeys() : []
const traces: SuiteTrace[] = skip === undefined ? await suiteTraces(keys) : []

describe('go-libp2p peerstore suites as traces: peerscope vs go-libp2p pstoremem', { skip }, () => {
  let go: OpResult[][] = []
  let compared = 0
  const cut: string[] = []

  before(() => {
    go = runGoPeerstoreTraces(traces.map((t) => t.trace)) as OpResult[][]
    assert.equal(go.length, traces.length)
  })

  for (const [i, t] of traces.entries()) {
    it(t.name, async () => {
      const goResults = go[i] as OpResult[]
      const length = comparableLength(goResults)
      if (length < goResults.length) {
        cut.push(`${t.name} at op ${length - 1} (${partsAt(goResults[length - 1] as OpResult)})`)
      }
      const ours = (await playPeerscope(t.trace)).slice(0, length)
      const mismatch = firstMismatch(goResults.slice(0, length), ours)
      if (mismatch !== undefined) {
        assert.fail(
          `op ${mismatch.index} (${mismatch.op}): go ${JSON.stringify(mismatch.go)} vs peerscope ${JSON.stringify(mismatch.peerscope)}\nops: ${JSON.stringify(t.trace.ops.slice(0, mismatch.index + 1).map(({ op, ...rest }) => ({ op, ...rest, envelope: undefined })))}`
        )
      }
      compared += ours.length
    })
  }

  it('every trace was compared', () => {
    console.log(
      `# compared ${traces.length} suite traces, ${compared} ops; cut short: ${cut.join('; ') || 'none'}`
    )
    assert.ok(compared > 0)
  })
})
