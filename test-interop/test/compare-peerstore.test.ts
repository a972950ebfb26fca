import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { compareInConfig, describeMismatch, summarise } from '../src/compare.ts'
import { goSkipReason } from '../src/go-binary.ts'
import { randomTrace } from '../src/random-trace.ts'
import { type KeySet, keySet, type PeerstoreTrace, type StoreConfig, sealRecords } from '../src/trace.ts'

// Seeded random traces played on go-libp2p v0.52.0's pstoremem and on @peerscope/peerstore-level (LevelDB in a
// temp dir), compared op by op, in both configurations: the exact model (per-peer cap and peerscope's GC rule
// off) and each store's defaults. Only DIFFERENCES.md is accounted for.
const skip = goSkipReason()
if (skip !== undefined) console.log(`# skipped: ${skip}`)

const TRACES = Number(process.env.INTEROP_TRACES ?? 1000)
const SHAPE = { length: 40, peers: 3 }
/** Every 8th trace runs on LevelDB (with the journal); the others on memory-level, the same store code. */
const ON_LEVELDB_EVERY = 8
const baseSeed = Number(process.env.INTEROP_SEED ?? Date.now() % 2 ** 31)

describe('@peerscope/peerstore-level vs go-libp2p pstoremem, random traces', { skip }, () => {
  let ks: KeySet
  const traces: PeerstoreTrace[] = []
  before(async () => {
    ks = await keySet(SHAPE.peers)
    for (let i = 0; i < TRACES; i++)
      traces.push(await sealRecords(randomTrace(baseSeed + i, ks.keys, ks.peerIds, SHAPE)))
  })

  for (const config of ['exact', 'defaults'] as StoreConfig[]) {
    it(`${TRACES} seeded random traces agree op by op (${config} configuration)`, async () => {
      const started = performance.now()
      const outcomes = await compareInConfig(traces, config, { memoryExceptEvery: ON_LEVELDB_EVERY })
      for (const [i, o] of outcomes.entries()) {
        if (o.comparison.mismatch === undefined) continue
        const seed = baseSeed + i
        console.log(`# replay with INTEROP_SEED=${seed} INTEROP_TRACES=1`)
        assert.fail(describeMismatch(o, `seed ${seed} (${config})`))
      }
      const s = summarise(outcomes)
      console.log(
        `# ${config}: ${s.traces} traces (base seed ${baseSeed}), ${s.compared} of ${s.ops} ops compared; cut short: ${JSON.stringify(s.cuts)}; ${((performance.now() - started) / 1000).toFixed(1)} s`
      )
    })
  }
})
