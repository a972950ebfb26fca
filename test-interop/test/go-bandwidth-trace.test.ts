import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { goSkipReason, runGoTrace } from '../src/go-binary.ts'

// go-libp2p's BandwidthCounter on a mock clock (reference §7); asserts go's own
// behaviour until @peerscope/metrics is wired into the comparison.
const skip = goSkipReason()
if (skip !== undefined) console.log(`# skipped: ${skip}`)

interface Stats {
  totalIn: number
  totalOut: number
  rateIn: number
  rateOut: number
}
interface Snapshot {
  totals: Stats
  byPeer: Record<string, Stats>
  byProtocol: Record<string, Stats>
}

function snapshots(ops: unknown[]): Snapshot[] {
  const out = runGoTrace('bandwidth-trace', { ops }) as { op: string; result?: Snapshot }[]
  return out.filter((r) => r.op === 'stats').map((r) => r.result as Snapshot)
}

describe('go bandwidth-trace (go-libp2p v0.52.0 BandwidthCounter)', { skip }, () => {
  it('totals lag a sweep; stream logs count per peer and protocol, not in totals', () => {
    const [before, after] = snapshots([
      { op: 'sent', bytes: 1000, peer: 'p1', protocol: '/echo' },
      { op: 'recv', bytes: 300 },
      { op: 'stats' },
      { op: 'advance', ms: 1000 },
      { op: 'stats' }
    ])
    assert.deepEqual(before?.totals, { totalIn: 0, totalOut: 0, rateIn: 0, rateOut: 0 })
    assert.equal(after?.totals.totalIn, 300)
    assert.equal(after?.totals.totalOut, 0)
    assert.equal(after?.byPeer.p1?.totalOut, 1000)
    assert.equal(after?.byProtocol['/echo']?.totalOut, 1000)
  })

  it('a steady 1000 B/s reads as rate 1000 once the meter has been swept', () => {
    const [first, second] = snapshots([
      { op: 'sent', bytes: 1000 },
      { op: 'advance', ms: 1000 },
      { op: 'sent', bytes: 1000 },
      { op: 'advance', ms: 1000 },
      { op: 'stats' },
      { op: 'sent', bytes: 1000 },
      { op: 'advance', ms: 1000 },
      { op: 'stats' }
    ])
    assert.equal(first?.totals.totalOut, 2000)
    assert.equal(first?.totals.rateOut, 1000)
    assert.equal(second?.totals.totalOut, 3000)
    assert.equal(second?.totals.rateOut, 1000)
  })
})
