/**
 * UTF-8 encoding and FNV-1a hashing of a key in one pass, into a caller-owned scratch buffer: no allocation per
 * lookup, and the bytes are exactly what the shared table stores.
 */

/** Replacement character for lone surrogates, as `TextEncoder` does. */
const REPLACEMENT = 0xfffd
const FNV_OFFSET = 0x811c9dc5
const FNV_PRIME = 0x01000193

/**
 * Writes the UTF-8 bytes of `key` into `out` and returns their count, or -1 when they do not fit in `out`.
 */
export function encodeKey(key: string, out: Uint8Array): number {
  const limit = out.length
  let n = 0
  for (let i = 0; i < key.length; i++) {
    let c = key.charCodeAt(i)
    if (c < 0x80) {
      if (n >= limit) return -1
      out[n++] = c
      continue
    }
    if (c < 0x800) {
      if (n + 2 > limit) return -1
      out[n++] = 0xc0 | (c >> 6)
      out[n++] = 0x80 | (c & 0x3f)
      continue
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = key.charCodeAt(i + 1)
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00)
        if (n + 4 > limit) return -1
        out[n++] = 0xf0 | (cp >> 18)
        out[n++] = 0x80 | ((cp >> 12) & 0x3f)
        out[n++] = 0x80 | ((cp >> 6) & 0x3f)
        out[n++] = 0x80 | (cp & 0x3f)
        i++
        continue
      }
      c = REPLACEMENT
    }
    if (n + 3 > limit) return -1
    out[n++] = 0xe0 | (c >> 12)
    out[n++] = 0x80 | ((c >> 6) & 0x3f)
    out[n++] = 0x80 | (c & 0x3f)
  }
  return n
}

/** 32-bit FNV-1a over `bytes[0..length)`, as a signed 32-bit integer (what an `Int32Array` stores). */
export function hashBytes(bytes: Uint8Array, length: number): number {
  let h = FNV_OFFSET
  for (let i = 0; i < length; i++) h = Math.imul(h ^ (bytes[i] as number), FNV_PRIME)
  // Murmur3 finaliser: FNV-1a's low bits are weak and the table index uses the low bits.
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  return h | 0
}
