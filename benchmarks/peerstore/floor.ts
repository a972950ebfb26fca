// The floor: the least a JavaScript peer store can do for the benchmark's calls, to tell what JavaScript costs on
// this workload apart from what our store adds. A Map from the id's text to the peer's addresses (by text, each
// with its expiry, later expiry wins as in go's AddAddrs) and protocols; reads filter expired addresses; GC sweeps
// every peer. No persistence, no checks of ids or addresses, no events, no limits: nothing a real store may skip,
// so no store can be faster than this in the same runtime. Its ratios to go say which targets JavaScript itself
// puts out of reach here.
//
// Given a journal, it is the floor of a store whose every call is durable when it returns (ours, with its journal):
// each call appends the peer's changed record as one line (its text, no checksum) with one write(2), the least
// such a store does in Node, which has no way to map a file into memory.
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

interface FloorAddr {
  multiaddr: Multiaddr
  expiresAt: number
}

interface FloorPeer {
  addrs: Map<string, FloorAddr>
  protocols: string[]
}

/** Where a durable floor appends each call's changed record (one write per call). */
interface FloorJournal {
  append(line: string): void
}

export class FloorPeerStore {
  readonly #peers = new Map<string, FloorPeer>()
  readonly #clock: () => number
  readonly #journal: FloorJournal | undefined

  constructor(clock: () => number, journal?: FloorJournal) {
    this.#clock = clock
    this.#journal = journal
  }

  #peer(id: PeerId): FloorPeer {
    const key = id.toString()
    let peer = this.#peers.get(key)
    if (peer === undefined) {
      peer = { addrs: new Map(), protocols: [] }
      this.#peers.set(key, peer)
    }
    return peer
  }

  addAddrs(id: PeerId, addrs: Multiaddr[], ttlMs: number): void {
    const peer = this.#peer(id)
    const expiresAt = this.#clock() + ttlMs
    for (const multiaddr of addrs) {
      const key = multiaddr.toString()
      const had = peer.addrs.get(key)
      if (had === undefined) peer.addrs.set(key, { multiaddr, expiresAt })
      else if (had.expiresAt < expiresAt) had.expiresAt = expiresAt
    }
    if (this.#journal !== undefined) {
      const record: Array<[string, number]> = []
      for (const [key, a] of peer.addrs) record.push([key, a.expiresAt])
      this.#journal.append(`${id.toString()}\taddrs\t${JSON.stringify(record)}\n`)
    }
  }

  addProtocols(id: PeerId, protocols: string[]): void {
    const peer = this.#peer(id)
    for (const protocol of protocols) if (!peer.protocols.includes(protocol)) peer.protocols.push(protocol)
    this.#journal?.append(`${id.toString()}\tprotos\t${JSON.stringify(peer.protocols)}\n`)
  }

  addrs(id: PeerId): Multiaddr[] {
    const peer = this.#peers.get(id.toString())
    if (peer === undefined) return []
    const now = this.#clock()
    const out: Multiaddr[] = []
    for (const a of peer.addrs.values()) if (a.expiresAt > now) out.push(a.multiaddr)
    return out
  }

  getProtocols(id: PeerId): string[] {
    return [...(this.#peers.get(id.toString())?.protocols ?? [])]
  }

  /** Drops every expired address (a peer keeps its protocols, as in go); returns how many. */
  gc(): number {
    const now = this.#clock()
    let removed = 0
    for (const peer of this.#peers.values()) {
      for (const [key, a] of peer.addrs) {
        if (a.expiresAt <= now) {
          peer.addrs.delete(key)
          removed++
        }
      }
    }
    return removed
  }
}
