// The Snappy decoder this code used before the `snappy` package replaced it: plain JavaScript, strict (it refuses
// every stream whose parts do not add up to the declared length). Kept only so bench/codecs.ts can measure the
// choice again; nothing in src/ uses it.

function varint(buf: Uint8Array, pos: number): [number, number] {
  let value = 0
  for (let shift = 0; shift < 64; shift += 7) {
    const b = buf[pos++]
    if (b === undefined) throw new Error('varint past end')
    value += (b & 0x7f) * 2 ** shift
    if (b < 0x80) return [value, pos]
  }
  throw new Error('varint too long')
}

/** Snappy block decompression (index and meta-index blocks may be compressed). */
export function unsnappy(src: Uint8Array): Uint8Array {
  const [length, start] = varint(src, 0)
  if (length > 64 * 1024 * 1024) throw new Error('snappy length')
  const out = new Uint8Array(length)
  const end = src.length
  let pos = start
  let o = 0
  // Bytes are read without bounds checks below; an element past the end reads as undefined, which the checks
  // after each element catch (NaN compares false), so the loop stays simple enough to run fast on first use.
  while (pos < end) {
    const tag = src[pos++]!
    const kind = tag & 3
    if (kind === 0) {
      let n = tag >>> 2
      if (n >= 60) {
        const bytes = n - 59
        n = 0
        for (let i = 0; i < bytes; i++) n += src[pos++]! * 2 ** (8 * i)
      }
      n += 1
      if (!(pos + n <= end && o + n <= length)) throw new Error('snappy literal')
      out.set(src.subarray(pos, pos + n), o)
      pos += n
      o += n
      continue
    }
    let n: number
    let offset: number
    if (kind === 1) {
      n = ((tag >>> 2) & 7) + 4
      offset = ((tag >>> 5) << 8) | src[pos++]!
    } else if (kind === 2) {
      n = (tag >>> 2) + 1
      offset = src[pos]! | (src[pos + 1]! << 8)
      pos += 2
    } else {
      n = (tag >>> 2) + 1
      offset = src[pos]! + src[pos + 1]! * 2 ** 8 + src[pos + 2]! * 2 ** 16 + src[pos + 3]! * 2 ** 24
      pos += 4
    }
    if (!(pos <= end && offset > 0 && offset <= o && o + n <= length)) throw new Error('snappy copy')
    if (offset >= n) out.copyWithin(o, o - offset, o - offset + n)
    else for (let i = 0; i < n; i++) out[o + i] = out[o - offset + i]! // overlaps its own output
    o += n
  }
  if (o !== length) throw new Error('snappy length mismatch')
  return out
}
