// Base58btc (the alphabet of peer id texts), decoded without the generic base-x decoder: that one works a byte at a
// time (~2 us for a 52-character Ed25519 id) and was the largest single cost of an open. This one works in 24-bit
// limbs, four characters at a time.

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
/** The value of each base58 character by char code, -1 for any other character. */
export const BASE58_DIGITS = new Int8Array(128).fill(-1)
for (let i = 0; i < ALPHABET.length; i++) BASE58_DIGITS[ALPHABET.charCodeAt(i)] = i

const LIMB = 2 ** 24
// log2(58) / 24: limbs needed per character, rounded up below.
const LIMBS_PER_CHAR = Math.log2(58) / 24

/** The bytes of a base58btc string (no multibase prefix), or undefined when a character is not base58. */
export function decodeBase58(text: string): Uint8Array | undefined {
  let zeros = 0
  while (zeros < text.length && text.charCodeAt(zeros) === 49 /* '1' */) zeros++
  // Little-endian limbs; each stays below 2^24, so limb * 58^4 + carry stays exact in a double.
  const limbs = new Float64Array(Math.ceil((text.length - zeros) * LIMBS_PER_CHAR) + 1)
  let used = 0
  let i = zeros
  while (i < text.length) {
    let chunk = 0
    let scale = 1
    for (let k = 0; k < 4 && i < text.length; k++, i++) {
      const code = text.charCodeAt(i)
      const digit = code < 128 ? BASE58_DIGITS[code]! : -1
      if (digit < 0) return undefined
      chunk = chunk * 58 + digit
      scale *= 58
    }
    let carry = chunk
    for (let j = 0; j < used; j++) {
      const x = limbs[j]! * scale + carry
      carry = Math.floor(x / LIMB)
      limbs[j] = x - carry * LIMB
    }
    while (carry > 0) {
      limbs[used++] = carry % LIMB
      carry = Math.floor(carry / LIMB)
    }
  }
  let size = used * 3
  if (used > 0) {
    const top = limbs[used - 1]!
    size -= top < 0x100 ? 2 : top < 0x10000 ? 1 : 0
  }
  const out = new Uint8Array(zeros + size)
  let at = out.length - 1
  for (let j = 0; j < used; j++) {
    const v = limbs[j]!
    out[at--] = v & 0xff
    if (at < zeros) break
    out[at--] = (v >>> 8) & 0xff
    if (at < zeros) break
    out[at--] = v >>> 16
  }
  return out
}
