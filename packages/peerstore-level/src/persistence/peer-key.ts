// Peer ids are stored under their base58btc text. Opening a store turns every key back into a PeerId: the two
// common forms, Ed25519 identity ids and RSA ids, are not decoded at all then: they become a StoredPeerId
// (lazy-peer-id.ts), which keeps the text and builds its digest and public key on first use. Other ids are
// decoded with base58.ts.
import type { PeerId } from '@libp2p/interface'
import { peerIdFromMultihash, peerIdFromString } from '@libp2p/peer-id'
import * as Digest from 'multiformats/hashes/digest'
import { PeerStoreError } from '../errors.ts'
import { BASE58_DIGITS, decodeBase58 } from './base58.ts'
import { StoredEd25519PeerId, StoredRSAPeerId } from './lazy-peer-id.ts'

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
    if (code >= 128 || BASE58_DIGITS[code]! < 0) return false
  }
  return true
}

/** The text-only PeerId of `key` when it is an Ed25519 identity id or an RSA id, else undefined. */
export function compactPeerId(key: string): PeerId | undefined {
  // These never throw in the library either: every 32-byte key or hash is a valid id.
  if (inRange(key, ED25519_FIRST, ED25519_LAST)) return new StoredEd25519PeerId(key)
  if (inRange(key, RSA_FIRST, RSA_LAST)) return new StoredRSAPeerId(key)
  return undefined
}

/**
 * The text-only PeerId for `peer`, whose text is `key`: a PeerId's own text is canonical, so an Ed25519 or RSA
 * one needs no check. Undefined for the other kinds (their objects are kept as given).
 */
export function compactPeerIdOf(peer: PeerId, key: string): PeerId | undefined {
  if (peer instanceof StoredEd25519PeerId || peer instanceof StoredRSAPeerId) return peer
  if (peer.type === 'Ed25519' && key.length === ED25519_FIRST.length) return new StoredEd25519PeerId(key)
  if (peer.type === 'RSA' && key.length === RSA_FIRST.length) return new StoredRSAPeerId(key)
  return undefined
}

/** The PeerId a stored key names; throws as `peerIdFromString` does when the key is not a peer id. */
export function peerIdFromKey(key: string): PeerId {
  const compact = compactPeerId(key)
  if (compact !== undefined) return compact
  const first = key.charCodeAt(0)
  // Other base58btc multihashes ('1...' identity, 'Q...' sha2-256), secp256k1 ids among them: the library
  // builds (and for secp256k1 validates) the key now. Anything else takes the library's own path.
  if (first === 49 || first === 81) {
    const bytes = decodeBase58(key)
    if (bytes != null) return peerIdFromMultihash(Digest.decode(bytes))
  }
  return peerIdFromString(key)
}

/** Ids outside the two common ranges whose text was found to read back as itself, with that text. */
const checkedTexts = new WeakMap<object, string>()

/**
 * The key `peer` is stored under: its text, once it is known to read back (`peerIdFromKey`) as the same text. A
 * forged PeerId whose text has control characters, or an id no reopen can read (a URL peer id), gets
 * `ERR_INVALID_PEER_ID` instead of a record the next open would quarantine.
 */
export function storableKey(peer: PeerId): string {
  const text = peer.toString()
  if (typeof text !== 'string') {
    throw new PeerStoreError('ERR_INVALID_PEER_ID', 'a PeerId whose toString() is not a string')
  }
  if (inRange(text, ED25519_FIRST, ED25519_LAST) || inRange(text, RSA_FIRST, RSA_LAST)) return text
  if (checkedTexts.get(peer) === text) return text
  let readBack: string | undefined
  try {
    readBack = peerIdFromKey(text).toString()
  } catch {}
  if (readBack !== text) {
    throw new PeerStoreError(
      'ERR_INVALID_PEER_ID',
      `the peer id ${JSON.stringify(text.slice(0, 100))} does not read back as itself: only Ed25519, secp256k1 ` +
        'and RSA peer ids in base58btc text can be stored'
    )
  }
  checkedTexts.set(peer, text)
  return text
}
