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
   * The stream of `peer`'s addresses: `current()`, then each announced address. Subscribes when called (as go's
   * `AddrStream`), not on the first `next()`: an address added between the call and the first read is delivered
   * too. Ends when `signal` aborts, `return()` is called, or `isClosed()` turns true.
   */
  stream(
    peer: PeerId,
    current: () => Multiaddr[],
    isClosed: () => boolean,
    options: { signal?: AbortSignal } = {}
  ): AsyncGenerator<Multiaddr> {
    const key = peerKey(peer)
    const { signal } = options
    const listeners = this.#listeners
    const queue: Multiaddr[] = []
    let wake: (() => void) | undefined
    const listener: AddrListener = (ma) => {
      if (ma != null) queue.push(ma)
      wake?.()
    }
    let subscribed = false
    const unsubscribe = (): void => {
      if (!subscribed) return
      subscribed = false
      const set = listeners.get(key)
      set?.delete(listener)
      if (set?.size === 0) listeners.delete(key)
      signal?.removeEventListener('abort', onAbort)
    }
    // An abort ends the subscription even if the stream was never read.
    const onAbort = (): void => {
      unsubscribe()
      wake?.()
    }
    if (signal?.aborted !== true && !isClosed()) {
      let set = listeners.get(key)
      if (set == null) {
        set = new Set()
        listeners.set(key, set)
      }
      set.add(listener)
      subscribed = true
      signal?.addEventListener('abort', onAbort, { once: true })
      queue.push(...current().sort((a, b) => rank(a) - rank(b)))
    }
    async function* drain(): AsyncGenerator<Multiaddr> {
      const seen = new Set<string>()
      try {
        while (subscribed && !isClosed()) {
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
        unsubscribe()
      }
    }
    const stream = drain()
    // A generator's `finally` does not run when `return()` comes before the first `next()`.
    const close = stream.return.bind(stream)
    stream.return = (value) => {
      unsubscribe()
      return close(value)
    }
    return stream
  }
}
