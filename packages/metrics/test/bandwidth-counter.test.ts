import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { SharedMetricMap } from '@peerscope/metric-map'
import { BandwidthCounter, MetricsError, OVERFLOW_PEER } from '@peerscope/metrics'

function virtualClock(start = 1_000_000) {
  let now = start
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms
    }
  }
}

describe('BandwidthCounter: go-libp2p reference cases', () => {
  test('TestBandwidthCounter: 40 rounds x 100 peers x 2 protocols', () => {
    const clock = virtualClock()
    const counter = new BandwidthCounter({ clock: clock.now })
    const peers = Array.from({ length: 100 }, (_, i) => `peer-${i}`)
    const protocols = ['/proto/a', '/proto/b']
    for (let round = 0; round < 40; round++) {
      for (const peer of peers) {
        for (const protocol of protocols) {
          counter.logSent(100, { peer, protocol })
          counter.logReceived(50, { peer, protocol })
        }
      }
      clock.advance(1000)
      counter.tick()
    }
    for (const peer of peers) {
      const stats = counter.forPeer(peer)!
      assert.equal(stats.totalOut, 8000)
      assert.equal(stats.totalIn, 4000)
    }
    for (const protocol of protocols) {
      const stats = counter.forProtocol(protocol)!
      assert.equal(stats.totalOut, 400_000)
      assert.equal(stats.totalIn, 200_000)
    }
    const totals = counter.totals()
    assert.equal(totals.totalOut, 800_000)
    assert.equal(totals.totalIn, 400_000)
    assert.equal(totals.packetsOut, 8000)
    assert.equal(totals.packetsIn, 8000)
    // A steady 20,000 B/s out, 10,000 B/s in, after the registration tick: the EWMA sits on the instant rate.
    assert.equal(totals.rateOut, 20_000)
    assert.equal(totals.rateIn, 10_000)
    assert.equal(counter.byPeer().size, 100)
    assert.equal(counter.byProtocol().size, 2)
  })

  test('TestResetBandwidthCounter: rates after the registration tick, then reset', () => {
    const clock = virtualClock()
    const counter = new BandwidthCounter({ clock: clock.now })
    const p = { peer: 'peer', protocol: '/proto' }
    counter.logSent(100, p)
    counter.logReceived(50, p)
    clock.advance(1000)
    counter.tick() // registration: these bytes reach the totals, never the rate
    assert.equal(counter.totals().rateOut, 0)
    counter.logSent(100, p)
    counter.logReceived(50, p)
    clock.advance(1000)
    counter.tick()
    for (const stats of [counter.totals(), counter.forPeer('peer')!, counter.forProtocol('/proto')!]) {
      assert.equal(stats.rateOut, 100)
      assert.equal(stats.rateIn, 50)
    }
    counter.reset()
    assert.deepEqual(counter.totals(), {
      totalIn: 0,
      totalOut: 0,
      packetsIn: 0,
      packetsOut: 0,
      rateIn: 0,
      rateOut: 0
    })
    assert.equal(counter.forPeer('peer'), undefined)
  })
})

describe('BandwidthCounter: rates', () => {
  test('EWMA with weight 1 - e^-1: 100 B/s then 300 B in the next second gives 226.4', () => {
    const clock = virtualClock()
    const counter = new BandwidthCounter({ clock: clock.now })
    counter.logSent(1)
    clock.advance(1000)
    counter.tick()
    counter.logSent(100)
    clock.advance(1000)
    counter.tick()
    assert.equal(counter.totals().rateOut, 100)
    counter.logSent(300)
    clock.advance(1000)
    counter.tick()
    assert.ok(Math.abs(counter.totals().rateOut - 226.4241) < 1e-3, String(counter.totals().rateOut))
  })

  test('the instant rate scales with the real interval, and a sweep <= 100 ms after the last is skipped', () => {
    const clock = virtualClock()
    const counter = new BandwidthCounter({ clock: clock.now })
    counter.logReceived(1)
    clock.advance(1000)
    counter.tick()
    counter.logReceived(1000)
    clock.advance(2000)
    counter.tick()
    assert.equal(counter.totals().rateIn, 500)
    counter.logReceived(1000)
    clock.advance(100)
    counter.tick() // skipped
    assert.equal(counter.totals().rateIn, 500)
    clock.advance(900)
    counter.tick() // covers the whole 1000 ms
    assert.ok(Math.abs(counter.totals().rateIn - (500 + (1 - Math.exp(-1)) * 500)) < 1e-9)
  })

  test('an idle meter decays to zero and unregisters; totals stay exact throughout', () => {
    const clock = virtualClock()
    const counter = new BandwidthCounter({ clock: clock.now })
    counter.logSent(10)
    clock.advance(1000)
    counter.tick()
    counter.logSent(1000)
    clock.advance(1000)
    counter.tick()
    let seconds = 0
    while (counter.totals().rateOut > 0 && seconds < 100) {
      clock.advance(1000)
      counter.tick()
      seconds++
    }
    assert.equal(counter.totals().rateOut, 0)
    assert.ok(seconds > 20 && seconds < 40, `went idle after ${seconds} s`)
    assert.equal(counter.totals().totalOut, 1010)
    // Unregistered: the next burst registers again and is not in the rate.
    counter.logSent(500)
    clock.advance(1000)
    counter.tick()
    assert.equal(counter.totals().rateOut, 0)
    assert.equal(counter.totals().totalOut, 1510)
  })
})

