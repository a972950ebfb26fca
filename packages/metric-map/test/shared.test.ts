import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { SharedMetricMap } from '@peerscope/metric-map'
import { H_SIZE, viewsOf } from '../src/shared-layout.ts'
import { LIVE, stateOf, TOMB } from '../src/shared-table.ts'
import { encodeKey, hashBytes } from '../src/utf8-key.ts'
import { runWorker } from './run-worker.ts'
import { assertCode, metricMapSuite } from './suite.ts'

// Created (or attached through its memory), a map updates with WebAssembly atomics; attached through its buffer
// alone, with JavaScript `Atomics`. Both run the whole contract.
metricMapSuite('SharedMetricMap', () => SharedMetricMap.create({ capacity: 256, maxThreads: 4 }))

metricMapSuite('SharedMetricMap attached by its buffer (Atomics updates)', () =>
  SharedMetricMap.attach(SharedMetricMap.create({ capacity: 256, maxThreads: 4 }).buffer)
)

// Two attachments of one buffer are one map: written through one, read through the other.
metricMapSuite('SharedMetricMap written and read through two attachments', () => {
  const writer = SharedMetricMap.create({ capacity: 256, maxThreads: 4 })
  const reader = SharedMetricMap.attach(writer.buffer)
  const readOps = new Set<PropertyKey>(['get', 'has', 'entries', 'keys', 'snapshot', 'size', Symbol.iterator])
  return new Proxy(writer, {
    get(target, prop) {
      const source = readOps.has(prop) ? reader : target
      const value = Reflect.get(source, prop, source)
      return typeof value === 'function' ? value.bind(source) : value
    }
  })
})

// Lanes: every write goes through one of three attachments in turn, so each counter is spread over three lanes,
// and reads come from a fourth. Deleting and re-creating keys (the model test does) must never revive old counts.
metricMapSuite('SharedMetricMap with 3 lanes, written through three attachments in turn', () => {
  const first = SharedMetricMap.create({ capacity: 256, maxThreads: 4, lanes: 3 })
  const writers = [
    first,
    SharedMetricMap.attach(first.buffer),
    SharedMetricMap.attach(first.memory ?? first.buffer)
  ]
  const reader = SharedMetricMap.attach(first.buffer)
  const readOps = new Set<PropertyKey>(['get', 'has', 'entries', 'keys', 'snapshot', 'size', Symbol.iterator])
  let turn = 0
  return new Proxy(first, {
    get(_target, prop) {
      const source = readOps.has(prop) ? reader : (writers[turn++ % writers.length] as SharedMetricMap)
      const value = Reflect.get(source, prop, source)
      return typeof value === 'function' ? value.bind(source) : value
    }
  })
})

