// CRC32C as the table check computes it: published vectors, a plain reference on random bytes and ranges, and
// LevelDB's checksum mask.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { crc32c, maskChecksum, unmaskChecksum } from '../src/checksum.ts'

/** CRC32C one byte at a time, straight from the definition (reflected polynomial 0x82f63b78). */
function crc32cReference(data: Uint8Array): number {
  let c = 0xffffffff
  for (const byte of data) {
    c ^= byte
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
  }
  return (c ^ 0xffffffff) >>> 0
}

describe('crc32c', () => {
  it('matches the RFC 3720 (iSCSI) test vectors', () => {
    assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283)
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa)
    assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43)
    assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e)
    assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c)
  })

  it('agrees with the byte-at-a-time definition on any bytes and any range', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.nat(), (data, a, b) => {
        const start = data.length === 0 ? 0 : a % data.length
        const end = start + (data.length === 0 ? 0 : b % (data.length - start + 1))
        assert.equal(crc32c(data, start, end), crc32cReference(data.subarray(start, end)))
      }),
      { numRuns: 500 }
    )
  })

  it('takes a Buffer or a plain Uint8Array over the same bytes alike, and larger inputs (hardware paths)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1000, maxLength: 20_000 }), (data) => {
        const expected = crc32cReference(data)
        assert.equal(crc32c(data), expected)
        assert.equal(crc32c(Buffer.from(data)), expected)
      }),
      { numRuns: 50 }
    )
  })
})

describe('checksum mask', () => {
  // That stored checksums unmask to the CRC of their block is shown on real table files (table-file.test.ts).
  it('changes the value, twice over, and unmask undoes mask for any value', () => {
    const crc = crc32c(new TextEncoder().encode('foo'))
    assert.notEqual(maskChecksum(crc), crc)
    assert.notEqual(maskChecksum(maskChecksum(crc)), crc)
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (x) => {
        assert.equal(unmaskChecksum(maskChecksum(x)), x)
        assert.equal(unmaskChecksum(unmaskChecksum(maskChecksum(maskChecksum(x)))), x)
      })
    )
  })
})
