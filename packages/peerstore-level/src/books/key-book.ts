// The key book: public keys, checked against the peer id before they are stored, and the local peer's private key,
// which is held in memory only (never written, never exported). A key inlined in an identity peer id (Ed25519,
// secp256k1) is derived on first read and cached, as go does.

import type { PeerId, PrivateKey, PublicKey } from '@libp2p/interface'
import { peerIdFromPrivateKey, peerIdFromPublicKey } from '@libp2p/peer-id'
import { PeerStoreError } from '../errors.ts'
import { type PeerIndex, peerKey } from '../peer-index.ts'
import type { PeerEntry, RecordKind } from '../types.ts'
import { type BookContext, reportedByStore } from './context.ts'

const KEYS: readonly RecordKind[] = ['keys']

/** The local peer as the store knows it. */
export interface LocalIdentity {
  readonly selfId: PeerId | undefined
  /** Dropped by `removePeer(self)`, as go's KeyBook does (until the next open). */
  privateKey: PrivateKey | undefined
}

/** The local peer of `init`; `ERR_PRIVATE_KEY_NOT_ALLOWED` when the private key is not the peer id's. */
export function localIdentity(init: { peerId?: PeerId; privateKey?: PrivateKey }): LocalIdentity {
  const selfId = init.peerId ?? (init.privateKey != null ? peerIdFromPrivateKey(init.privateKey) : undefined)
  if (init.privateKey != null && init.peerId != null && !init.peerId.equals(selfId)) {
    throw new PeerStoreError('ERR_PRIVATE_KEY_NOT_ALLOWED', 'privateKey does not match peerId')
  }
  return { selfId, privateKey: init.privateKey }
}

export class KeyBook {
  readonly #ctx: BookContext
  readonly #index: PeerIndex
  readonly #self: LocalIdentity

  constructor(ctx: BookContext, self: LocalIdentity) {
    this.#ctx = ctx
    this.#index = ctx.index
    this.#self = self
  }

  /** Stores a public key after checking it matches the peer id (`ERR_INVALID_PUBLIC_KEY` otherwise). */
  async addPubKey(peer: PeerId, key: PublicKey): Promise<void> {
    this.#ctx.assertOpen()
    const k = this.#index.keyOf(peer)
    let matches = false
    try {
      matches = peerIdFromPublicKey(key).equals(peer)
    } catch {
      // Not a usable key: refused below like a key of another peer.
    }
    if (!matches) throw new PeerStoreError('ERR_INVALID_PUBLIC_KEY', 'ID does not match PublicKey')
    const entry = this.#index.entry(k, peer)
    if (entry.publicKey?.equals(key) === true) return Promise.resolve()
    entry.publicKey = key
    return this.#ctx.commit(k, KEYS)
  }

  /** The stored key, else the key inlined in an identity peer id (cached, as go does). */
  pubKey(peer: PeerId): PublicKey | undefined {
    const k = this.#index.keyOf(peer)
    const entry = this.#index.get(k)
    if (entry?.publicKey != null) return entry.publicKey
    const inline = peer.publicKey
    if (inline == null || this.#ctx.isClosed()) return undefined
    this.#index.entry(k, peer).publicKey = inline
    // A read does not wait for the write that caches the key; a cache fill leaves the peer's write time alone.
    this.#ctx.persist(k, KEYS).catch(reportedByStore)
    return inline
  }

  peersWithKeys(): PeerId[] {
    const { selfId, privateKey } = this.#self
    const out: PeerId[] = []
    let selfListed = false
    for (const entry of this.#index.values()) {
      const isSelf = privateKey != null && entry.id.equals(selfId)
      if (entry.publicKey != null || isSelf) out.push(entry.id)
      selfListed ||= isSelf
    }
    // As in go-libp2p, the local peer has a key (its private key) even when nothing else is stored for it.
    if (privateKey != null && selfId != null && !selfListed) out.push(selfId)
    return out
  }

  /** Only the local peer's private key, and only in memory: it is never written or exported. */
  privKey(peer: PeerId): PrivateKey | undefined {
    peerKey(peer)
    return this.#self.selfId?.equals(peer) === true ? this.#self.privateKey : undefined
  }

  /**
   * The local peer while the store holds its private key (go's `Peers()` lists every peer with a key), for
   * `peers()` to list when the index has no entry for it.
   */
  localPeerWithKey(): PeerId | undefined {
    const { selfId, privateKey } = this.#self
    return privateKey != null ? selfId : undefined
  }

  /** go `RemovePeer`'s part in the key book for the local peer: the private key given at open goes too. */
  forgetPrivateKey(peer: PeerId): void {
    if (this.#self.selfId?.equals(peer) === true) this.#self.privateKey = undefined
  }

  /** go `RemovePeer`'s part in the key book: forgets the public key. */
  forget(entry: PeerEntry): void {
    entry.publicKey = undefined
  }
}