describe('BandwidthCounter: entries, trimming, churn', () => {
  test('reads never create entries', () => {
    const counter = new BandwidthCounter()
    assert.equal(counter.forPeer('nobody'), undefined)
    assert.equal(counter.forProtocol('/none'), undefined)
    assert.equal(counter.forPeerProtocol('nobody', '/none'), undefined)
    assert.equal(counter.byPeer().size, 0)
    assert.equal(counter.byProtocol().size, 0)
  })

  test('per (peer, protocol) and per connection', () => {
    const counter = new BandwidthCounter()
    counter.logSent(7, { peer: 'a', protocol: '/x' })
    counter.logSent(5, { peer: 'a', protocol: '/y' })
    counter.logReceived(3, { peer: 'b', protocol: '/x' })
    assert.equal(counter.forPeerProtocol('a', '/x')?.totalOut, 7)
    assert.equal(counter.forPeerProtocol('a', '/y')?.totalOut, 5)
    assert.equal(counter.byPeerProtocol().get('b')?.get('/x')?.totalIn, 3)
    const wire = counter.connectionChannel('conn-1')
    wire.sent(100)
    wire.received(40)
    assert.deepEqual(
      { out: counter.forConnection('conn-1')?.totalOut, in: counter.forConnection('conn-1')?.totalIn },
      { out: 100, in: 40 }
    )
    assert.equal(counter.totals().totalOut, 12, 'connection wire bytes stay out of the payload totals')
  })

  test('channels count like logSent/logReceived and survive trimming of their series', () => {
    const clock = virtualClock()
    const counter = new BandwidthCounter({ clock: clock.now })
    const channel = counter.channel({ peer: 'p', protocol: '/x' })
    channel.sent(10)
    channel.received(4)
    assert.equal(counter.forPeer('p')?.totalOut, 10)
    assert.equal(counter.forProtocol('/x')?.totalIn, 4)
    clock.advance(60_000)
    assert.equal(counter.trimIdle(clock.now() - 1000), 3, 'peer, protocol and pair series removed')
    assert.equal(counter.forPeer('p'), undefined)
    assert.equal(counter.totals().totalOut, 10, 'totals are kept')
    channel.sent(1)
    assert.equal(counter.forPeer('p')?.totalOut, 1, 'the channel re-created its series')
  })

  test('trimIdle keeps series that saw bytes since the cut-off', () => {
    const clock = virtualClock()
    const counter = new BandwidthCounter({ clock: clock.now })
    counter.logSent(1, { peer: 'old' })
    clock.advance(10_000)
    counter.tick()
    clock.advance(10_000)
    counter.logSent(1, { peer: 'new' })
    clock.advance(1000)
    counter.tick()
    assert.equal(counter.trimIdle(clock.now() - 5000), 1)
    assert.deepEqual([...counter.byPeer().keys()], ['new'])
  })

  test('more distinct peers than maxPeers are folded into the overflow bucket', () => {
    const counter = new BandwidthCounter({ maxPeers: 100 })
    for (let i = 0; i < 10_000; i++) counter.logReceived(1, { peer: `peer-${i}`, protocol: '/x' })
    assert.equal(counter.trackedPeers, 100)
    assert.equal(counter.byPeer().size, 101)
    assert.equal(counter.forPeer(OVERFLOW_PEER)?.totalIn, 9900)
    assert.equal(counter.totals().totalIn, 10_000)
    assert.ok(counter.map.size <= (2 * 101 + 2) * 4, `map holds ${counter.map.size} counters`)
  })

  test('bad sizes are typed errors and change nothing', () => {
    const counter = new BandwidthCounter()
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) {
      assert.throws(
        () => counter.logSent(bad, { peer: 'p' }),
        (err: unknown) => err instanceof MetricsError && err.code === 'ERR_INVALID_SIZE'
      )
    }
    assert.equal(counter.totals().totalOut, 0)
    assert.throws(() => new BandwidthCounter({ maxPeers: 0 }), { code: 'ERR_INVALID_OPTIONS' })
  })

  test('counters can live in a SharedMetricMap', () => {
    const map = SharedMetricMap.create({ capacity: 1024, maxKeyBytes: 256 })
    const counter = new BandwidthCounter({ map })
    counter.logSent(42, { peer: 'p', protocol: '/x' })
    const reader = SharedMetricMap.attach(map.buffer)
    const key = [...reader.keys()].find((k) => k.startsWith('peer\u0000p\u0000bo'))
    assert.ok(key !== undefined)
    assert.equal(reader.get(key), 42)
  })
})

