import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'

// The dashboard's formatting script, loaded as the browser loads it (a classic script defining a global).
interface Format {
  formatBytes(n: number): string
  formatRate(n: number): string
  byteTicks(splits: number[], suffix?: string): string[]
  numberTicks(splits: number[], suffix?: string): string[]
  niceTop(value: number, binary: boolean, minTop?: number): number
  ttlClass(address: { ttl: number | null; ttlName?: string }): string
  timeLeft(expiresAt: number | null, now: number): string
}
let F: Format

describe('dashboard formatting (assets/format.js)', () => {
  before(async () => {
    await import('../assets/format.js' as string)
    F = (globalThis as unknown as { PeerscopeFormat: Format }).PeerscopeFormat
  })

  it('an axis at zero traffic reads 0 to 1 B/s with distinct ticks, never "1, 1, 1, 0, 0"', () => {
    const top = F.niceTop(0, true)
    assert.equal(top, 1)
    const ticks = F.byteTicks([0, 0.2, 0.4, 0.6, 0.8, 1], '/s')
    assert.deepEqual(ticks, ['0 B/s', '0.2 B/s', '0.4 B/s', '0.6 B/s', '0.8 B/s', '1.0 B/s'])
    assert.equal(new Set(ticks).size, ticks.length)
  })

  it('tiny rates keep their own scale and decimals', () => {
    assert.equal(F.niceTop(0.03, true), 0.03)
    assert.equal(F.niceTop(0.031, true), 0.04)
    assert.deepEqual(F.byteTicks([0, 0.01, 0.02, 0.03, 0.04], '/s'), [
      '0 B/s',
      '0.01 B/s',
      '0.02 B/s',
      '0.03 B/s',
      '0.04 B/s'
    ])
    assert.equal(F.formatRate(0.25), '0.25 B/s')
  })

  it('byte axes use one 1024-based unit and the decimals their step needs', () => {
    assert.deepEqual(F.byteTicks([0, 512, 1024, 1536, 2048]), [
      '0 KiB',
      '0.5 KiB',
      '1.0 KiB',
      '1.5 KiB',
      '2.0 KiB'
    ])
    assert.deepEqual(F.byteTicks([0, 1048576, 2097152]), ['0 MiB', '1 MiB', '2 MiB'])
    assert.equal(F.niceTop(1500, true), 1.5 * 1024)
    assert.equal(F.niceTop(5 * 1024 * 1024 + 1, true), 6 * 1024 * 1024)
  })

  it('count axes read whole numbers when the step is whole', () => {
    assert.deepEqual(F.numberTicks([0, 1, 2, 3]), ['0', '1', '2', '3'])
    assert.deepEqual(F.numberTicks([0, 0.5, 1]), ['0', '0.5', '1'])
    assert.deepEqual(F.numberTicks([0, 2000, 4000], ' ms'), ['0 ms', '2,000 ms', '4,000 ms'])
  })

  it('sizes and TTL classes', () => {
    assert.equal(F.formatBytes(0), '0 B')
    assert.equal(F.formatBytes(1536), '1.5 KiB')
    assert.equal(F.formatBytes(200 * 1024 * 1024), '200 MiB')
    assert.equal(F.ttlClass({ ttl: null, ttlName: 'connected' }), 'connected')
    assert.equal(F.ttlClass({ ttl: 120_000 }), 'temporary')
    assert.equal(F.ttlClass({ ttl: 3_600_000 }), 'address')
    assert.equal(F.timeLeft(null, 0), 'never')
    assert.equal(F.timeLeft(1000, 2000), 'expired')
    assert.equal(F.timeLeft(100_000 + 61_000, 100_000), '1m 1s')
  })
})
