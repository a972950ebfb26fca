// go `AddrStream`: a peer's current addresses, then each new one as the address book adds it, each at most once,
// until the caller aborts or the store closes. The address book announces every address it adds for the first
// time (or adds again after it expired); the store wakes every stream when it closes.

import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { peerKey } from '../peer-index.ts'

/** Called with each new address, or with nothing to wake the stream (close, abort). */
type AddrListener = (ma?: Multiaddr) => void

/** The order a stream hands out the current addresses in: loopback, then non-TCP, then TCP. */
function rank(ma: Multiaddr): number {
  const components = ma.getComponents()
  const host = components[0]?.value ?? ''
  if (host === '127.0.0.1' || host === '::1' || host.startsWith('127.')) return 0
  return components.some((c) => c.name === 'tcp') ? 2 : 1
}

export class AddrStreams {
  readonly #listeners = new Map<string, Set<AddrListener>>()

  /** Hands `ma`, just added to the peer `key`, to that peer's open streams. */
  announce(key: string, ma: Multiaddr): void {
    const set = this.#listeners.get(key)
    if (set != null) for (const fn of set) fn(ma)
  }

  /** Wakes every stream, so each sees the store closed and ends. */
  wakeAll(): void {
    for (const set of this.#listeners.values()) for (const fn of set) fn()
  }

  /**
   * The stream of `peer`'s addresses: `current()` (read once the stream listens, so nothing added meanwhile is
   * missed), then each announced address. Ends when `signal` aborts or `isClosed()` turns true.
   */
  async *stream(
    peer: PeerId,
    current: () => Multiaddr[],
    isClosed: () => boolean,
    options: { signal?: AbortSignal } = {}
  ): AsyncGenerator<Multiaddr> {
    const key = peerKey(peer)
    const { signal } = options
    const aborted = (): boolean => signal?.aborted === true
    if (aborted()) return
    const seen = new Set<string>()
    const queue: Multiaddr[] = []
    let wake: (() => void) | undefined
    const listener: AddrListener = (ma) => {
      if (ma != null) queue.push(ma)
      wake?.()
    }
    const onAbort = (): void => wake?.()
    let set = this.#listeners.get(key)
    if (set == null) {
      set = new Set()
      this.#listeners.set(key, set)
    }
    set.add(listener)
    signal?.addEventListener('abort', onAbort, { once: true })
    queue.unshift(...current().sort((a, b) => rank(a) - rank(b)))
    try {
      while (!aborted() && !isClosed()) {
        const ma = queue.shift()
        if (ma == null) {
          await new Promise<void>((resolve) => {
            wake = resolve
          })
          wake = undefined
          continue
        }
        const k = ma.toString()
        if (seen.has(k)) continue
        seen.add(k)
        yield ma
      }
    } finally {
      set.delete(listener)
      if (set.size === 0) this.#listeners.delete(key)
      signal?.removeEventListener('abort', onAbort)
    }
  }
}
