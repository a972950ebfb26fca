import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { BandwidthCounter } from '@peerscope/metrics'
import { openPeerStore } from '@peerscope/peerstore-level'
import { MemoryLevel } from 'memory-level'
import { compareTrace, DIFFERENCES, type DifferenceId } from '../src/differences.ts'
import { goSkipReason, runGoPeerstoreTraces, runGoTrace } from '../src/go-binary.ts'
import { playPeerscope } from '../src/play-peerscope.ts'
import {
  configure,
  type KeySet,
  keySet,
  type OpResult,
  type PeerstoreOp,
  type PeerstoreTrace,
  type StoreConfig
} from '../src/trace.ts'

// Every difference in DIFFERENCES.md shown on both sides: a trace where go does one thing and peerscope
// another, asserted on each side's raw results, and then accounted for by the comparator (and by nothing
// broader). If a difference stops being true, its test fails.
const skip = goSkipReason()
if (skip !== undefined) console.log(`# skipped: ${skip}`)

const A = '/ip4/127.0.0.1/tcp/1'
const B = '/ip4/127.0.0.1/tcp/2'

describe('each documented difference, demonstrated on both sides', { skip }, () => {
  let ks: KeySet
  const shown = new Set<DifferenceId>()
  before(async () => {
    ks = await keySet(3)
  })

  async function both(
    ops: PeerstoreOp[],
    config: StoreConfig = 'exact',
    extra: Partial<PeerstoreTrace> = {}
  ): Promise<{ go: OpResult[]; ours: OpResult[] }> {
    const trace = configure({ keys: ks.keys, ops, ...extra }, config)
    const [go] = runGoPeerstoreTraces([trace]) as OpResult[][]
    return { go: go as OpResult[], ours: await playPeerscope(trace) }
  }

  it('peersWithAddrsFiltered: go lists a peer whose addrs all expired; peerscope does not', async () => {
    const { go, ours } = await both([
      { op: 'addAddrs', peer: 0, addrs: [A], ttl: 10 },
      { op: 'advance', ms: 20 },
      { op: 'peersWithAddrs', peer: 0 }
    ])
    assert.deepEqual(go[2]?.result, { all: [0], live: [] })
    assert.deepEqual(ours[2]?.result, { live: [] })
    assert.deepEqual(compareTrace(go, ours), { compared: 3 })
    shown.add('peersWithAddrsFiltered')
  })

  it('latencyNanosecondTruncation: go truncates the EWMA to whole ns; peerscope keeps the fraction', async () => {
    // 1 ns, then 6 ns: 0.9·1 + 0.1·6 = 1.5 ns.
    const { go, ours } = await both([
      { op: 'recordLatency', peer: 0, ms: 0.000001 },
      { op: 'recordLatency', peer: 0, ms: 0.000006 },
      { op: 'latency', peer: 0 }
    ])
    assert.equal(go[2]?.result, 0.000001)
    assert.ok(Math.abs((ours[2]?.result as number) - 0.0000015) < 1e-15)
    assert.deepEqual(compareTrace(go, ours), { compared: 3 })
    shown.add('latencyNanosecondTruncation')
  })

  it('goKeepsExpiredAddrTtl: go re-adds an expired addr at its old, larger TTL; peerscope afresh', async () => {
    const { go, ours } = await both([
      { op: 'addAddrs', peer: 0, addrs: [A], ttl: 5000 },
      { op: 'advance', ms: 6000 },
      { op: 'addAddrs', peer: 0, addrs: [A], ttl: 1000 },
      { op: 'updateAddrs', peer: 0, oldTtl: 5000, newTtl: 0 },
      { op: 'addrs', peer: 0 }
    ])
    assert.deepEqual(go[4]?.result, [], 'go matched the addr by its old TTL and deleted it')
    assert.deepEqual(ours[4]?.result, [A], 'peerscope holds it at 1000 ms')
    assert.deepEqual(compareTrace(go, ours), { compared: 3, cut: { at: 2, why: 'goKeepsExpiredAddrTtl' } })
    shown.add('goKeepsExpiredAddrTtl')
  })

  it('peersListsEveryRecord: go Peers() leaves out a peer with only protocols, metadata or latency', async () => {
    const { go, ours } = await both([
      { op: 'addProtocols', peer: 0, protocols: ['/a'] },
      { op: 'put', peer: 1, key: 'k', value: 'v' },
      { op: 'recordLatency', peer: 2, ms: 5 },
      { op: 'peers' }
    ])
    assert.deepEqual(go[3]?.result, { peers: [], anyRecord: [0, 1, 2] })
    assert.deepEqual(ours[3]?.result, [0, 1, 2])
    assert.deepEqual(compareTrace(go, ours), { compared: 4 })
    shown.add('peersListsEveryRecord')
  })

  it('streamSkipsExpiredAddrs: go streams an expired, uncollected addr at the open; peerscope only live ones', async () => {
    const { go, ours } = await both([
      { op: 'addAddrs', peer: 0, addrs: [A], ttl: 10 },
      { op: 'addAddrs', peer: 0, addrs: [B], ttl: 60_000 },
      { op: 'advance', ms: 20 },
      { op: 'addrStreamOpen', peer: 0, stream: 1 },
      { op: 'addrStreamTake', stream: 1 }
    ])
    assert.deepEqual(go[4]?.result, { addrs: [A, B], expiredAtOpen: [A] })
    assert.deepEqual(ours[4]?.result, [B])
    assert.deepEqual(compareTrace(go, ours), { compared: 5 })
    shown.add('streamSkipsExpiredAddrs')
  })

  it('perPeerCapTieOrder: among addrs of one expiry, go evicts in map order; peerscope the first in key order', async () => {
    const addrs = Array.from({ length: 65 }, (_, i) => `/ip4/10.0.${i}.1/tcp/1`)
    const ops: PeerstoreOp[] = [
      { op: 'addAddrs', peer: 0, addrs: addrs.slice(0, 64), ttl: 60_000 },
      { op: 'addAddrs', peer: 0, addrs: addrs.slice(64), ttl: 60_000 },
      { op: 'addrs', peer: 0 }
    ]
    const ours = await playPeerscope(configure({ keys: ks.keys, ops }, 'defaults'))
    const missing = (r: OpResult | undefined) =>
      addrs.filter((a) => !((r?.result ?? []) as string[]).includes(a))
    // peerscope: the first of the 64 in key order, always.
    assert.deepEqual(missing(ours[2]), [[...addrs.slice(0, 64)].sort()[0]])
    // go: map order, so over 8 runs the evicted addr is not always peerscope's.
    const runs = runGoPeerstoreTraces(
      Array.from({ length: 8 }, () => configure({ keys: ks.keys, ops }, 'defaults'))
    ) as OpResult[][]
    const evicted = new Set(runs.map((go) => missing(go[2])[0]))
    assert.ok(evicted.size > 1, `go evicted ${[...evicted]} in 8 runs`)
    for (const go of runs) {
      assert.ok(
        (go[1]?.result as { capTie?: unknown } | undefined)?.capTie !== undefined,
        'go reports the tie'
      )
      const c = compareTrace(go, ours)
      assert.equal(c.mismatch, undefined)
      if (missing(go[2])[0] !== missing(ours[2])[0])
        assert.deepEqual(c.cut, { at: 1, why: 'perPeerCapTieOrder' })
      else assert.equal(c.cut, undefined)
    }
    shown.add('perPeerCapTieOrder')
  })

  it("gcRemovesBarePeers: after GC go keeps a peer's protocols when its addrs are gone; peerscope's rule drops them", async () => {
    const ops: PeerstoreOp[] = [
      { op: 'addProtocols', peer: 0, protocols: ['/a'] },
      { op: 'addAddrs', peer: 0, addrs: [A], ttl: 10 },
      { op: 'advance', ms: 20 },
      { op: 'gc' },
      { op: 'getProtocols', peer: 0 }
    ]
    // go's own GC (the exact configuration's go side) against peerscope's defaults.
    const [goPlain] = runGoPeerstoreTraces([configure({ keys: ks.keys, ops }, 'exact')]) as OpResult[][]
    const { go, ours } = await both(ops, 'defaults')
    assert.deepEqual(goPlain?.[4]?.result, ['/a'])
    assert.deepEqual(ours[4]?.result, [])
    assert.deepEqual(ours[3]?.result, { dropped: [0] })
    // In the defaults configuration the Go program applies the rule, and the stores agree.
    assert.deepEqual(go[3]?.result, { dropped: [0] })
    assert.deepEqual(compareTrace(go, ours), { compared: 5 })
    shown.add('gcRemovesBarePeers')
  })

  it('goNeverCollectsDowngradedAddrs: go never collects a lowered connected addr; peerscope does', async () => {
    const { go, ours } = await both([
      { op: 'addAddrs', peer: 0, addrs: [A], ttl: 'connected' },
      { op: 'updateAddrs', peer: 0, oldTtl: 'connected', newTtl: 10 },
      { op: 'advance', ms: 20 },
      { op: 'gc' },
      { op: 'peersWithAddrs', peer: 0 }
    ])
    assert.deepEqual(go[3]?.result, { dropped: [], keptExpired: [A] })
    assert.deepEqual(go[4]?.result, { all: [0], live: [] }, 'go still holds the peer')
    assert.deepEqual(ours[3]?.result, { dropped: [0] }, 'peerscope collected it (nothing else was held)')
    assert.deepEqual(compareTrace(go, ours), {
      compared: 4,
      cut: { at: 3, why: 'goNeverCollectsDowngradedAddrs' }
    })
    shown.add('goNeverCollectsDowngradedAddrs')
  })

  it('tooManyProtocolsMessage: the same refusal, worded differently', async () => {
    const { go, ours } = await both([{ op: 'addProtocols', peer: 0, protocols: ['/a', '/b'] }], 'exact', {
      maxProtocols: 1
    })
    assert.equal(go[0]?.error, 'too many protocols')
    assert.equal(ours[0]?.error, 'too many protocols (limit 1, limits.maxProtocols)')
    assert.deepEqual(compareTrace(go, ours), { compared: 1 })
    shown.add('tooManyProtocolsMessage')
  })

  it("privateKeyLocalOnly: go stores another peer's private key; peerscope has no way to", async () => {
    const { go, ours } = await both(
      [
        { op: 'addPrivKey', peer: 1 },
        { op: 'privKey', peer: 1 },
        { op: 'privKey', peer: 0 }
      ],
      'exact',
      { local: 0 }
    )
    assert.equal(go[1]?.result, ks.keys[1])
    assert.equal(go[2]?.result, ks.keys[0])
    assert.match(ours[0]?.error ?? '', /no private key but the local one/)
    assert.equal(ours[1]?.result, null)
    assert.equal(ours[2]?.result, ks.keys[0], 'the local key, given at open')
    const store = await openPeerStore({ db: new MemoryLevel() })
    assert.equal('addPrivKey' in store, false)
    await store.close()
    shown.add('privateKeyLocalOnly')
  })

  it('every peerstore difference in DIFFERENCES.md was demonstrated', () => {
    assert.deepEqual([...shown].sort(), Object.keys(DIFFERENCES).sort())
  })
})

