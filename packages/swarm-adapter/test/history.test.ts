import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { DEFAULT_HISTORY, History, type HistoryOptions, HistoryOptionsError } from '../src/history/history.ts'
import { KeyTable } from '../src/history/key-table.ts'
import { type Sample, SCALAR_FIELDS, type Scalars, Tier } from '../src/history/tier.ts'

function scalars(values: Partial<Scalars> = {}): Scalars {
  const out = Object.fromEntries(SCALAR_FIELDS.map((f) => [f, 0])) as Scalars
  return { ...out, ...values }
}

function sample(t: number, extra: Partial<Sample> = {}): Sample {
  return { t, scalars: scalars(), protocols: [], peers: [], ...extra }
}

const small: HistoryOptions = {
  fine: { intervalMs: 1000, samples: 10 },
  coarse: { intervalMs: 5000, samples: 4 },
  topPeers: 2,
  topProtocols: 2,
  peerProtocols: 1
}

describe('History', () => {
  it('answers columns aligned on t, busiest series first, null where a series was absent', () => {
    const h = new History(small)
    h.record(
      sample(1000, {
        scalars: scalars({ rateIn: 10, rateOut: 20, latencyMs: null }),
        protocols: [
          { key: '/a', rateIn: 1, rateOut: 1 },
          { key: '/b', rateIn: 5, rateOut: 5 },
          { key: '/c', rateIn: 9, rateOut: 9 }
        ],
        peers: [{ key: 'P1', rateIn: 3, rateOut: 4, latencyMs: 12.5, protocols: [] }]
      })
    )
    h.record(sample(2000, { protocols: [{ key: '/a', rateIn: 100, rateOut: 0 }] }))
    const page = h.query({ resolution: 'fine', since: 0, peers: 8, protocols: 8 })
    assert.deepEqual(page.t, [1000, 2000])
    assert.deepEqual(page.totals.rateIn, [10, 0])
    assert.deepEqual(page.totals.latencyMs, [null, 0])
    // topProtocols = 2: '/a' (1+1) was dropped from the first sample, kept in the second.
    assert.deepEqual(
      page.protocols.map((p) => [p.id, p.rateIn, p.rateOut]),
      [
        ['/a', [null, 100], [null, 0]],
        ['/c', [9, null], [9, null]],
        ['/b', [5, null], [5, null]]
      ]
    )
    assert.deepEqual(page.peers, [
      { id: 'P1', rateIn: [3, null], rateOut: [4, null], latencyMs: [12.5, null] }
    ])
    assert.deepEqual(h.query({ resolution: 'fine', since: 1000, peers: 8, protocols: 1 }).t, [2000])
    assert.equal(h.query({ resolution: 'fine', since: 0, peers: 8, protocols: 1 }).protocols.length, 1)
  })

  it('keeps a peer and its busiest protocols per sample, for the peer view', () => {
    const h = new History(small)
    const peer = (key: string, rate: number) => ({
      key,
      rateIn: rate,
      rateOut: rate,
      latencyMs: rate,
      protocols: [
        { key: '/x', rateIn: rate, rateOut: 0 },
        { key: '/y', rateIn: 0.5, rateOut: 0 }
      ]
    })
    h.record(sample(1000, { peers: [peer('A', 1), peer('B', 2), peer('C', 3)] }))
    h.record(sample(2000, { peers: [peer('A', 9)] }))
    const a = h.peer('A', { resolution: 'fine', since: 0, protocols: 4 })
    // A was the least busy of three with topPeers = 2 in the first sample.
    assert.deepEqual(a.rateIn, [null, 9])
    assert.deepEqual(a.protocols, [{ id: '/x', rateIn: [null, 9], rateOut: [null, 0] }])
    const c = h.peer('C', { resolution: 'fine', since: 0, protocols: 4 })
    assert.deepEqual(c.latencyMs, [3, null])
    const unknown = h.peer('Z', { resolution: 'fine', since: 0, protocols: 4 })
    assert.deepEqual(unknown.rateIn, [null, null])
  })

  it('builds each coarse sample from the fine samples of its interval', () => {
    const h = new History(small)
    const base = 1_000_000
    for (let t = 0; t < 10_000; t += 1000) {
      h.record(
        sample(base + t + 1000, {
          scalars: scalars({
            rateIn: t / 1000,
            totalIn: t,
            streamsOpened: 2,
            latencyMs: t < 3000 ? null : 10
          }),
          protocols: t < 2000 ? [{ key: '/p', rateIn: 5, rateOut: 0 }] : []
        })
      )
    }
    const coarse = h.query({ resolution: 'coarse', since: 0, peers: 8, protocols: 8 })
    // Samples at 1..4 s fall in [0, 5 s), 5..9 s in [5 s, 10 s); the one at 10 s opened an interval not yet closed.
    assert.deepEqual(coarse.t, [base, base + 5000])
    assert.deepEqual(coarse.totals.rateIn, [(0 + 1 + 2 + 3) / 4, (4 + 5 + 6 + 7 + 8) / 5])
    assert.deepEqual(coarse.totals.totalIn, [3000, 8000])
    assert.deepEqual(coarse.totals.streamsOpened, [8, 10])
    assert.deepEqual(coarse.totals.latencyMs, [10, 10])
    // '/p' ran for 2 of the 4 samples of the first interval: its mean over the interval is half its rate.
    assert.deepEqual(coarse.protocols, [{ id: '/p', rateIn: [2.5, null], rateOut: [0, null] }])
  })

  it('ignores a sample that is not newer than the last one (the clock stepped back)', () => {
    const h = new History(small)
    assert.equal(h.record(sample(5000)), true)
    assert.equal(h.record(sample(4000)), false)
    assert.equal(h.record(sample(5000)), false)
    assert.deepEqual(h.query({ resolution: 'fine', since: 0, peers: 1, protocols: 1 }).t, [5000])
  })

  it('keeps GC runs once each, newest after the time asked for', () => {
    const h = new History(small)
    const gc = { at: 1500, durationMs: 2, peersRemoved: 1, addressesRemoved: 3 }
    h.recordGc(gc)
    h.recordGc(gc)
    h.recordGc({ ...gc, at: 2500 })
    assert.deepEqual(
      h.query({ resolution: 'fine', since: 2000, peers: 0, protocols: 0 }).gcs.map((g) => g.at),
      [2500]
    )
    assert.equal(h.query({ resolution: 'fine', since: 0, peers: 0, protocols: 0 }).gcs.length, 2)
  })

  it('refuses bad options with ERR_INVALID_HISTORY_OPTIONS naming the option', () => {
    const cases: Array<[HistoryOptions, RegExp]> = [
      [{ fine: { samples: 0 } }, /history\.fine\.samples/],
      [{ fine: { intervalMs: 1.5 } }, /history\.fine\.intervalMs/],
      [{ coarse: { intervalMs: 1500 } }, /multiple of history\.fine\.intervalMs/],
      [{ topPeers: -1 }, /history\.topPeers/],
      [{ maxKeys: Number.NaN }, /history\.maxKeys/]
    ]
    for (const [options, message] of cases) {
      assert.throws(
        () => new History(options),
        (err: unknown) =>
          err instanceof HistoryOptionsError &&
          err.code === 'ERR_INVALID_HISTORY_OPTIONS' &&
          message.test(err.message)
      )
    }
  })
})

