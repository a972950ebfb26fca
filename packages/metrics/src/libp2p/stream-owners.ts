import type { Connection, Stream } from '@libp2p/interface'

const WATCHED = Symbol.for('@peerscope/metrics/watched-streams')

/**
 * Finds the connection a stream belongs to in O(1). libp2p hands `trackProtocolStream` a bare stream, and the
 * only link back is the connection's `streams` list. Scanning every connection's list per stream costs
 * O(connections × streams); instead, when a connection opens, the stream list its muxer keeps (one array for the
 * muxer's life) is watched: each stream pushed onto it is recorded at once. Streams that reach us some other way
 * fall back to a scan whose result is cached, so each stream is looked up at most once.
 */
export class StreamOwners {
  readonly #owners = new WeakMap<Stream, Connection>()
  readonly #connections: () => Connection[]

  constructor(connections: () => Connection[]) {
    this.#connections = connections
  }

  watch(connection: Connection): void {
    const list = connection.streams as Stream[] & { [WATCHED]?: true }
    for (const stream of list) this.#owners.set(stream, connection)
    // Only a stable array can be watched (the muxer's own); a getter that builds a new array each time cannot.
    if (!Array.isArray(list) || connection.streams !== list || list[WATCHED] === true) return
    const owners = this.#owners
    const push = list.push
    Object.defineProperty(list, 'push', {
      configurable: true,
      writable: true,
      enumerable: false,
      value(this: Stream[], ...streams: Stream[]): number {
        for (const stream of streams) owners.set(stream, connection)
        return push.apply(this, streams)
      }
    })
    Object.defineProperty(list, WATCHED, { value: true })
  }

  owner(stream: Stream): Connection | undefined {
    let connection = this.#owners.get(stream)
    if (connection === undefined) {
      connection = this.#connections().find((c) => c.streams.includes(stream))
      if (connection !== undefined) this.#owners.set(stream, connection)
    }
    return connection
  }
}
