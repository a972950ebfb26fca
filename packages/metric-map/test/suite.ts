import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import type { MetricMap } from '../src/index.ts'

/** Asserts `fn` throws a MetricMapError with `code`. */
export function assertCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.equal((err as { name?: string }).name, 'MetricMapError')
    assert.equal((err as { code?: string }).code, code)
    return true
  })
}

const sorted = (m: Iterable<[string, number]>): Array<[string, number]> =>
  [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))

/** The `MetricMap` contract, run against any implementation. `factory` returns a fresh, empty map. */
export function metricMapSuite(name: string, factory: () => MetricMap): void {
  describe(`MetricMap contract: ${name}`, () => {
    test('add creates at 0, accumulates and returns the new value', () => {
      const m = factory()
      assert.equal(m.add('a', 2), 2)
      assert.equal(m.add('a', 3), 5)
      assert.equal(m.add('a', -7), -2)
      assert.equal(m.add('b', 0), 0)
      assert.equal(m.get('a'), -2)
      assert.equal(m.get('b'), 0)
      assert.equal(m.size, 2)
    })

    test('get and has never create an entry', () => {
      const m = factory()
      assert.equal(m.get('missing'), undefined)
      assert.equal(m.has('missing'), false)
      assert.equal(m.size, 0)
      m.add('x', 1)
      assert.equal(m.has('x'), true)
    })

    test('delete removes one key and reports whether it was there', () => {
      const m = factory()
      m.add('a', 1)
      m.add('b', 2)
      assert.equal(m.delete('a'), true)
      assert.equal(m.delete('a'), false)
      assert.equal(m.delete('never'), false)
      assert.equal(m.get('a'), undefined)
      assert.equal(m.has('a'), false)
      assert.equal(m.get('b'), 2)
      assert.equal(m.size, 1)
      assert.equal(m.add('a', 5), 5, 'a deleted key restarts at 0')
    })

    test('clear removes every key and the map stays usable', () => {
      const m = factory()
      for (let i = 0; i < 50; i++) m.add(`k${i}`, i)
      m.clear()
      assert.equal(m.size, 0)
      assert.deepEqual([...m.entries()], [])
      assert.equal(m.get('k3'), undefined)
      assert.equal(m.add('k3', 1), 1)
      assert.equal(m.size, 1)
    })

    test('entries, keys, iterator and snapshot agree; a snapshot is a copy', () => {
      const m = factory()
      const expected: Array<[string, number]> = []
      for (let i = 0; i < 20; i++) {
        m.add(`peer-${i}`, i * 3)
        expected.push([`peer-${i}`, i * 3])
      }
      m.delete('peer-4')
      const want = sorted(expected.filter(([k]) => k !== 'peer-4'))
      assert.deepEqual(sorted(m.entries()), want)
      assert.deepEqual(sorted(m), want)
      assert.deepEqual(
        [...m.keys()].sort(),
        want.map(([k]) => k)
      )
      const snap = m.snapshot()
      assert.ok(snap instanceof Map)
      assert.deepEqual(sorted(snap), want)
      m.add('peer-1', 100)
      m.add('new', 1)
      assert.equal(snap.get('peer-1'), 3)
      assert.equal(snap.has('new'), false)
    })

    test('storeOrModify stores when absent and modifies when present', () => {
      const m = factory()
      let calls = 0
      const bump = (_key: string, current: number): number => {
        calls++
        return current * 10
      }
      assert.equal(m.storeOrModify('k', 7, bump), 7)
      assert.equal(calls, 0)
      assert.equal(m.storeOrModify('k', 7, bump), 70)
      assert.equal(calls, 1)
      assert.equal(m.get('k'), 70)
      const seen: Array<[string, number]> = []
      m.storeOrModify('k', 0, (key, current) => {
        seen.push([key, current])
        return current
      })
      assert.deepEqual(seen, [['k', 70]])
    })

    test('storeOrModify rejects a bad value or result without changing the map', () => {
      const m = factory()
      assertCode(() => m.storeOrModify('k', 1.5, (_k, c) => c), 'ERR_INVALID_DELTA')
      assert.equal(m.has('k'), false)
      m.add('k', 4)
      assertCode(() => m.storeOrModify('k', 1, () => Number.NaN), 'ERR_INVALID_DELTA')
      assert.equal(m.get('k'), 4)
    })

    test('a handle adds and reads like the map', () => {
      const m = factory()
      const h = m.handle('stream')
      assert.equal(h.key, 'stream')
      assert.equal(h.get(), 0)
      assert.equal(h.add(10), 10)
      assert.equal(m.add('stream', 5), 15)
      assert.equal(h.get(), 15)
      const twin = m.handle('stream')
      assert.equal(twin.add(1), 16)
      assert.equal(h.get(), 16)
    })

    test("a handle's increment adds like add and returns nothing", () => {
      const m = factory()
      const h = m.handle('hot')
      assert.equal(h.increment(7), undefined)
      h.increment(-2)
      assert.equal(h.get(), 5)
      assert.equal(m.get('hot'), 5)
      m.delete('hot')
      h.increment(1)
      assert.equal(m.get('hot'), 1, 'increment re-creates a deleted key, as add does')
      assertCode(() => h.increment(0.5), 'ERR_INVALID_DELTA')
      assert.equal(m.get('hot'), 1)
    })

    test('increment and storeOrModify stay exact past 32 bits, as byte counts soon are', () => {
      const m = factory()
      const h = m.handle('bytes')
      const chunk = 65_536
      for (let i = 0; i < 40_000; i++) h.increment(chunk) // 2.6e9: past the small-integer range
      assert.equal(h.get(), 40_000 * chunk)
      h.increment(2 ** 52)
      assert.equal(m.get('bytes'), 2 ** 52 + 40_000 * chunk)
      assert.equal(
        m.storeOrModify('bytes', 1, (_key, current) => current - 2 ** 52),
        40_000 * chunk,
        'storeOrModify sees the exact current value'
      )
      assert.deepEqual([...m.entries()], [['bytes', 40_000 * chunk]])
    })

    test('a handle survives delete: reads 0, and its next add re-creates the key', () => {
      const m = factory()
      const h = m.handle('p')
      h.add(9)
      m.delete('p')
      assert.equal(h.get(), 0)
      assert.equal(m.has('p'), false)
      assert.equal(h.add(2), 2)
      assert.equal(m.get('p'), 2)
      m.delete('p')
      m.add('p', 40)
      assert.equal(h.get(), 40, 'a handle sees the key re-created by someone else')
      assert.equal(h.add(1), 41)
    })

    test('a handle survives clear, and never reaches another key', () => {
      const m = factory()
      const h = m.handle('a')
      h.add(3)
      m.clear()
      for (let i = 0; i < 100; i++) m.add(`other-${i}`, 1_000_000 + i)
      assert.equal(h.get(), 0)
      assert.equal(h.add(1), 1)
      for (let i = 0; i < 100; i++) assert.equal(m.get(`other-${i}`), 1_000_000 + i)
      assert.equal(m.get('a'), 1)
    })

    test('invalid deltas throw ERR_INVALID_DELTA and change nothing', () => {
      const m = factory()
      m.add('k', 1)
      const h = m.handle('k')
      for (const bad of [
        Number.NaN,
        1.5,
        Number.POSITIVE_INFINITY,
        Number.MAX_SAFE_INTEGER + 1,
        '1' as unknown as number,
        1n as unknown as number
      ]) {
        assertCode(() => m.add('k', bad), 'ERR_INVALID_DELTA')
        assertCode(() => m.add('fresh', bad), 'ERR_INVALID_DELTA')
        assertCode(() => h.add(bad), 'ERR_INVALID_DELTA')
      }
      assert.equal(m.get('k'), 1)
      assert.equal(m.has('fresh'), false)
    })

    test('non-string keys throw ERR_INVALID_KEY', () => {
      const m = factory()
      for (const bad of [1, null, undefined, {}, Symbol('s')] as unknown as string[]) {
        assertCode(() => m.add(bad, 1), 'ERR_INVALID_KEY')
        assertCode(() => m.handle(bad), 'ERR_INVALID_KEY')
        assertCode(() => m.storeOrModify(bad, 1, (_k, c) => c), 'ERR_INVALID_KEY')
      }
      assert.equal(m.size, 0)
    })

    test('property-like keys are plain keys; a non-string never hits the key its string form names', () => {
      const m = factory()
      const keys = [
        '__proto__',
        'constructor',
        'toString',
        'hasOwnProperty',
        '0',
        '1',
        '4294967295',
        'length'
      ]
      for (let round = 1; round <= 3; round++) {
        // Round 2 and 3 go through the per-thread key cache of the shared map.
        for (const [i, k] of keys.entries()) assert.equal(m.add(k, i + 1), (i + 1) * round, `key ${k}`)
      }
      for (const [i, k] of keys.entries()) assert.equal(m.get(k), (i + 1) * 3)
      assert.equal(m.size, keys.length)
      m.add('[object Object]', 1)
      m.add('null', 1)
      m.add('undefined', 1)
      for (const bad of [1, null, undefined, {}, [0]] as unknown as string[]) {
        assertCode(() => m.add(bad, 1), 'ERR_INVALID_KEY')
      }
      assert.equal(m.get('1'), 18)
      assert.equal(m.get('0'), 15)
      assert.equal(m.get('[object Object]'), 1)
      assert.equal(m.size, keys.length + 3)
    })

    test('values are exact up to MAX_SAFE_INTEGER both ways', () => {
      const m = factory()
      const max = Number.MAX_SAFE_INTEGER
      assert.equal(m.add('big', max - 1), max - 1)
      assert.equal(m.add('big', 1), max)
      assert.equal(m.get('big'), max)
      assert.equal(m.add('big', -max), 0)
      assert.equal(m.add('neg', -max), -max)
      const h = m.handle('h')
      h.add(max)
      assert.equal(h.get(), max)
      assert.equal(m.snapshot().get('h'), max)
    })

    test('unicode keys round-trip and stay distinct', () => {
      const m = factory()
      const keys = ['/ipfs/id/1.0.0', 'é', 'e\u0301', '日本語', '😀', '😀😀', '', 'a\u0000b', 'Ω≈ç√']
      for (const [i, k] of keys.entries()) m.add(k, i + 1)
      assert.equal(m.size, keys.length)
      for (const [i, k] of keys.entries()) assert.equal(m.get(k), i + 1, `key ${JSON.stringify(k)}`)
      assert.deepEqual(sorted(m.snapshot()), sorted(keys.map((k, i) => [k, i + 1])))
    })

    test('random operation sequences match a plain Map model', () => {
      const key = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'ü', '🙂', 'peer-123')
      const op = fc.oneof(
        fc.tuple(fc.constant('add' as const), key, fc.integer({ min: -1000, max: 1000 })),
        fc.tuple(fc.constant('hadd' as const), key, fc.integer({ min: -1000, max: 1000 })),
        fc.tuple(fc.constant('delete' as const), key, fc.constant(0)),
        fc.tuple(fc.constant('store' as const), key, fc.integer({ min: 0, max: 50 })),
        fc.tuple(fc.constant('clear' as const), key, fc.constant(0))
      )
      fc.assert(
        fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
          const m = factory()
          const model = new Map<string, number>()
          const handles = new Map<string, ReturnType<MetricMap['handle']>>()
          for (const [kind, k, n] of ops) {
            if (kind === 'add') {
              model.set(k, (model.get(k) ?? 0) + n)
              assert.equal(m.add(k, n), model.get(k))
            } else if (kind === 'hadd') {
              let h = handles.get(k)
              if (h === undefined) {
                h = m.handle(k)
                handles.set(k, h)
                if (!model.has(k)) model.set(k, 0)
              }
              model.set(k, (model.get(k) ?? 0) + n)
              assert.equal(h.add(n), model.get(k))
            } else if (kind === 'delete') {
              assert.equal(m.delete(k), model.delete(k))
            } else if (kind === 'store') {
              const next = model.has(k) ? (model.get(k) ?? 0) + n : n
              model.set(k, next)
              assert.equal(
                m.storeOrModify(k, n, (_k, c) => c + n),
                next
              )
            } else {
              m.clear()
              model.clear()
            }
            assert.equal(m.size, model.size)
          }
          assert.deepEqual(sorted(m.snapshot()), sorted(model))
          for (const [k, h] of handles) assert.equal(h.get(), model.get(k) ?? 0)
        }),
        { numRuns: 200, seed: 0x5eed }
      )
    })
  })
}
