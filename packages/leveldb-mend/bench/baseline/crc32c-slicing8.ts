// The CRC32C this code used before `@node-rs/crc32` replaced it: plain JavaScript, "slicing by 8". Kept only so
// bench/codecs.ts can measure the choice again; nothing in src/ uses it.

// Eight tables, so the loop takes eight bytes per step.
const CRC_TABLES = (() => {
  const t = new Uint32Array(256 * 8)
  for (let i = 0; i < 256; i++) {
    let c = i
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
    t[i] = c >>> 0
  }
  for (let s = 1; s < 8; s++) {
    for (let i = 0; i < 256; i++) {
      const prev = t[(s - 1) * 256 + i]!
      t[s * 256 + i] = (prev >>> 8) ^ t[prev & 0xff]!
    }
  }
  return t
})()

/** CRC32C (Castagnoli) of `data[start, end)`, as LevelDB computes it. */
export function crc32c(data: Uint8Array, start = 0, end = data.length): number {
  const t = CRC_TABLES
  let c = -1
  let i = start
  for (; i + 8 <= end; i += 8) {
    const w = c ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24))
    c =
      t[1792 + (w & 0xff)]! ^
      t[1536 + ((w >>> 8) & 0xff)]! ^
      t[1280 + ((w >>> 16) & 0xff)]! ^
      t[1024 + (w >>> 24)]! ^
      t[768 + data[i + 4]!]! ^
      t[512 + data[i + 5]!]! ^
      t[256 + data[i + 6]!]! ^
      t[data[i + 7]!]!
  }
  for (; i < end; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8)
  return ~c >>> 0
}
