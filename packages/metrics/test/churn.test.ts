import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BandwidthCounter, OVERFLOW_PEER } from '@peerscope/metrics'

test('1,000,000 distinct peers pass through: tracked series stay bounded by the cap, totals stay exact', () => {
  let now = 0
  const counter = new BandwidthCounter({ maxPeers: 1000, clock: () => now })
  let expected = 0
  for (let i = 0; i < 1_000_000; i++) {
    counter.logReceived(3, { peer: `churn-peer-${i}`, protocol: '/churn/1.0.0' })
    expected += 3
    // Every 100,000 peers: a minute passes and idle series are trimmed, as libp2pMetrics does on its timer.
    if (i % 100_000 === 99_999) {
      now += 60_000
      counter.tick()
      counter.trimIdle(now - 30_000)
    }
  }
  assert.equal(counter.totals().totalIn, expected)
  assert.ok(counter.trackedPeers <= 1000, `tracked ${counter.trackedPeers}`)
  // Peers, pairs, the protocol, the totals and the overflow bucket: at most 4 counters each.
  assert.ok(counter.map.size <= (2 * 1001 + 3) * 4, `the map holds ${counter.map.size} counters`)
  const perPeer = [...counter.byPeer().values()].reduce((sum, s) => sum + s.totalIn, 0)
  assert.ok(perPeer <= expected)
  assert.ok(counter.byPeer().has(OVERFLOW_PEER) || counter.trackedPeers < 1000)
})
