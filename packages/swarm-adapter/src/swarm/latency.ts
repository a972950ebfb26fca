import type { Connection } from '@libp2p/interface'
import type { LevelPeerStore } from '@peerscope/peerstore-level'

/**
 * Feeds ping round-trip times into the store's latency EWMA. libp2p's connection monitor pings every
 * connection (10 s by default) and writes the result to `connection.rtt`; sampling that field on a timer records
 * each new measurement once, without a second ping of our own.
 */
export class LatencySampler {
  readonly #store: LevelPeerStore
  readonly #connections: () => Connection[]
  readonly #seen = new WeakMap<Connection, number>()
  #timer: ReturnType<typeof setInterval> | undefined

  constructor(store: LevelPeerStore, connections: () => Connection[]) {
    this.#store = store
    this.#connections = connections
  }

  start(intervalMs: number): void {
    this.stop()
    this.#timer = setInterval(() => this.sample(), intervalMs)
    this.#timer.unref()
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** Records every RTT that changed since the last sample; returns how many were recorded. */
  sample(): number {
    let recorded = 0
    for (const connection of this.#connections()) {
      const rtt = connection.rtt
      if (rtt === undefined || !Number.isFinite(rtt) || rtt < 0) continue
      if (this.#seen.get(connection) === rtt) continue
      this.#seen.set(connection, rtt)
      this.#store.recordLatency(connection.remotePeer, rtt)
      recorded++
    }
    return recorded
  }
}
