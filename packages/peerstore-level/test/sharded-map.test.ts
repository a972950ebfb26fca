// The peer index's sharded map behaves as a Map of the same entries (its iteration order aside).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ShardedMap } from '../src/sharded-map.ts'
import { peerTextOf as keyOf, seeded } from './fixtures/seeded.ts'

describe('ShardedMap', () => {
  it('holds what a Map holds through random sets and deletes', () => {
    const next = seeded(21)
    const sharded = new ShardedMap<number>()
    const reference = new Map<string, number>()
    for (let i = 0; i < 20_000; i++) {
      const key = keyOf(Math.floor(next() * 5000))
      if (next() < 0.3) assert.equal(sharded.delete(key), reference.delete(key))
      else {
        sharded.set(key, i)
        reference.set(key, i)
      }
      assert.equal(sharded.size, reference.size)
    }
    for (const key of [...reference.keys(), keyOf(999_999), '', 'x']) {
      assert.equal(sharded.get(key), reference.get(key))
      assert.equal(sharded.has(key), reference.has(key))
    }
    const byKey = (a: [string, number], b: [string, number]) => (a[0] < b[0] ? -1 : 1)
    assert.deepEqual([...sharded.entries()].sort(byKey), [...reference.entries()].sort(byKey))
    assert.deepEqual([...sharded].sort(byKey), [...reference].sort(byKey))
    assert.deepEqual([...sharded.keys()].sort(), [...reference.keys()].sort())
    assert.deepEqual(
      [...sharded.values()].sort((a, b) => a - b),
      [...reference.values()].sort((a, b) => a - b)
    )
  })

  it('an iterator outlives deletes, as a Map iterator does, and visits every entry left once', () => {
    const sharded = new ShardedMap<number>()
    for (let i = 0; i < 3000; i++) sharded.set(keyOf(i), i)
    const seen: number[] = []
    const deleted = new Set<number>()
    for (const [key, value] of sharded.entries()) {
      assert.ok(!deleted.has(value), `${value} was visited after its delete`)
      seen.push(value)
      // Every entry it meets removes itself and the next-numbered one.
      sharded.delete(key)
      sharded.delete(keyOf(value + 1))
      deleted.add(value)
      deleted.add(value + 1)
    }
    assert.equal(sharded.size, 0)
    assert.equal(new Set(seen).size, seen.length)
    // Every entry was either visited or deleted by a visited one.
    for (let i = 0; i < 3000; i++)
      assert.ok(seen.includes(i) || seen.includes(i - 1), `${i} neither visited nor deleted`)
  })
})
