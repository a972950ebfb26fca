// Peer ids are stored under their base58btc text. Opening a store turns every key back into a PeerId, and
// the generic base-x decoder (one byte at a time, ~2 us for a 52-character Ed25519 id) was the largest
// single cost of an open. This decoder works in 24-bit limbs, four characters at a time.
import type { PeerId } from '@libp2p/interface'
import { peerIdFromMultihash, peerIdFromString } from '@libp2p/peer-id'
import * as Digest from 'multiformats/hashes/digest'

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
const DIGITS = new Int8Array(128).fill(-1)
for (let i = 0; i < ALPHABET.length; i++) DIGITS[ALPHABET.charCodeAt(i)] = i

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
      const digit = code < 128 ? DIGITS[code]! : -1
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

/** The PeerId a stored key names; throws as `peerIdFromString` does when the key is not a peer id. */
export function peerIdFromKey(key: string): PeerId {
  const first = key.charCodeAt(0)
  // Base58btc multihashes ('1...' identity, 'Q...' sha2-256); anything else takes the library's path.
  if (first === 49 || first === 81) {
    const bytes = decodeBase58(key)
    if (bytes != null) return peerIdFromMultihash(Digest.decode(bytes))
  }
  return peerIdFromString(key)
}