describe('SharedMetricMap only', () => {
  test('two threads creating the same keys up to a full map: no spurious ERR_METRIC_MAP_FULL, no count lost', async () => {
    // The last key of a full map, created by both at once: the one that loses the race must find the key the
    // other just published, not report the map full. Lanes: each thread counts into its own.
    const KEYS = 256
    const WRITERS = 2
    const map = SharedMetricMap.create({ capacity: KEYS, maxThreads: WRITERS + 1, lanes: WRITERS })
    const gate = new Int32Array(new SharedArrayBuffer(8))
    const done = Array.from({ length: WRITERS }, (_, index) =>
      runWorker<{ mismatches: number }>('./workers/create-race-worker.ts', {
        target: map.memory,
        keyCount: KEYS,
        epochs: 300,
        gate,
        writers: WRITERS,
        index
      })
    )
    assert.deepEqual(await Promise.all(done), Array(WRITERS).fill({ mismatches: 0 }))
  })

  test('merging twin slots moves the counts of every lane into the survivor', () => {
    // Two threads binding one key at once leave it LIVE in two slots; the binder's check merges them. That race
    // is rare, so the test builds its result by hand: a twin of 'k' one slot past k's home, with counts in both
    // lanes, and the home slot empty. The next add binds the home slot and must find and absorb the twin.
    const map = SharedMetricMap.create({ capacity: 8, lanes: 2 })
    const views = viewsOf(map.buffer)
    const bytes = new Uint8Array(views.maxKeyBytes)
    const length = encodeKey('k', bytes)
    const hash = hashBytes(bytes, length)
    const twin = ((hash & (views.slots - 1)) + 1) & (views.slots - 1)
    views.keys.set(bytes.subarray(0, length), twin * views.maxKeyBytes)
    views.hashes[twin] = hash
    views.lengths[twin] = length
    views.values[twin] = 5n
    views.values[views.slots + twin] = 7n
    views.ctrl[twin] = LIVE
    Atomics.add(views.header, H_SIZE, 1)

    assert.equal(map.add('k', 1), 13, 'the twin lanes (5 + 7) moved into the survivor, plus this add')
    assert.equal(map.size, 1)
    assert.deepEqual([...map.entries()], [['k', 13]])
    assert.equal(stateOf(views.ctrl[twin] as number), TOMB, 'the twin is tombstoned')
    assert.deepEqual([views.values[twin], views.values[views.slots + twin]], [0n, 0n])
  })

  test('lanes: each attachment adds into its own lane, reads sum them, and a re-created key starts from 0', () => {
    const a = SharedMetricMap.create({ capacity: 8, lanes: 2 })
    const b = SharedMetricMap.attach(a.buffer)
    assert.equal(a.lanes, 2)
    assert.equal(b.lanes, 2)
    const ha = a.handle('k')
    const hb = b.handle('k')
    ha.increment(5)
    hb.increment(7)
    assert.equal(a.get('k'), 12)
    assert.equal(hb.get(), 12)
    assert.equal(ha.add(1), 13, 'add returns the sum of the lanes read after it')
    // The counts sit in two lanes: the two halves, read lane by lane, are 6 and 7.
    const values = new BigInt64Array(a.buffer)
    const cells = [...values].filter((v) => v === 6n || v === 7n)
    assert.deepEqual(cells.sort(), [6n, 7n])
    a.delete('k')
    hb.increment(1)
    assert.equal(a.get('k'), 1, "the other lane's old counts were cleared when the key was bound again")
    assert.deepEqual([...a.entries()], [['k', 1]])
    assert.equal(
      b.storeOrModify('k', 0, (_key, current) => current * 10),
      10
    )
    assert.equal(a.get('k'), 10)
    assert.equal(
      SharedMetricMap.byteLength({ capacity: 8, lanes: 2 }) - SharedMetricMap.byteLength({ capacity: 8 }),
      16 * 8,
      'one more lane costs 8 bytes per slot'
    )
  })

  for (const via of ['memory', 'buffer'] as const) {
    test(`a worker attaches through the ${via} and sees the same data, and the creator sees its writes`, async () => {
      const map = SharedMetricMap.create({ capacity: 64 })
      map.add('shared', 5)
      map.add('ü/😀', 2)
      const target = via === 'memory' ? map.memory : map.buffer
      assert.ok(target !== undefined, 'Node provides shared WebAssembly memory')
      const seen = await runWorker<{ seen: Record<string, number>; fast: boolean }>(
        './workers/attach-worker.ts',
        {
          target
        }
      )
      assert.deepEqual(seen, { seen: { shared: 5, 'ü/😀': 2 }, fast: via === 'memory' })
      assert.equal(map.get('from-worker'), 7)
      assert.equal(map.get('shared'), 105)
      assert.equal(map.size, 3)
    })
  }

  test('a WebAssembly update and an Atomics update of one counter from two attachments both land', () => {
    const fast = SharedMetricMap.create({ capacity: 8 })
    const plain = SharedMetricMap.attach(fast.buffer)
    assert.ok(fast.memory !== undefined && plain.memory === undefined)
    const a = fast.handle('k')
    const b = plain.handle('k')
    for (let i = 0; i < 1000; i++) {
      a.add(2)
      b.add(3)
    }
    assert.equal(fast.get('k'), 5000)
    assert.equal(a.add(2 ** 40), 5000 + 2 ** 40, 'the new value comes back exactly past 32 bits')
    assert.equal(b.add(-(2 ** 40)), 5000)
    // A stale WebAssembly handle re-resolves after a delete, as the Atomics one does.
    fast.delete('k')
    assert.equal(a.add(1), 1)
    assert.equal(b.add(1), 2)
  })

  test('keys are limited to maxKeyBytes UTF-8 bytes', () => {
    const map = SharedMetricMap.create({ capacity: 16, maxKeyBytes: 8 })
    assert.equal(map.add('12345678', 1), 1)
    assert.equal(map.add('éééé', 1), 1, '4 two-byte characters fit in 8 bytes')
    assertCode(() => map.add('123456789', 1), 'ERR_INVALID_KEY')
    assertCode(() => map.add('éééé1', 1), 'ERR_INVALID_KEY')
    assertCode(() => map.handle('😀😀😀'), 'ERR_INVALID_KEY')
    assertCode(() => map.get('123456789'), 'ERR_INVALID_KEY')
    assert.equal(map.size, 2)
    assert.equal(map.get('12345678'), 1)
  })

  test('lone surrogates are rejected: they have no UTF-8 form and would collide', () => {
    const map = SharedMetricMap.create({ capacity: 16 })
    assertCode(() => map.add('a\ud800', 1), 'ERR_INVALID_KEY')
    assertCode(() => map.add('a\udfff', 1), 'ERR_INVALID_KEY')
    assert.equal(map.size, 0)
  })

  test('bad options and bad buffers get typed errors', () => {
    for (const bad of [
      { capacity: 0 },
      { capacity: 1.5 },
      { maxKeyBytes: 0 },
      { maxKeyBytes: 5000 },
      { maxThreads: -1 },
      { lanes: 0 },
      { lanes: 65 },
      { lanes: 1.5 },
      { lanes: '2' as never }
    ]) {
      assertCode(() => SharedMetricMap.create(bad), 'ERR_INVALID_OPTIONS')
    }
    assertCode(() => SharedMetricMap.create(null as never), 'ERR_INVALID_OPTIONS')
    assertCode(() => SharedMetricMap.attach(new ArrayBuffer(1024) as never), 'ERR_INVALID_BUFFER')
    assertCode(() => SharedMetricMap.attach(new SharedArrayBuffer(1024)), 'ERR_INVALID_BUFFER')
    const map = SharedMetricMap.create({ capacity: 8 })
    assertCode(
      () => SharedMetricMap.attach(map.buffer.slice(0, 200) as SharedArrayBuffer),
      'ERR_INVALID_BUFFER'
    )
    // WebAssembly memories that are not a map: an unshared one, and a shared one holding something else.
    const wasm = (
      globalThis as unknown as { WebAssembly: { Memory: new (d: object) => { buffer: ArrayBufferLike } } }
    ).WebAssembly
    assertCode(() => SharedMetricMap.attach(new wasm.Memory({ initial: 1 })), 'ERR_INVALID_BUFFER')
    assertCode(
      () => SharedMetricMap.attach(new wasm.Memory({ initial: 1, maximum: 1, shared: true })),
      'ERR_INVALID_BUFFER'
    )
  })

  test('a full map throws ERR_METRIC_MAP_FULL and loses nothing; a delete makes room', () => {
    const map = SharedMetricMap.create({ capacity: 16 })
    for (let i = 0; i < 16; i++) map.add(`k${i}`, 1000 + i)
    assertCode(() => map.add('one-too-many', 1), 'ERR_METRIC_MAP_FULL')
    assertCode(() => map.handle('one-too-many'), 'ERR_METRIC_MAP_FULL')
    assertCode(() => map.storeOrModify('one-too-many', 1, (_k, c) => c), 'ERR_METRIC_MAP_FULL')
    assert.equal(map.size, 16)
    assert.equal(map.has('one-too-many'), false)
    for (let i = 0; i < 16; i++) assert.equal(map.get(`k${i}`), 1000 + i)
    assert.equal(map.add('k3', 1), 1004, 'existing keys still update when full')
    assert.equal(map.delete('k0'), true)
    assert.equal(map.add('one-too-many', 1), 1)
    assertCode(() => map.add('another', 1), 'ERR_METRIC_MAP_FULL')
  })

  test('deleted slots are reclaimed: 20,000 distinct keys pass through a map of capacity 8', () => {
    const map = SharedMetricMap.create({ capacity: 8 })
    const stale = map.handle('first')
    stale.add(1)
    for (let i = 0; i < 20_000; i++) {
      const key = `churn-${i}`
      assert.equal(map.add(key, i), i)
      if (i >= 4) assert.equal(map.delete(`churn-${i - 4}`), true)
    }
    assert.equal(map.size, 5)
    assert.deepEqual(
      [...map.keys()].sort(),
      ['churn-19996', 'churn-19997', 'churn-19998', 'churn-19999', 'first'].sort()
    )
    assert.equal(stale.get(), 1)
  })

  test('a reader iterating again and again sees every slot rebound to another key as that key', () => {
    // 16 slots for 8 keys: deleted keys' slots are rebound to new keys all the time, while the reader keeps
    // the keys it decoded by slot.
    const writer = SharedMetricMap.create({ capacity: 8 })
    const reader = SharedMetricMap.attach(writer.buffer)
    const expected = new Map<string, number>()
    for (let i = 0; i < 2000; i++) {
      const key = `k-${i}`
      writer.add(key, i + 1)
      expected.set(key, i + 1)
      if (i >= 6) {
        writer.delete(`k-${i - 6}`)
        expected.delete(`k-${i - 6}`)
      }
      assert.deepEqual(new Map(reader.entries()), expected, `after key ${i}`)
    }
  })
  test('a stale handle whose slot was reused by another key re-resolves to its own key', () => {
    const map = SharedMetricMap.create({ capacity: 4 })
    const other = SharedMetricMap.attach(map.buffer)
    const h = map.handle('victim')
    h.add(5)
    assert.equal(other.delete('victim'), true)
    // Fill and drain enough keys that the victim's slot is certainly rebound to a different key.
    for (let i = 0; i < 64; i++) {
      other.add(`intruder-${i}`, 1_000_000 + i)
      if (i < 61) other.delete(`intruder-${i}`)
    }
    assert.equal(h.get(), 0)
    assert.equal(h.add(2), 2)
    assert.equal(map.get('victim'), 2)
    for (let i = 61; i < 64; i++) assert.equal(other.get(`intruder-${i}`), 1_000_000 + i)
  })

  for (const via of ['memory', 'buffer'] as const)
    test(`concurrent readers (attached through the ${via}) never see another key through a stale handle while its slot is reused`, async () => {
      const map = SharedMetricMap.create({ capacity: 4, maxThreads: 8 })
      const otherBase = 1_000_000_000_000
      const go = new Int32Array(new SharedArrayBuffer(4))
      const readers = [1, 2].map(() =>
        runWorker<{ adds: number; maxSeen: number; foreign: number }>('./workers/stale-reader-worker.ts', {
          target: via === 'memory' ? map.memory : map.buffer,
          rounds: 300_000,
          otherBase,
          go
        })
      )
      // Churn on this thread while the readers run: delete the victim, then bind its slot to other keys whose
      // values must stay exactly what this thread put there.
      let churned = 0
      let victimDeletes = 0
      let wrong = 0
      const start = Date.now()
      const settled = Promise.allSettled(readers)
      let done = false
      void settled.then(() => {
        done = true
      })
      while (Atomics.load(go, 0) < 2 && Date.now() - start < 30_000)
        await new Promise((r) => setTimeout(r, 1))
      while (!done) {
        for (let burst = 0; burst < 2_000; burst++) {
          if (map.delete('victim')) victimDeletes++
          for (let j = 0; j < 3; j++) {
            const key = `other-${churned++}`
            const value = otherBase + churned
            map.add(key, value)
            if (map.get(key) !== value) wrong++
            map.delete(key)
          }
        }
        await new Promise((r) => setImmediate(r))
      }
      const results = await Promise.all(readers)
      for (const r of results) {
        assert.equal(r.adds, 300_000)
        assert.equal(r.foreign, 0, `a reader saw ${r.maxSeen} through the victim's handle`)
        assert.ok(r.maxSeen < otherBase)
      }
      assert.equal(wrong, 0, 'a stale handle wrote into another key')
      assert.ok(victimDeletes > 0, 'the victim was deleted under the readers')
      assert.ok(churned > 100, 'slots were reused under the readers')
      assert.ok(map.size <= 1)
    })

  test('attachments are limited by maxThreads; detach gives a slot back', () => {
    const map = SharedMetricMap.create({ capacity: 8, maxThreads: 2 })
    const second = SharedMetricMap.attach(map.buffer)
    assertCode(() => SharedMetricMap.attach(map.buffer), 'ERR_TOO_MANY_THREADS')
    second.add('x', 1)
    second.detach()
    const third = SharedMetricMap.attach(map.buffer)
    assert.equal(third.get('x'), 1)
  })

  test('byteLength reports the buffer size', () => {
    const map = SharedMetricMap.create({ capacity: 100, maxKeyBytes: 64 })
    const bytes = SharedMetricMap.byteLength({ capacity: 100, maxKeyBytes: 64 })
    // WebAssembly memory comes in whole 64 KiB pages.
    assert.equal(map.buffer.byteLength, Math.ceil(bytes / 65536) * 65536)
    assert.equal(map.capacity, 100)
    assert.equal(map.maxKeyBytes, 64)
  })
})

