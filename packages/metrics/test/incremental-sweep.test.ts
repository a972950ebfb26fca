import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  BandwidthCounter,
  bandwidthFamilies,
  IDLE_RATE,
  OVERFLOW_PEER,
  RATE_ALPHA,
  type Stats
} from '@peerscope/metrics'
import fc from 'fast-check'
import { busiest } from '../src/export/busiest.ts'

// The counter sweeps only the series that saw events and decays the others when they are read; these tests hold
// it to the eager sweep of go-flow-metrics (every meter, every second), written here as a model, number for number.

/** go-flow-metrics' meter as the eager sweep runs it: every registered meter at every sweep. */
class EagerMeter {
  snapshot = 0
  registered = false
  rate = 0

  sweep(total: number, elapsedMs: number): void {
    const delta = total - this.snapshot
    if (!this.registered) {
      if (delta === 0) return
      this.registered = true
      this.snapshot = total
      return
    }
    const instant = (delta * 1000) / elapsedMs
    this.rate = this.rate === 0 ? instant : this.rate + RATE_ALPHA * (instant - this.rate)
    this.snapshot = total
    if (this.rate <= IDLE_RATE) {
      this.rate = 0
      this.registered = false
    }
  }
}

class EagerModel {
  readonly series = new Map<string, { totalIn: number; totalOut: number; in: EagerMeter; out: EagerMeter }>()
  lastSweep: number

  constructor(now: number) {
    this.lastSweep = now
    this.#get('total')
  }

  count(
    direction: 'in' | 'out',
    bytes: number,
    peer: string | undefined,
    protocol: string | undefined
  ): void {
    const keys = ['total']
    if (peer !== undefined) keys.push(`peer ${peer}`)
    if (protocol !== undefined) keys.push(`protocol ${protocol}`)
    for (const key of keys) {
      const s = this.#get(key)
      if (direction === 'in') s.totalIn += bytes
      else s.totalOut += bytes
    }
  }

  tick(now: number): void {
    const elapsed = now - this.lastSweep
    if (elapsed <= 100) return
    this.lastSweep = now
    for (const s of this.series.values()) {
      s.in.sweep(s.totalIn, elapsed)
      s.out.sweep(s.totalOut, elapsed)
    }
  }

  #get(key: string) {
    let s = this.series.get(key)
    if (s === undefined) {
      s = { totalIn: 0, totalOut: 0, in: new EagerMeter(), out: new EagerMeter() }
      this.series.set(key, s)
    }
    return s
  }
}

const PEERS = ['a', 'b', 'c', 'd']
const PROTOCOLS = ['/x', '/y']

type Op =
  | {
      op: 'count'
      direction: 'in' | 'out'
      bytes: number
      peer?: string
      protocol?: string
      channel: boolean
    }
  | { op: 'advance'; ms: number }
  | { op: 'tick' }
  | { op: 'silence'; seconds: number }
  | { op: 'read' }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('count' as const),
      direction: fc.constantFrom('in' as const, 'out' as const),
      bytes: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 1, max: 5 })),
      peer: fc.option(fc.constantFrom(...PEERS), { nil: undefined }),
      protocol: fc.option(fc.constantFrom(...PROTOCOLS), { nil: undefined }),
      channel: fc.boolean()
    })
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 3000 }) })
  },
  { weight: 3, arbitrary: fc.constant({ op: 'tick' as const }) },
  // Long enough silences for meters to decay all the way to idle (about 30 s after a burst).
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('silence' as const), seconds: fc.integer({ min: 1, max: 70 }) })
  },
  { weight: 2, arbitrary: fc.constant({ op: 'read' as const }) }
)

function compareRates(counter: BandwidthCounter, model: EagerModel, where: string): void {
  const check = (key: string, stats: Stats | undefined) => {
    const m = model.series.get(key)
    assert.equal(stats?.totalIn ?? 0, m?.totalIn ?? 0, `${where} ${key} totalIn`)
    assert.equal(stats?.totalOut ?? 0, m?.totalOut ?? 0, `${where} ${key} totalOut`)
    // Exact: the same floating-point steps, whenever they are taken.
    assert.equal(stats?.rateIn ?? 0, m?.in.rate ?? 0, `${where} ${key} rateIn`)
    assert.equal(stats?.rateOut ?? 0, m?.out.rate ?? 0, `${where} ${key} rateOut`)
  }
  check('total', counter.totals())
  for (const peer of PEERS) check(`peer ${peer}`, counter.forPeer(peer))
  for (const protocol of PROTOCOLS) check(`protocol ${protocol}`, counter.forProtocol(protocol))
}