describe('History memory bound', () => {
  it('states the bound of the default history (both rings, the key table, the minute being built)', () => {
    const bound = History.memoryBound()
    const rings =
      Tier.bytes({ ...DEFAULT_HISTORY, samples: DEFAULT_HISTORY.fine.samples }) +
      Tier.bytes({ ...DEFAULT_HISTORY, samples: DEFAULT_HISTORY.coarse.samples })
    assert.equal(rings, 5040 * 768, 'rings: 5,040 samples of 768 bytes')
    assert.ok(bound > rings + KeyTable.bound(DEFAULT_HISTORY.maxKeys, DEFAULT_HISTORY.maxKeyLength))
    // The figure the README states.
    console.log(
      `default history memory bound: ${(bound / 2 ** 20).toFixed(2)} MiB (rings ${(rings / 2 ** 20).toFixed(2)} MiB)`
    )
    assert.ok(bound < 8 * 2 ** 20, `${bound} bytes`)
  })

  it('filled far past capacity with a new id in every entry, it holds no more than its bound', () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const options: HistoryOptions = {
      fine: { intervalMs: 1000, samples: 600 },
      coarse: { intervalMs: 60_000, samples: 60 },
      topPeers: 10,
      topProtocols: 12,
      peerProtocols: 3,
      maxKeys: 2048,
      maxKeyLength: 128
    }
    const bound = History.memoryBound(options)
    const used = () => {
      gc()
      const m = process.memoryUsage()
      return m.heapUsed + m.arrayBuffers
    }
    let serial = 0
    // Worst case: every entry a fresh id of the longest length kept.
    const id = () => `${(serial++).toString(36)}`.padStart(128, 'k')
    const fill = (h: History, samples: number, from: number) => {
      for (let i = 0; i < samples; i++) {
        h.record({
          t: (from + i) * 1000,
          scalars: scalars({ rateIn: i }),
          protocols: Array.from({ length: 12 }, () => ({ key: id(), rateIn: 1, rateOut: 1 })),
          peers: Array.from({ length: 10 }, () => ({
            key: id(),
            rateIn: 1,
            rateOut: 1,
            latencyMs: 1,
            protocols: Array.from({ length: 3 }, () => ({ key: id(), rateIn: 1, rateOut: 1 }))
          }))
        })
      }
    }
    const before = used()
    const h = new History(options)
    fill(h, 3 * 600, 1)
    const full = used()
    assert.equal(h.fine.size, 600)
    assert.equal(h.coarse.size, 30)
    assert.ok(h.keys.size <= options.maxKeys!, `${h.keys.size} keys`)
    assert.ok(h.keys.refused > 0, 'ids beyond maxKeys were refused, not kept')
    assert.ok(full - before <= bound, `grew ${full - before} bytes, bound ${bound}`)
    // Another 3 rounds of capacity: the ring overwrites, the key table releases, memory stays put.
    fill(h, 3 * 600, 1 + 3 * 600)
    const again = used()
    assert.equal(h.fine.size, 600)
    assert.ok(h.keys.size <= options.maxKeys!)
    assert.ok(again - before <= bound, `grew ${again - before} bytes, bound ${bound}`)
    assert.ok(Math.abs(again - full) < bound * 0.1, `kept growing: ${full} then ${again}`)
    // Released ids really left the table: the oldest sample's ids are the only ones of their age still held.
    const page = h.query({ resolution: 'fine', since: 0, peers: 64, protocols: 64 })
    assert.equal(page.t.length, 600)
  })
})

describe('KeyTable', () => {
  it('reuses the slot of a released key and refuses ids that are too long or beyond maxKeys', () => {
    const keys = new KeyTable(2, 4)
    const a = keys.acquire('a')
    assert.equal(keys.acquire('a'), a)
    const b = keys.acquire('b')
    assert.equal(keys.acquire('c'), -1)
    assert.equal(keys.acquire('toolong'), -1)
    assert.equal(keys.refused, 2)
    keys.release(b)
    assert.equal(keys.name(b), undefined)
    assert.equal(keys.acquire('c'), b)
    keys.release(a)
    assert.equal(keys.name(a), 'a', 'still referenced once')
    keys.release(a)
    assert.equal(keys.id('a'), -1)
    assert.equal(keys.size, 1)
  })
})
