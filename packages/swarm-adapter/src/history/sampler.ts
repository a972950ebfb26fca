import type { Connection } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { type BandwidthCounter, OVERFLOW_PEER, type Stats } from '@peerscope/metrics'
import type { LevelPeerStore } from '@peerscope/peerstore-level'
import type { StreamTally } from '../swarm/stream-tally.ts'
import type { GcEvent, History } from './history.ts'
import type { PeerEntry, RateEntry, Sample } from './tier.ts'

/** The peer store is counted at most this often (it costs a walk over every peer); samples between carry it. */
export const PEER_STORE_SAMPLE_INTERVAL = 10_000

export interface SamplerSources {
  history: History
  bandwidth: BandwidthCounter | undefined
  connections(): Connection[]
  store: LevelPeerStore
  /** The last GC run, as the service keeps it. */
  lastGc(): { at: number; durationMs: number; peersRemoved: number; addrsRemoved: number } | undefined
  streams: StreamTally | undefined
  clock?: () => number
}

const rates = (key: string, s: Stats): RateEntry => ({ key, rateIn: s.rateIn, rateOut: s.rateOut })
const busy = (e: RateEntry): number => e.rateIn + e.rateOut

/**
 * Reads the node once per fine interval into its `History`: rates and totals from the metrics, connection and
 * stream counts, latency and the peer store's size. Runs on an unref'd timer between `start()` and `stop()`.
 */
export class HistorySampler {
  readonly #src: SamplerSources
  readonly #clock: () => number
  #timer: ReturnType<typeof setInterval> | undefined
  #storeAt = Number.NEGATIVE_INFINITY
  #storeSize: { peers: number; addresses: number } | undefined
  #storeConnections = -1
  #streamsSeen: number

  constructor(sources: SamplerSources) {
    this.#src = sources
    this.#clock = sources.clock ?? Date.now
    this.#streamsSeen = sources.streams?.total ?? 0
  }

  start(): void {
    this.stop()
    this.#timer = setInterval(() => this.sample(), this.#src.history.fine.intervalMs)
    this.#timer.unref()
    this.sample()
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** Takes one sample now. */
  sample(): void {
    const { history, bandwidth, store } = this.#src
    const now = this.#clock()
    const connections = this.#src.connections()
    const totals = bandwidth?.totals()
    const topPeers = history.options.shape.topPeers

    const byProtocol = bandwidth?.byProtocol()
    const peers: PeerEntry[] = []
    if (bandwidth !== undefined && byProtocol !== undefined && topPeers > 0) {
      const busiest = [...bandwidth.byPeer()]
        .filter(([key, s]) => key !== OVERFLOW_PEER && s.rateIn + s.rateOut > 0)
        .map(([key, s]) => rates(key, s))
        .sort((a, b) => busy(b) - busy(a))
        .slice(0, topPeers)
      for (const entry of busiest) {
        // One lookup per (kept peer, protocol): never a walk over every pair of every peer.
        const protocols: RateEntry[] = []
        for (const protocol of byProtocol.keys()) {
          const s = bandwidth.forPeerProtocol(entry.key, protocol)
          if (s !== undefined) protocols.push(rates(protocol, s))
        }
        peers.push({ ...entry, latencyMs: this.#latency(entry.key), protocols })
      }
    }

    let streams = 0
    let inbound = 0
    let latencySum = 0
    let latencies = 0
    const seen = new Set<string>()
    for (const c of connections) {
      streams += c.streams.length
      if (c.direction === 'inbound') inbound++
      const peer = c.remotePeer.toString()
      if (seen.has(peer)) continue
      seen.add(peer)
      const ms = store.latencyEWMA(c.remotePeer)
      if (ms > 0) {
        latencySum += ms
        latencies++
      }
    }
    const opened = this.#src.streams?.total
    const streamsOpened = opened === undefined ? null : opened - this.#streamsSeen
    if (opened !== undefined) this.#streamsSeen = opened

    const last = this.#src.lastGc()
    const gc: GcEvent | undefined =
      last === undefined
        ? undefined
        : {
            at: last.at,
            durationMs: last.durationMs,
            peersRemoved: last.peersRemoved,
            addressesRemoved: last.addrsRemoved
          }
    if (gc !== undefined) history.recordGc(gc)
    const size = this.#storeSizeAt(now, gc, connections.length)

    const sample: Sample = {
      t: now,
      scalars: {
        rateIn: totals?.rateIn ?? null,
        rateOut: totals?.rateOut ?? null,
        totalIn: totals?.totalIn ?? null,
        totalOut: totals?.totalOut ?? null,
        connections: connections.length,
        inbound,
        outbound: connections.length - inbound,
        streams,
        streamsOpened,
        peers: size.peers,
        addresses: size.addresses,
        latencyMs: latencies === 0 ? null : latencySum / latencies
      },
      protocols: byProtocol === undefined ? [] : [...byProtocol].map(([k, s]) => rates(k, s)),
      peers
    }
    history.record(sample)
  }

  #latency(peer: string): number | null {
    try {
      const ms = this.#src.store.latencyEWMA(peerIdFromString(peer))
      return ms > 0 ? ms : null
    } catch {
      return null
    }
  }

  /**
   * Peers and unexpired addresses; recounted every `PEER_STORE_SAMPLE_INTERVAL`, right after a GC and when the
   * number of connections changed (a new peer is usually a new connection).
   */
  #storeSizeAt(
    now: number,
    gc: GcEvent | undefined,
    connections: number
  ): { peers: number; addresses: number } {
    const stale =
      this.#storeSize === undefined ||
      now - this.#storeAt >= PEER_STORE_SAMPLE_INTERVAL ||
      connections !== this.#storeConnections
    if (stale || (gc !== undefined && gc.at > this.#storeAt)) {
      this.#storeConnections = connections
      const { store } = this.#src
      const self = store.selfId
      let peers = 0
      let addresses = 0
      for (const id of store.peers()) {
        if (self !== undefined && id.equals(self)) continue
        peers++
        addresses += store.addrInfos(id).length
      }
      this.#storeSize = { peers, addresses }
      this.#storeAt = now
    }
    return this.#storeSize ?? { peers: 0, addresses: 0 }
  }
}