/** Published rates (milli-bytes/s in the map) are the model's rates as of the last sweep. */
function comparePublished(counter: BandwidthCounter, model: EagerModel, where: string): void {
  const map = counter.map
  for (const [key, s] of model.series) {
    const [kind, name] = key === 'total' ? ['total', 'total'] : key.split(' ')
    const prefix = `${kind}\u0000${name}\u0000`
    if (!map.has(`${prefix}bi`)) continue
    assert.equal(map.get(`${prefix}ri`) ?? 0, Math.round(s.in.rate * 1000), `${where} ${key} published ri`)
    assert.equal(map.get(`${prefix}ro`) ?? 0, Math.round(s.out.rate * 1000), `${where} ${key} published ro`)
  }
}

describe('the incremental sweep gives the eager sweep’s rates exactly', () => {
  test('random traces: totals and rates of every series after every step, read or not', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 120 }), fc.boolean(), (ops, publishRates) => {
        let now = 1_000_000
        const counter = new BandwidthCounter({ clock: () => now, publishRates })
        const model = new EagerModel(now)
        const channels = new Map<string, ReturnType<BandwidthCounter['channel']>>()
        ops.forEach((op, i) => {
          const where = `step ${i} (${op.op})`
          if (op.op === 'count') {
            const attribution = {
              ...(op.peer === undefined ? {} : { peer: op.peer }),
              ...(op.protocol === undefined ? {} : { protocol: op.protocol })
            }
            if (op.channel) {
              const key = `${op.peer}/${op.protocol}`
              let channel = channels.get(key)
              if (channel === undefined) {
                channel = counter.channel(attribution)
                channels.set(key, channel)
              }
              if (op.direction === 'in') channel.received(op.bytes)
              else channel.sent(op.bytes)
            } else if (op.direction === 'in') counter.logReceived(op.bytes, attribution)
            else counter.logSent(op.bytes, attribution)
            model.count(op.direction, op.bytes, op.peer, op.protocol)
          } else if (op.op === 'advance') now += op.ms
          else if (op.op === 'tick') {
            counter.tick()
            model.tick(now)
          } else if (op.op === 'silence') {
            for (let s = 0; s < op.seconds; s++) {
              now += 1000
              counter.tick()
              model.tick(now)
            }
          } else {
            compareRates(counter, model, where)
            if (publishRates) comparePublished(counter, model, where)
          }
        })
        compareRates(counter, model, 'end')
        if (publishRates) comparePublished(counter, model, 'end')
      }),
      { numRuns: 300 }
    )
  })

  test('a series read only after 10,000 idle sweeps reads what 10,000 eager sweeps give', () => {
    let now = 0
    const counter = new BandwidthCounter({ clock: () => now })
    const model = new EagerModel(now)
    for (const bytes of [5000, 7000, 3000]) {
      counter.logSent(bytes, { peer: 'a' })
      model.count('out', bytes, 'a', undefined)
      now += 1000
      counter.tick()
      model.tick(now)
    }
    for (let i = 0; i < 10_000; i++) {
      now += 1000
      counter.tick()
      model.tick(now)
      if (i === 4) compareRates(counter, model, 'after 5 idle sweeps')
    }
    compareRates(counter, model, 'after 10,000 idle sweeps')
    assert.equal(counter.forPeer('a')?.rateOut, 0, 'idle and unregistered')
  })
})

/** The per-peer family as a full sort of every peer gives it. */
function expectedPeerSamples(counter: BandwidthCounter, limit: number): string[] {
  const peers = [...counter.byPeer()].sort(
    ([p, a], [q, b]) => b.totalIn + b.totalOut - (a.totalIn + a.totalOut) || (p < q ? -1 : p > q ? 1 : 0)
  )
  const top = peers.slice(0, limit).filter(([peer]) => peer !== OVERFLOW_PEER)
  const labelled = new Set(top.map(([peer]) => peer))
  const lines = top.flatMap(([peer, s]) => [`${peer} in ${s.totalIn}`, `${peer} out ${s.totalOut}`])
  if (peers.length > top.length) {
    const rest = peers.filter(([peer]) => !labelled.has(peer))
    const sum = (pick: (s: Stats) => number) => rest.reduce((total, [, s]) => total + pick(s), 0)
    lines.push(`other in ${sum((s) => s.totalIn)}`, `other out ${sum((s) => s.totalOut)}`)
  }
  return lines
}