describe('each documented bandwidth difference, demonstrated on both sides', { skip }, () => {
  type GoStats = { totalIn: number; totalOut: number }
  type GoOut = Array<{ op: string; result?: { totals: GoStats; byPeer: Record<string, GoStats> } }>
  const stats = (out: GoOut) => out.filter((r) => r.op === 'stats').map((r) => r.result!)

  it('totalsLagASweep: go totals move only at a sweep; peerscope at once', () => {
    const out = stats(
      runGoTrace('bandwidth-trace', {
        ops: [{ op: 'sent', bytes: 100 }, { op: 'stats' }, { op: 'advance', ms: 1000 }, { op: 'stats' }]
      }) as GoOut
    )
    assert.deepEqual([out[0]?.totals.totalOut, out[1]?.totals.totalOut], [0, 100])
    const counter = new BandwidthCounter({ clock: () => 0 })
    counter.logSent(100)
    assert.equal(counter.totals().totalOut, 100)
  })

  it('oneCallPerEvent: go counts totals only through LogSentMessage; peerscope counts all in one call', () => {
    const out = stats(
      runGoTrace('bandwidth-trace', {
        ops: [
          { op: 'sent', bytes: 100, peer: 'p', protocol: '/x' },
          { op: 'advance', ms: 1000 },
          { op: 'stats' }
        ]
      }) as GoOut
    )
    assert.equal(out[0]?.totals.totalOut, 0, 'the per-stream call alone leaves go totals at 0')
    assert.equal(out[0]?.byPeer.p?.totalOut, 100)
    const counter = new BandwidthCounter({ clock: () => 0 })
    counter.logSent(100, { peer: 'p', protocol: '/x' })
    assert.deepEqual([counter.totals().totalOut, counter.forPeer('p')?.totalOut], [100, 100])
  })

  it('readsCreateEntries: a go read of an unknown peer creates it; a peerscope read does not', () => {
    const out = stats(
      runGoTrace('bandwidth-trace', { ops: [{ op: 'readPeer', peer: 'ghost' }, { op: 'stats' }] }) as GoOut
    )
    assert.deepEqual(Object.keys(out[0]?.byPeer ?? {}), ['ghost'])
    const counter = new BandwidthCounter({ clock: () => 0 })
    assert.equal(counter.forPeer('ghost'), undefined)
    assert.deepEqual([...counter.byPeer().keys()], [])
  })
})
