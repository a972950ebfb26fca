import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { comparableLength, firstMismatch, partsAt } from '../src/differences.ts'
import { goSkipReason, runGoPeerstoreTraces } from '../src/go-binary.ts'
import { playPeerscope } from '../src/play-peerscope.ts'
import { randomOps } from '../src/random-trace.ts'
import { type KeySet, keySet, type OpResult, type PeerstoreTrace, sealRecords } from '../src/trace.ts'

const skip = goSkipReason()
if (skip !== undefined) console.log(`# skipped: ${skip}`)

const TRACES = Number(process.env.INTEROP_TRACES ?? 1000)
const OPS_PER_TRACE = 30
const baseSeed = Number(process.env.INTEROP_SEED ?? Date.now() % 2 ** 31)

describe('@peerscope/peerstore-level vs go-libp2p pstoremem, random traces', { skip }, () => {
  let ks: KeySet
  before(async () => {
    ks = await keySet(3)
  })

  it(`${TRACES} seeded random traces agree op by op`, async () => {
    const traces: PeerstoreTrace[] = []
    for (let i = 0; i < TRACES; i++)
      traces.push(await sealRecords({ keys: ks.keys, ops: randomOps(baseSeed + i, 3, OPS_PER_TRACE) }))
    const goResults = runGoPeerstoreTraces(traces) as OpResult[][]
    let compared = 0
    const cutShort = new Map<string, number>()
    for (let i = 0; i < TRACES; i++) {
      const trace = traces[i] as PeerstoreTrace
      const go = goResults[i] as OpResult[]
      const length = comparableLength(go)
      if (length < go.length) {
        const why = partsAt(go[length - 1] as OpResult) ?? 'unknown'
        cutShort.set(why, (cutShort.get(why) ?? 0) + 1)
      }
      const ours = (await playPeerscope(trace)).slice(0, length)
      const mismatch = firstMismatch(go.slice(0, length), ours)
      if (mismatch !== undefined) {
        console.log(`# replay with INTEROP_SEED=${baseSeed + i} INTEROP_TRACES=1`)
        assert.fail(
          `seed ${baseSeed + i}, op ${mismatch.index} (${mismatch.op}): go ${JSON.stringify(mismatch.go)} vs peerscope ${JSON.stringify(mismatch.peerscope)}\ntrace ops: ${JSON.stringify(trace.ops.slice(0, mismatch.index + 1).map((op) => ({ ...op, envelope: undefined })))}`
        )
      }
      compared += ours.length
    }
    console.log(
      `# compared ${TRACES} traces, ${compared} ops (base seed ${baseSeed}); cut short: ${JSON.stringify(Object.fromEntries(cutShort))}`
    )
  })
})
