// Peer ids are stored under their base58btc text. Opening a store turns every key back into a PeerId. The
// generic base-x decoder (one byte at a time, ~2 us for a 52-character Ed25519 id) was the largest single cost
// of an open, hence the decoder below, which works in 24-bit limbs, four characters at a time. The two common
// forms, Ed25519 identity ids and RSA ids, are now not decoded at all at open: they become a StoredPeerId
// (lazy-peer-id.ts), which keeps the text and builds its digest and public key on first use.
import type { PeerId } from '@libp2p/interface'
import { peerIdFromMultihash, peerIdFromString } from '@libp2p/peer-id'
import * as Digest from 'multiformats/hashes/digest'
import { StoredEd25519PeerId, StoredRSAPeerId } from './lazy-peer-id.ts'

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

// Base58 digits sort in ASCII order, so among texts of one length, string order is numeric order. An Ed25519
// identity id is the bytes 00 24 08 01 12 20 and any 32 key bytes: exactly the 52-character texts from the
// first to the last below. An RSA id is 12 20 and any 32 hash bytes. (Bounds checked in peer-key.test.ts.)
export const ED25519_FIRST = '12D3KooW9pNAk8aiBuGVQtWRdbkLmo5qVL3e2h5UxbN2Nz9ttwiw'
export const ED25519_LAST = '12D3KooWT3gYEvLJyx1FyyHqrmvdy1tMjpgxmu9aSeKMEuafQtyC'
export const RSA_FIRST = 'QmNLei78zWmzUdbeRB3CiUfAizWUrbeeZh5K1rhAQKCh51'
export const RSA_LAST = 'QmfZy5bvk7a3DQAjCbGNtmrPXWkyVvPrdnZMyBZ5q5ieKG'

/** True when `text` is base58 and between `first` and `last`, which have one length. */
function inRange(text: string, first: string, last: string): boolean {
  if (text.length !== first.length || text < first || text > last) return false
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code >= 128 || DIGITS[code]! < 0) return false
  }
  return true
}

/** The PeerId a stored key names; throws as `peerIdFromString` does when the key is not a peer id. */
export function peerIdFromKey(key: string): PeerId {
  // These never throw in the library either: every 32-byte key or hash is a valid id.
  if (inRange(key, ED25519_FIRST, ED25519_LAST)) return new StoredEd25519PeerId(key)
  if (inRange(key, RSA_FIRST, RSA_LAST)) return new StoredRSAPeerId(key)
  const first = key.charCodeAt(0)
  // Other base58btc multihashes ('1...' identity, 'Q...' sha2-256), secp256k1 ids among them: the library
  // builds (and for secp256k1 validates) the key now. Anything else takes the library's own path.
  if (first === 49 || first === 81) {
    const bytes = decodeBase58(key)
    if (bytes != null) return peerIdFromMultihash(Digest.decode(bytes))
  }
  return peerIdFromString(key)
}