function peerSamples(counter: BandwidthCounter, limit: number): string[] {
  const family = bandwidthFamilies(counter, { perPeer: true, maxPeerLabels: limit }).find(
    (f) => f.name === 'libp2p_peer_transfer_bytes_total'
  )
  return (family?.samples ?? []).map((s) => `${s.labels?.peer} ${s.labels?.direction} ${s.value}`)
}

describe('the busiest peers, kept incrementally, are the ones a full sort gives', () => {
  type RankOp =
    | { op: 'count'; peer: number; bytes: number; open: boolean }
    | { op: 'tick' }
    | { op: 'trim'; ago: number }
    | { op: 'reset' }
    | { op: 'scrape'; limit: number }
  const rankOpArb: fc.Arbitrary<RankOp> = fc.oneof(
    {
      weight: 40,
      arbitrary: fc.record({
        op: fc.constant('count' as const),
        peer: fc.integer({ min: 0, max: 29 }),
        // Few distinct sizes: many ties, broken by peer id.
        bytes: fc.constantFrom(0, 1, 2, 10, 1000),
        // A channel opened without an event makes a peer with no bytes, which still ranks.
        open: fc.boolean()
      })
    },
    { weight: 10, arbitrary: fc.constant({ op: 'tick' as const }) },
    {
      weight: 4,
      arbitrary: fc.record({ op: fc.constant('trim' as const), ago: fc.integer({ min: 0, max: 5000 }) })
    },
    { weight: 1, arbitrary: fc.constant({ op: 'reset' as const }) },
    {
      weight: 20,
      arbitrary: fc.record({
        op: fc.constant('scrape' as const),
        // Mostly fewer labels than peers, so most peers are outside the kept ones and must overtake them.
        limit: fc.oneof(
          { weight: 4, arbitrary: fc.integer({ min: 0, max: 6 }) },
          { weight: 1, arbitrary: fc.integer({ min: 0, max: 35 }) }
        )
      })
    }
  )

  test('random traffic, sweeps, trims, resets, overflow and limits: the same labels and the same `other`', () => {
    fc.assert(
      fc.property(fc.array(rankOpArb, { minLength: 1, maxLength: 150 }), (ops) => {
        let now = 1_000_000
        // 20 peers tracked one by one out of 30: the overflow bucket ranks too, and is never labelled.
        const counter = new BandwidthCounter({ clock: () => now, maxPeers: 20 })
        ops.forEach((op, i) => {
          now += 250
          if (op.op === 'count') {
            const channel = counter.channel({
              peer: `peer-${String(op.peer).padStart(2, '0')}`,
              protocol: '/x'
            })
            if (!op.open) channel.sent(op.bytes)
          } else if (op.op === 'tick') counter.tick()
          else if (op.op === 'trim') counter.trimIdle(now - op.ago)
          else if (op.op === 'reset') counter.reset()
          else {
            assert.deepEqual(
              peerSamples(counter, op.limit),
              expectedPeerSamples(counter, op.limit),
              `step ${i}, limit ${op.limit}`
            )
          }
        })
        for (const limit of [1, 5, 100]) {
          assert.deepEqual(peerSamples(counter, limit), expectedPeerSamples(counter, limit), `end, ${limit}`)
        }
      }),
      { numRuns: 300 }
    )
  })

  test('busiest() keeps what sorting everything keeps, ties and every order of arrival included', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.record({ name: fc.string({ maxLength: 4 }), bytes: fc.integer({ min: 0, max: 5 }) }),
          {
            selector: (item) => item.name,
            maxLength: 60
          }
        ),
        fc.integer({ min: -1, max: 70 }),
        (items, limit) => {
          const sorted = [...items].sort(
            (a, b) => b.bytes - a.bytes || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
          )
          const kept = busiest(
            items,
            limit,
            (item) => item.bytes,
            (item) => item.name
          )
          assert.deepEqual(kept, sorted.slice(0, Math.max(0, limit)))
        }
      ),
      { numRuns: 500 }
    )
  })
})
