import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { comparableLength, expectedFromGo, firstMismatch, partsAt } from '../src/differences.ts'

describe('comparator', () => {
  it('reports the first op that differs', () => {
    const go = [
      { op: 'addrs', result: ['/ip4/127.0.0.1/tcp/1'] },
      { op: 'latency', result: 110 }
    ]
    const ours = [
      { op: 'addrs', result: ['/ip4/127.0.0.1/tcp/1'] },
      { op: 'latency', result: 100 }
    ]
    assert.equal(firstMismatch(go, ours)?.index, 1)
    assert.equal(firstMismatch(go, go), undefined)
  })

  it('an error on one side only is a mismatch', () => {
    assert.equal(
      firstMismatch([{ op: 'get', error: 'item not found' }], [{ op: 'get', result: 'x' }])?.index,
      0
    )
  })

  it('latency agrees within 1 ns per recorded sample, no more (documented difference)', () => {
    const go = [
      { op: 'recordLatency', result: null },
      { op: 'recordLatency', result: null },
      { op: 'latency', result: 206.2 }
    ]
    const ours = (v: number) => [
      { op: 'recordLatency', result: null },
      { op: 'recordLatency', result: null },
      { op: 'latency', result: v }
    ]
    assert.equal(firstMismatch(go, ours(206.20000000000002)), undefined)
    assert.equal(firstMismatch(go, ours(206.2 + 3e-6))?.index, 2)
  })

  it('a go revival of expired addrs ends the comparable prefix after that op (documented difference)', () => {
    const go = [
      { op: 'addrs', result: [] },
      { op: 'updateAddrs', result: { revived: ['/ip4/127.0.0.1/tcp/1'] } },
      { op: 'addrs', result: ['/ip4/127.0.0.1/tcp/1'] }
    ]
    assert.equal(comparableLength(go), 2)
    assert.equal(comparableLength([{ op: 'updateAddrs', result: null }]), 1)
    assert.equal(
      firstMismatch(go.slice(0, 2), [go[0] as { op: string }, { op: 'updateAddrs', result: null }]),
      undefined
    )
  })

  it('a missing op is a mismatch', () => {
    assert.equal(firstMismatch([{ op: 'addrs', result: [] }], [])?.index, 0)
  })

  it('peersWithAddrs compares against go peers with a live addr only (documented difference)', () => {
    const go = { op: 'peersWithAddrs', result: { all: [0, 2], live: [2] } }
    assert.deepEqual(expectedFromGo(go), { op: 'peersWithAddrs', result: { live: [2] } })
    assert.equal(firstMismatch([go], [{ op: 'peersWithAddrs', result: { live: [2] } }]), undefined)
    assert.equal(firstMismatch([go], [{ op: 'peersWithAddrs', result: { live: [0, 2] } }])?.index, 0)
  })

  it('a record that replaces certified addrs in go master ends the comparable prefix (documented difference)', () => {
    const go = [
      { op: 'consumePeerRecord', result: { accepted: true, headDrops: ['/ip4/1.1.1.3/tcp/1111'] } },
      { op: 'addrs', result: ['/ip4/1.1.1.3/tcp/1111'] }
    ]
    assert.equal(partsAt(go[0] as { op: string }), 'recordReplacesCertifiedAddrs')
    assert.equal(comparableLength(go), 1)
    assert.equal(
      firstMismatch(go.slice(0, 1), [{ op: 'consumePeerRecord', result: { accepted: true } }]),
      undefined
    )
    assert.equal(
      firstMismatch(go.slice(0, 1), [{ op: 'consumePeerRecord', result: { accepted: false } }])?.index,
      0
    )
  })

  it("an add that keeps an expired addr's older TTL in go ends the comparable prefix (documented difference)", () => {
    const add = { op: 'addAddrs', result: { staleTtl: ['/ip4/127.0.0.1/tcp/1'] } }
    const consume = {
      op: 'consumePeerRecord',
      result: { accepted: true, staleTtl: ['/ip4/127.0.0.1/tcp/1'] }
    }
    assert.equal(partsAt(add), 'goKeepsExpiredAddrTtl')
    assert.equal(partsAt(consume), 'goKeepsExpiredAddrTtl')
    assert.equal(comparableLength([add, { op: 'addrs', result: [] }]), 1)
    assert.equal(firstMismatch([add], [{ op: 'addAddrs', result: null }]), undefined)
    assert.equal(partsAt({ op: 'addAddrs', result: null }), undefined)
  })

  it('only "too many protocols" vs "too many protocols (limit N)" counts as the same error (documented difference)', () => {
    const go = [{ op: 'addProtocols', error: 'too many protocols' }]
    assert.equal(
      firstMismatch(go, [{ op: 'addProtocols', error: 'too many protocols (limit 10)' }]),
      undefined
    )
    assert.equal(firstMismatch(go, [{ op: 'addProtocols', error: 'too many addrs' }])?.index, 0)
    assert.equal(firstMismatch(go, [{ op: 'addProtocols', result: null }])?.index, 0)
    assert.equal(
      firstMismatch(
        [{ op: 'get', error: 'item not found' }],
        [{ op: 'get', error: 'too many protocols (limit 10)' }]
      )?.index,
      0
    )
  })

  it('object key order does not matter, values do', () => {
    const go = [{ op: 'peerRecord', result: { envelope: 'e', seq: '1' } }]
    assert.equal(firstMismatch(go, [{ op: 'peerRecord', result: { seq: '1', envelope: 'e' } }]), undefined)
    assert.equal(firstMismatch(go, [{ op: 'peerRecord', result: { seq: '2', envelope: 'e' } }])?.index, 0)
  })
})
