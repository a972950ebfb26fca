// Tags and pins: what keeps a peer through GC. Tags (a value and an optional expiry) are written through the libp2p
// view (`save`/`patch`/`merge`) or an import; expired ones are invisible to reads and removed by GC. A pin, named by
// its reason, keeps a peer and everything it holds out of GC until it is unpinned; owners pin independently.

import type { PeerId } from '@libp2p/interface'
import { PeerStoreError } from '../errors.ts'
import { checkKeyLength, checkTagCount, type StoreLimits } from '../limits.ts'
import type { PeerIndex } from '../peer-index.ts'
import { editPins, type RecordKind, type TagEntry } from '../types.ts'
import type { BookContext } from './context.ts'

const PINS: readonly RecordKind[] = ['pins']

export class TagBook {
  readonly #ctx: BookContext
  readonly #index: PeerIndex
  readonly #limits: StoreLimits

  constructor(ctx: BookContext, limits: StoreLimits) {
    this.#ctx = ctx
    this.#index = ctx.index
    this.#limits = limits
  }

  /** Live tags: expired ones are filtered at read. */
  getTags(peer: PeerId): Map<string, { value: number; expiresAt: number }> {
    const now = this.#ctx.now()
    const out = new Map<string, TagEntry>()
    for (const [name, t] of this.#index.find(peer)?.tags ?? []) {
      if (now < t.expiresAt) out.set(name, { ...t })
    }
    return out
  }

  /** Pins a peer for `reason`: a pinned peer survives GC. Pinning a peer not yet stored creates it. */
  async pin(peer: PeerId, reason: string): Promise<void> {
    this.#ctx.assertOpen()
    const key = this.#index.keyOf(peer)
    if (typeof reason !== 'string' || reason === '') {
      throw new PeerStoreError('ERR_INVALID_ARGUMENT', 'a pin needs a non-empty reason')
    }
    checkKeyLength('a pin reason', reason, this.#limits)
    const pins = this.#index.get(key)?.pins
    if (pins?.has(reason) === true) return Promise.resolve()
    checkTagCount('pin reasons', (pins?.size ?? 0) + 1, this.#limits)
    const entry = this.#index.entry(key, peer)
    editPins(entry).add(reason)
    return this.#ctx.commit(key, PINS)
  }

  async unpin(peer: PeerId, reason: string): Promise<void> {
    this.#ctx.assertOpen()
    const key = this.#index.keyOf(peer)
    const entry = this.#index.get(key)
    if (entry == null || !entry.pins.has(reason)) return Promise.resolve()
    editPins(entry).delete(reason)
    return this.#ctx.commit(key, PINS)
  }

  pins(peer: PeerId): string[] {
    return [...(this.#index.find(peer)?.pins ?? [])].sort()
  }
}