describe('SharedMetricMap reclamation rule (white box)', () => {
  test('a tombstone pinned by a thread mid-update is never rebound; it is once the pin clears', async () => {
    const { viewsOf, PIN_STRIDE } = await import('../src/shared-layout.ts')
    const map = SharedMetricMap.create({ capacity: 4, maxThreads: 4 })
    const views = viewsOf(map.buffer)
    map.add('victim', 42)
    const victimBytes = new TextEncoder().encode('victim')
    const boundTo = (slot: number): string =>
      new TextDecoder().decode(
        views.keys.slice(slot * views.maxKeyBytes, slot * views.maxKeyBytes + (views.lengths[slot] as number))
      )
    let slot = -1
    for (let i = 0; i < views.slots; i++)
      if ((views.ctrl[i] as number) % 4 === 2 && boundTo(i) === 'victim') slot = i
    assert.ok(slot >= 0 && victimBytes.length === views.lengths[slot])

    // Play a thread that validated the victim's slot and has not added yet: its pin names the slot.
    const stalled = (views.maxThreads - 1) * PIN_STRIDE
    Atomics.store(views.owners, views.maxThreads - 1, 1)
    Atomics.store(views.pins, stalled, slot + 1)
    map.delete('victim')
    for (let i = 0; i < 500; i++) {
      map.add(`k${i}`, i)
      map.delete(`k${i}`)
      assert.equal(boundTo(slot), 'victim', 'a pinned tombstone was rebound')
    }
    assert.equal(Atomics.load(views.values, slot), 42n, 'the pinned slot was reset under the stalled thread')

    Atomics.store(views.pins, stalled, 0)
    let rebound = false
    for (let i = 0; i < 500 && !rebound; i++) {
      map.add(`again${i}`, i)
      map.delete(`again${i}`)
      rebound = boundTo(slot) !== 'victim'
    }
    assert.ok(rebound, 'the slot was reused once unpinned')
  })
})