describe('BandwidthCounter: channels add to the map once per task', () => {
  const nextTask = () => new Promise<void>((resolve) => setImmediate(resolve))

  test("a reader of the shared map sees a channel's events by the end of the task", async () => {
    const map = SharedMetricMap.create({ capacity: 1024, maxKeyBytes: 256 })
    const counter = new BandwidthCounter({ map })
    const reader = SharedMetricMap.attach(map.buffer)
    const stream = counter.channel({ peer: 'p', protocol: '/x' })
    const wire = counter.connectionChannel('c1')
    for (let i = 0; i < 1000; i++) {
      stream.sent(10)
      wire.received(3)
    }
    await nextTask()
    assert.equal(reader.get('peer\u0000p\u0000bo'), 10_000)
    assert.equal(reader.get('peer\u0000p\u0000po'), 1000)
    assert.equal(reader.get('peerProtocol\u0000p\u0000/x\u0000bo'), 10_000)
    assert.equal(reader.get('total\u0000total\u0000po'), 1000)
    assert.equal(reader.get('connection\u0000c1\u0000bi'), 3000)
    assert.equal(reader.get('connection\u0000c1\u0000pi'), 1000)
  })

  test('reads in the same task already include the events', () => {
    const counter = new BandwidthCounter()
    const channel = counter.channel({ peer: 'p' })
    channel.sent(7)
    counter.logSent(1, { peer: 'p' })
    channel.received(2)
    assert.deepEqual(
      { ...counter.forPeer('p'), rateIn: 0, rateOut: 0 },
      { totalIn: 2, totalOut: 8, packetsIn: 1, packetsOut: 2, rateIn: 0, rateOut: 0 }
    )
    assert.equal(counter.map.get('peer\u0000p\u0000bo'), 8, 'the map getter hands out an exact map')
  })

  test('reset() and trimIdle() take in the events before them: nothing reappears afterwards', async () => {
    const clock = virtualClock()
    const counter = new BandwidthCounter({ clock: clock.now })
    const channel = counter.channel({ peer: 'p', protocol: '/x' })
    channel.sent(5)
    counter.reset()
    await nextTask()
    assert.equal(counter.totals().totalOut, 0)
    assert.equal(counter.forPeer('p'), undefined)

    channel.sent(6)
    clock.advance(60_000)
    // The late event re-creates the three series at this clock time: a cut-off just after it trims them.
    assert.equal(counter.trimIdle(clock.now() + 1), 3, 'peer, protocol and pair series trimmed')
    await nextTask()
    assert.equal(counter.forPeer('p'), undefined, 'the trimmed series are not re-created by late counts')
    assert.equal(counter.totals().totalOut, 6)
  })

  test("a sweep counts the channel's events of the same task in the rate", () => {
    const clock = virtualClock()
    const counter = new BandwidthCounter({ clock: clock.now })
    const channel = counter.channel({ protocol: '/x' })
    clock.advance(1000)
    channel.sent(1000)
    counter.tick() // registers the meter: it must see these bytes
    clock.advance(1000)
    channel.sent(500)
    counter.tick()
    assert.equal(counter.forProtocol('/x')?.rateOut, 500)
  })

  test('a bad size on a channel is a typed error and counts nothing', async () => {
    const counter = new BandwidthCounter()
    const channel = counter.channel({ peer: 'p' })
    channel.sent(4)
    assert.throws(() => channel.sent(-1), { code: 'ERR_INVALID_SIZE' })
    assert.throws(() => channel.received(Number.NaN), { code: 'ERR_INVALID_SIZE' })
    await nextTask()
    assert.equal(counter.totals().totalOut, 4)
    assert.equal(counter.totals().packetsOut, 1)
    assert.equal(counter.totals().packetsIn, 0)
  })
})
