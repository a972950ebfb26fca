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

  it('a walk that removes entries as it goes leaves what a Map left by deletes, through sets and deletes between steps', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const next = seeded(100 + seed)
      const ordered = new OrderedShardedMap<number>()
      const reference = new Map<string, number>()
      const keys = 40 + Math.floor(next() * 400)
      for (let i = 0; i < keys; i++) {
        ordered.set(keyOf(i), i)
        reference.set(keyOf(i), i)
      }
      const walk = ordered.walk()
      const iterator = reference.entries()
      for (let op = 0; ; op++) {
        const r = next()
        if (r < 0.15) {
          // A write between steps (GC yields between slices): a key held, removed by the walk, or new.
          const key = keyOf(Math.floor(next() * keys * 1.2))
          if (next() < 0.5) assert.equal(ordered.delete(key), reference.delete(key), `seed ${seed}, op ${op}`)
          else {
            ordered.set(key, -op)
            reference.set(key, -op)
          }
          assert.equal(ordered.size, reference.size)
          continue
        }
        const step = iterator.next()
        assert.equal(walk.next(), step.done !== true, `seed ${seed}, op ${op}: the walk's step`)
        if (step.done === true) break
        assert.equal(walk.key, step.value[0])
        assert.equal(walk.value, step.value[1])
        if (next() < 0.7) {
          walk.remove()
          reference.delete(step.value[0])
          assert.equal(ordered.has(step.value[0]), false)
          assert.equal(ordered.get(step.value[0]), undefined)
        }
        assert.equal(ordered.size, reference.size)
      }
      assert.equal(walk.next(), false, 'a walk at its end stays there')
      assert.deepEqual([...ordered], [...reference], `seed ${seed}: what the walk left`)
      // The purge in steps as short as can be, with writes between them (GC yields between its slices).
      let steps = 0
      while (!ordered.purgeTombstones(Number.NEGATIVE_INFINITY)) {
        steps++
        const key = keyOf(Math.floor(next() * keys * 1.2))
        if (next() < 0.5)
          assert.equal(ordered.delete(key), reference.delete(key), `seed ${seed}, purge ${steps}`)
        else {
          ordered.set(key, 1e6 + steps)
          reference.set(key, 1e6 + steps)
        }
      }
      assert.equal(ordered.tombstones, 0, `seed ${seed}: every tombstone purged`)
      assert.deepEqual([...ordered], [...reference], `seed ${seed}: what the purge left`)
      for (let i = 0; i < keys * 1.2; i++) {
        assert.equal(ordered.has(keyOf(i)), reference.has(keyOf(i)))
        assert.equal(ordered.get(keyOf(i)), reference.get(keyOf(i)))
      }
      // Keys the walk removed can be added again, and deleted, as a Map's.
      for (let i = 0; i < keys; i += 3) {
        ordered.set(keyOf(i), i)
        reference.set(keyOf(i), i)
      }
      for (let i = 0; i < keys; i += 5) assert.equal(ordered.delete(keyOf(i)), reference.delete(keyOf(i)))
      assert.deepEqual([...ordered], [...reference], `seed ${seed}: after the walk`)
      assert.equal(ordered.size, reference.size)
    }
  })

  it('a purge drops the tombstones in steps bounded by its deadline, and a table left empty at once', () => {
    const ordered = new OrderedShardedMap<number>()
    for (let i = 0; i < 20_000; i++) ordered.set(keyOf(i), i)
    // One peer in a hundred removed: every table keeps live entries, so each is swept.
    const some = ordered.walk()
    while (some.next()) if (some.value % 100 === 0) some.remove()
    assert.equal(ordered.tombstones, 200)
    assert.equal(ordered.size, 19_800)
    let calls = 1
    while (!ordered.purgeTombstones(Number.NEGATIVE_INFINITY)) calls++
    // A deadline already past stops a sweep every 256 entries: the 20,000 entries (less those of a table holding no
    // tombstone, which is not swept) take dozens of calls, not one.
    assert.ok(calls >= 40, `swept in ${calls} calls`)
    assert.equal(ordered.tombstones, 0)
    assert.equal(ordered.has(keyOf(100)), false)
    assert.equal(ordered.get(keyOf(101)), 101)
    // Every peer removed: each table is dropped whole, in one call whatever the deadline.
    const all = ordered.walk()
    while (all.next()) all.remove()
    assert.equal(ordered.tombstones, 19_800)
    assert.equal(ordered.purgeTombstones(Number.NEGATIVE_INFINITY), true)
    assert.equal(ordered.tombstones, 0)
    assert.equal(ordered.size, 0)
    assert.deepEqual([...ordered], [])
  })
})
