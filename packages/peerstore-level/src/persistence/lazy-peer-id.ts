// The PeerId of a stored key (see peer-key.ts): an open makes one per stored peer, and most are asked for
// nothing but their text, so only the text is kept; the digest and public key are built on first use and
// kept. Each member behaves as @libp2p/peer-id's PeerId does. Only texts already checked to be an Ed25519
// identity id or an RSA (sha2-256) id are given to these classes.
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import { type Ed25519PublicKey, isPeerId, peerIdSymbol, type RSAPublicKey } from '@libp2p/interface'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import type { MultihashDigest } from 'multiformats/hashes/interface'
import { equals as bytesEqual } from 'uint8arrays/equals'
import { decodeBase58 } from './base58.ts'

const LIBP2P_KEY_CODE = 0x72
const inspect = Symbol.for('nodejs.util.inspect.custom')

abstract class StoredPeerId<Alg extends number> {
  readonly #text: string
  #multihash: MultihashDigest<Alg> | undefined

  constructor(text: string) {
    this.#text = text
  }

  // On the prototype rather than on each instance: isPeerId only reads it.
  get [peerIdSymbol](): true {
    return true
  }

  get [Symbol.toStringTag](): string {
    return `PeerId(${this.#text})`
  }

  /** The library's PeerId has this field too, outside the interface. */
  get multihash(): MultihashDigest<Alg> {
    return this.toMultihash()
  }

  toString(): string {
    return this.#text
  }

  toJSON(): string {
    return this.#text
  }

  toMultihash(): MultihashDigest<Alg> {
    this.#multihash ??= Digest.decode(this.rawMultihash()) as MultihashDigest<Alg>
    return this.#multihash
  }

  /** The multihash bytes, from the digest if built (not a copy: callers must not write to it). */
  protected rawMultihash(): Uint8Array {
    // The text was checked when this was made, so it decodes, and to a well-formed multihash.
    return this.#multihash?.bytes ?? decodeBase58(this.#text)!
  }

  toCID(): CID<Uint8Array, 0x72, Alg, 1> {
    return CID.createV1<Uint8Array, 0x72, Alg>(LIBP2P_KEY_CODE, this.toMultihash())
  }

  equals(other?: unknown): boolean {
    if (other == null) return false
    // Base58 text and multihash bytes map one to one, so equal texts are equal bytes.
    if (other instanceof StoredPeerId) return other.#text === this.#text
    if (typeof other === 'string') return other === this.#text
    // Another key-based PeerId: its text is its multihash in base58btc (the library caches it), so no digest is
    // built. (A url PeerId's text is a CID instead: it takes the byte comparison below.)
    if (isPeerId(other) && other.type !== 'url') return other.toString() === this.#text
    const mine = this.toMultihash().bytes
    if (other instanceof Uint8Array) return bytesEqual(mine, other)
    // As the library: anything else must have a multihash, or this throws.
    const theirs = (other as { toMultihash(): MultihashDigest | undefined }).toMultihash()?.bytes
    if (theirs == null) throw new Error('not valid Id')
    return bytesEqual(mine, theirs)
  }

  [inspect](): string {
    return `PeerId(${this.#text})`
  }
}

export class StoredEd25519PeerId extends StoredPeerId<0x0> {
  #publicKey: Ed25519PublicKey | undefined

  get type(): 'Ed25519' {
    return 'Ed25519'
  }

  get publicKey(): Ed25519PublicKey {
    // The key is bytes 6..38 of the multihash (after 00 24 08 01 12 20); the library's protobuf path ends in
    // the same unmarshalling of those 32 bytes. Not through the digest: that would build and keep it too.
    this.#publicKey ??= publicKeyFromRaw(this.rawMultihash().subarray(6)) as Ed25519PublicKey
    return this.#publicKey
  }

  // The library's field is writable; keep assignments working.
  set publicKey(key: Ed25519PublicKey) {
    this.#publicKey = key
  }
}

export class StoredRSAPeerId extends StoredPeerId<0x12> {
  /** Not in the id: known only if a caller sets it, as with the library's RSA PeerId. */
  publicKey: RSAPublicKey | undefined = undefined

  get type(): 'RSA' {
    return 'RSA'
  }
}
