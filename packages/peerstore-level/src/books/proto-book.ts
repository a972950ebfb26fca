// The protocol book: the protocols each peer speaks, at most `maxProtocols` per peer (duplicates in a call count
// towards the limit, as in go), each at most `maxProtocolLength` long. Protocol names are interned: peers share one
// copy of each name.

import type { PeerId } from '@libp2p/interface'
import { PeerStoreError } from '../errors.ts'
import { internNames } from '../intern.ts'
import { checkProtocolCount, checkProtocolLengths, type StoreLimits } from '../limits.ts'
import type { PeerIndex } from '../peer-index.ts'
import type { PeerEntry, RecordKind } from '../types.ts'
import type { BookContext } from './context.ts'

const PROTOS: readonly RecordKind[] = ['protos']

function checkProtocols(protocols: readonly string[]): void {
  if (!Array.isArray(protocols) || !protocols.every((p) => typeof p === 'string')) {
    throw new PeerStoreError('ERR_INVALID_ARGUMENT', 'protocols must be strings')
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

export class ProtoBook {
  readonly #ctx: BookContext
  readonly #index: PeerIndex
  readonly #limits: StoreLimits

  constructor(ctx: BookContext, limits: StoreLimits) {
    this.#ctx = ctx
    this.#index = ctx.index
    this.#limits = limits
  }

  getProtocols(peer: PeerId): string[] {
    return [...(this.#index.find(peer)?.protocols ?? [])]
  }

  /** Replaces the peer's protocols; more than the limit (duplicates counted) throws `ERR_TOO_MANY_PROTOCOLS`. */
  async setProtocols(peer: PeerId, protocols: readonly string[]): Promise<void> {
    this.#ctx.assertOpen()
    const key = this.#index.keyOf(peer)
    checkProtocols(protocols)
    checkProtocolCount(protocols.length, this.#limits)
    checkProtocolLengths(protocols, this.#limits)
    const entry = this.#index.get(key)
    const next = [...new Set(protocols)]
    if (entry == null && next.length === 0) return Promise.resolve()
    const e = entry ?? this.#index.entry(key, peer)
    if (sameList(e.protocols, next)) return Promise.resolve()
    e.protocols = internNames(next)
    return this.#ctx.commit(key, PROTOS)
  }

  /** Adds protocols; fails when stored + given (duplicates counted, as go) exceeds the limit. */
  async addProtocols(peer: PeerId, protocols: readonly string[]): Promise<void> {
    this.#ctx.assertOpen()
    const key = this.#index.keyOf(peer)
    checkProtocols(protocols)
    const current = this.#index.get(key)?.protocols ?? []
    checkProtocolCount(current.length + protocols.length, this.#limits)
    checkProtocolLengths(protocols, this.#limits)
    const next = [...new Set([...current, ...protocols])]
    if (next.length === current.length) return Promise.resolve()
    this.#index.entry(key, peer).protocols = internNames(next)
    return this.#ctx.commit(key, PROTOS)
  }

  async removeProtocols(peer: PeerId, protocols: readonly string[]): Promise<void> {
    this.#ctx.assertOpen()
    const key = this.#index.keyOf(peer)
    checkProtocols(protocols)
    const entry = this.#index.get(key)
    if (entry == null) return Promise.resolve()
    const drop = new Set(protocols)
    const next = entry.protocols.filter((p) => !drop.has(p))
    if (next.length === entry.protocols.length) return Promise.resolve()
    entry.protocols = next
    return this.#ctx.commit(key, PROTOS)
  }

  /** The given protocols the peer supports, in query order. */
  supportsProtocols(peer: PeerId, protocols: readonly string[]): string[] {
    const have = new Set(this.#index.find(peer)?.protocols ?? [])
    return protocols.filter((p) => have.has(p))
  }

  /** The first given protocol the peer supports, or undefined (go returns ""). */
  firstSupportedProtocol(peer: PeerId, protocols: readonly string[]): string | undefined {
    return this.supportsProtocols(peer, protocols)[0]
  }

  /** go `RemovePeer`'s part in the protocol book: forgets the protocols. */
  forget(entry: PeerEntry): void {
    entry.protocols = []
  }
}
