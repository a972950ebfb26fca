// The peer index's map behaves as a Map of the same entries, iteration order included: sets, deletes and
// iterators interleaved at random give what a Map gives.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { OrderedShardedMap } from '../src/ordered-sharded-map.ts'
import { peerTextOf as keyOf, seeded } from './fixtures/seeded.ts'

describe('OrderedShardedMap', () => {
  it('holds what a Map holds, in a Map’s order, through random sets and deletes', () => {
    const next = seeded(31)
    const ordered = new OrderedShardedMap<number>()
    const reference = new Map<string, number>()
    for (let i = 0; i < 20_000; i++) {
      const key = keyOf(Math.floor(next() * 3000))
      if (next() < 0.35) assert.equal(ordered.delete(key), reference.delete(key))
      else {
        ordered.set(key, i)
        reference.set(key, i)
      }
      assert.equal(ordered.size, reference.size)
      if (i % 997 === 0) assert.deepEqual([...ordered], [...reference], `after op ${i}`)
    }
    for (const key of [...reference.keys(), keyOf(999_999), '', 'x']) {
      assert.equal(ordered.get(key), reference.get(key))
      assert.equal(ordered.has(key), reference.has(key))
    }
    assert.deepEqual([...ordered.entries()], [...reference.entries()])
    assert.deepEqual([...ordered.keys()], [...reference.keys()])
    assert.deepEqual([...ordered.values()], [...reference.values()])
  })

  it('iterators interleaved with sets and deletes visit what a Map’s iterators visit', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const next = seeded(seed)
      const ordered = new OrderedShardedMap<number>()
      const reference = new Map<string, number>()
      const iterators: Array<[Iterator<[string, number]>, Iterator<[string, number]>]> = []
      for (let i = 0; i < 3000; i++) {
        const r = next()
        // Few keys, so the last entry is often deleted while an iterator stands on it, and added again.
        const key = keyOf(Math.floor(next() * 12))
        if (r < 0.3) assert.equal(ordered.delete(key), reference.delete(key))
        else if (r < 0.6) {
          ordered.set(key, i)
          reference.set(key, i)
        } else if (r < 0.65) iterators.push([ordered.entries(), reference.entries()])
        else if (iterators.length > 0) {
          const [a, b] = iterators[Math.floor(next() * iterators.length)]!
          assert.deepEqual(a.next(), b.next(), `seed ${seed}, op ${i}`)
        }
      }
      for (const [a, b] of iterators) {
        for (;;) {
          const [x, y] = [a.next(), b.next()]
          assert.deepEqual(x, y, `seed ${seed}: the rest of an iterator`)
          if (y.done === true) break
        }
      }
    }
  })

  it('an iterator made on an empty map sees what is added before its first step', () => {
    const ordered = new OrderedShardedMap<number>()
    const it = ordered.keys()
    ordered.set(keyOf(1), 1)
    ordered.set(keyOf(2), 2)
    assert.deepEqual([...it], [keyOf(1), keyOf(2)])
  })
})
