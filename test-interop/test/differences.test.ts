import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { compareTrace, expectedFromGo } from '../src/differences.ts'
import type { OpResult } from '../src/trace.ts'

// The comparator on hand-made results: each rule accounts for its difference and for nothing else.
describe('comparator', () => {
  it('reports the first op that differs', () => {
    const go = [
      { op: 'addrs', result: ['/ip4/127.0.0.1/tcp/1'] },
      { op: 'getProtocols', result: ['/a'] }
    ]
    const ours = [
      { op: 'addrs', result: ['/ip4/127.0.0.1/tcp/1'] },
      { op: 'getProtocols', result: [] }
    ]
    assert.equal(compareTrace(go, ours).mismatch?.index, 1)
    assert.deepEqual(compareTrace(go, go), { compared: 2 })
  })

  it('an error on one side only, or a missing op, is a mismatch', () => {
    assert.equal(
      compareTrace([{ op: 'get', error: 'item not found' }], [{ op: 'get', result: 'x' }]).mismatch?.index,
      0
    )
    assert.equal(compareTrace([{ op: 'addrs', result: [] }], []).mismatch?.index, 0)
    assert.equal(compareTrace([], [{ op: 'addrs', result: [] }]).mismatch?.op, 'length')
  })

  it('latencyNanosecondTruncation: within 1 ns per recorded sample, no more', () => {
    const go = [
      { op: 'recordLatency', result: null },
      { op: 'recordLatency', result: null },
      { op: 'latency', result: 206.2 }
    ]
    const ours = (v: number): OpResult[] => [
      go[0] as OpResult,
      go[1] as OpResult,
      { op: 'latency', result: v }
    ]
    assert.equal(compareTrace(go, ours(206.20000000000002)).mismatch, undefined)
    assert.equal(compareTrace(go, ours(206.2 + 3e-6)).mismatch?.index, 2)
  })

  it('peersWithAddrsFiltered: compared with go peers that have a live addr', () => {
    const go = { op: 'peersWithAddrs', result: { all: [0, 2], live: [2] } }
    assert.deepEqual(expectedFromGo(go), { op: 'peersWithAddrs', result: { live: [2] } })
    assert.equal(compareTrace([go], [{ op: 'peersWithAddrs', result: { live: [2] } }]).mismatch, undefined)
    assert.equal(compareTrace([go], [{ op: 'peersWithAddrs', result: { live: [0, 2] } }]).mismatch?.index, 0)
  })

  it('peersListsEveryRecord: compared with the peers holding anything, not go Peers()', () => {
    const go = { op: 'peers', result: { peers: [0], anyRecord: [0, 2] } }
    assert.equal(compareTrace([go], [{ op: 'peers', result: [0, 2] }]).mismatch, undefined)
    assert.equal(compareTrace([go], [{ op: 'peers', result: [0] }]).mismatch?.index, 0)
  })

  it('goKeepsExpiredAddrTtl: the op is compared, then the trace stops after it', () => {
    const go = [
      { op: 'addAddrs', result: { staleTtl: ['/ip4/127.0.0.1/tcp/1'] } },
      { op: 'addrs', result: [] }
    ]
    const c = compareTrace(go, [
      { op: 'addAddrs', result: null },
      { op: 'addrs', result: ['/x'] }
    ])
    assert.deepEqual(c, { compared: 1, cut: { at: 0, why: 'goKeepsExpiredAddrTtl' } })
    assert.equal(compareTrace(go, [{ op: 'addAddrs', error: 'boom' }]).mismatch?.index, 0)
  })

  it('perPeerCapTieOrder: stops only where peerscope holds other addrs than go', () => {
    const go = [
      { op: 'addAddrs', result: { capTie: ['/a 1 2', '/b 1 2'] } },
      { op: 'addrs', result: ['/a', '/b'] }
    ]
    const same = [{ op: 'addAddrs', result: null, state: ['/a 1 2', '/b 1 2'] }, go[1] as OpResult]
    assert.deepEqual(compareTrace(go, same), { compared: 2 })
    const other = [
      { op: 'addAddrs', result: null, state: ['/a 1 2', '/c 1 2'] },
      { op: 'addrs', result: ['/a', '/c'] }
    ]
    assert.deepEqual(compareTrace(go, other), { compared: 1, cut: { at: 0, why: 'perPeerCapTieOrder' } })
  })

  it('streamSkipsExpiredAddrs: a take may differ in the addrs expired at the open, and in nothing else', () => {
    const go = [
      { op: 'addrStreamOpen', result: { expiredAtOpen: ['/x'] } },
      { op: 'addrStreamTake', result: { addrs: ['/a', '/x'], expiredAtOpen: ['/x'] } }
    ]
    const ours = (take: string[]): OpResult[] => [
      { op: 'addrStreamOpen', result: null },
      { op: 'addrStreamTake', result: take }
    ]
    assert.equal(compareTrace(go, ours(['/a'])).mismatch, undefined)
    assert.equal(compareTrace(go, ours(['/a', '/x'])).mismatch, undefined)
    assert.equal(compareTrace(go, ours([])).mismatch?.index, 1)
    assert.equal(compareTrace(go, ours(['/a', '/b'])).mismatch?.index, 1)
  })

  it('goNeverCollectsDowngradedAddrs: a gc that kept expired addrs ends the comparison after it', () => {
    const go = [
      { op: 'gc', result: { dropped: [], keptExpired: ['/a'] } },
      { op: 'addrs', result: [] }
    ]
    const c = compareTrace(go, [
      { op: 'gc', result: { dropped: [] } },
      { op: 'addrs', result: ['/z'] }
    ])
    assert.deepEqual(c, { compared: 1, cut: { at: 0, why: 'goNeverCollectsDowngradedAddrs' } })
    // peerscope may drop more peers (it collected what go kept), never fewer.
    const goDropped = [{ op: 'gc', result: { dropped: [1], keptExpired: ['/a'] } }]
    assert.equal(compareTrace(goDropped, [{ op: 'gc', result: { dropped: [0, 1] } }]).mismatch, undefined)
    assert.equal(compareTrace(goDropped, [{ op: 'gc', result: { dropped: [0] } }]).mismatch?.index, 0)
  })

  it('tooManyProtocolsMessage: only that pair of messages counts as the same error', () => {
    const go = [{ op: 'addProtocols', error: 'too many protocols' }]
    assert.equal(
      compareTrace(go, [{ op: 'addProtocols', error: 'too many protocols (limit 10, limits.maxProtocols)' }])
        .mismatch,
      undefined
    )
    assert.equal(compareTrace(go, [{ op: 'addProtocols', error: 'too many addrs' }]).mismatch?.index, 0)
    assert.equal(compareTrace(go, [{ op: 'addProtocols', result: null }]).mismatch?.index, 0)
    assert.equal(
      compareTrace(
        [{ op: 'get', error: 'item not found' }],
        [{ op: 'get', error: 'too many protocols (limit 10, limits.maxProtocols)' }]
      ).mismatch?.index,
      0
    )
  })

  it('consumePeerRecord is compared on accepted only', () => {
    const go = [{ op: 'consumePeerRecord', result: { accepted: true, staleTtl: ['/a'] } }]
    assert.equal(
      compareTrace(go, [{ op: 'consumePeerRecord', result: { accepted: true } }]).mismatch,
      undefined
    )
    assert.equal(
      compareTrace(go, [{ op: 'consumePeerRecord', result: { accepted: false } }]).mismatch?.index,
      0
    )
  })
})
