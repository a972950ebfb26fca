import type { Connection, Stream } from '@libp2p/interface'

/**
 * Counts the protocol streams each connection opened, in both directions. A connection's `streams` list only
 * holds the streams open right now, so a stream that opens and closes between two looks (a ping, an identify)
 * is never seen there; libp2p hands every negotiated stream to `metrics.trackProtocolStream`, so that call is
 * where the count is taken. The counts of closed connections are dropped as the map grows.
 */
export class StreamTally {
  /** Streams opened since the tally was installed, over every connection. */
  total = 0
  readonly #byConnection = new Map<string, number>()
  readonly #connections: () => Connection[]

  constructor(connections: () => Connection[]) {
    this.#connections = connections
  }

  /**
   * Wraps `trackProtocolStream` of a libp2p `Metrics` object (any implementation) on that instance, the one
   * object every libp2p component calls. `undefined` when the node has no metrics: libp2p then reports no
   * streams, and only open streams can be counted.
   */
  static install(metrics: unknown, connections: () => Connection[]): StreamTally | undefined {
    const target = metrics as { trackProtocolStream?: (stream: Stream) => void } | undefined
    const original = target?.trackProtocolStream
    if (target === undefined || typeof original !== 'function') return undefined
    const tally = new StreamTally(connections)
    Object.defineProperty(target, 'trackProtocolStream', {
      configurable: true,
      writable: true,
      enumerable: false,
      value(stream: Stream): void {
        original.call(target, stream)
        tally.count(stream)
      }
    })
    return tally
  }

  count(stream: Stream): void {
    this.total++
    const connections = this.#connections()
    // The stream was just added to its connection's list: it is almost always the last entry.
    const owner =
      connections.find((c) => c.streams.at(-1) === stream) ??
      connections.find((c) => c.streams.includes(stream))
    if (owner === undefined) return
    this.#byConnection.set(owner.id, (this.#byConnection.get(owner.id) ?? 0) + 1)
    if (this.#byConnection.size > 2 * connections.length + 64) {
      const open = new Set(connections.map((c) => c.id))
      for (const id of this.#byConnection.keys()) if (!open.has(id)) this.#byConnection.delete(id)
    }
  }

  /** Streams the connection opened so far (0 when none was seen). */
  opened(connectionId: string): number {
    return this.#byConnection.get(connectionId) ?? 0
  }
}
