import type { KeyTable } from './key-table.ts'

/** The node-wide figures of one sample, in storage order. `null` (stored as NaN) means "not known". */
export const SCALAR_FIELDS = [
  'rateIn',
  'rateOut',
  'totalIn',
  'totalOut',
  'connections',
  'inbound',
  'outbound',
  'streams',
  'streamsOpened',
  'peers',
  'addresses',
  'latencyMs'
] as const

export type ScalarField = (typeof SCALAR_FIELDS)[number]
export type Scalars = Record<ScalarField, number | null>

export interface RateEntry {
  key: string
  rateIn: number
  rateOut: number
}

export interface PeerEntry extends RateEntry {
  latencyMs: number | null
  /** Its busiest protocols. */
  protocols: RateEntry[]
}

/** One sample as the sampler hands it over: the busiest protocols and peers already chosen. */
export interface Sample {
  t: number
  scalars: Scalars
  protocols: RateEntry[]
  peers: PeerEntry[]
}

export interface TierShape {
  /** Samples kept; the oldest is overwritten by the next. */
  samples: number
  topProtocols: number
  topPeers: number
  peerProtocols: number
}

const S = SCALAR_FIELDS.length

/**
 * A ring of samples in preallocated typed arrays: its memory is fixed when it is built, whatever is recorded.
 * Keys (peer and protocol ids) are held by a shared `KeyTable` and referred to here by id (-1: empty entry).
 */
export class Tier {
  readonly shape: TierShape
  readonly intervalMs: number
  readonly #keys: KeyTable
  readonly #t: Float64Array
  readonly #scalars: Float64Array
  readonly #protoKey: Int32Array
  readonly #protoRate: Float32Array
  readonly #peerKey: Int32Array
  /** in, out, latency per peer entry */
  readonly #peerVal: Float32Array
  readonly #pairKey: Int32Array
  readonly #pairRate: Float32Array
  #head = 0
  #size = 0

  constructor(shape: TierShape, intervalMs: number, keys: KeyTable) {
    this.shape = shape
    this.intervalMs = intervalMs
    this.#keys = keys
    const { samples: n, topProtocols: k, topPeers: p, peerProtocols: q } = shape
    this.#t = new Float64Array(n)
    this.#scalars = new Float64Array(n * S)
    this.#protoKey = new Int32Array(n * k).fill(-1)
    this.#protoRate = new Float32Array(n * k * 2)
    this.#peerKey = new Int32Array(n * p).fill(-1)
    this.#peerVal = new Float32Array(n * p * 3)
    this.#pairKey = new Int32Array(n * p * q).fill(-1)
    this.#pairRate = new Float32Array(n * p * q * 2)
  }

  /** Bytes of the typed arrays of a tier of this shape (all allocated up front). */
  static bytes(shape: TierShape): number {
    const { samples: n, topProtocols: k, topPeers: p, peerProtocols: q } = shape
    return n * (8 + 8 * S + 12 * k + 16 * p + 12 * p * q)
  }

  get size(): number {
    return this.#size
  }

  get capacity(): number {
    return this.shape.samples
  }

  /** Time of the newest sample, or -Infinity when empty. */
  get lastTime(): number {
    return this.#size === 0 ? -Infinity : (this.#t[(this.#head - 1 + this.capacity) % this.capacity] ?? 0)
  }

  push(sample: Sample): void {
    const slot = this.#head
    const { topProtocols: k, topPeers: p, peerProtocols: q } = this.shape
    if (this.#size === this.capacity) this.#releaseSlot(slot)
    this.#t[slot] = sample.t
    for (let i = 0; i < S; i++) this.#scalars[slot * S + i] = sample.scalars[SCALAR_FIELDS[i]!] ?? Number.NaN
    for (let i = 0; i < k; i++) {
      const entry = sample.protocols[i]
      const at = slot * k + i
      this.#protoKey[at] = entry === undefined ? -1 : this.#keys.acquire(entry.key)
      this.#protoRate[at * 2] = entry?.rateIn ?? 0
      this.#protoRate[at * 2 + 1] = entry?.rateOut ?? 0
    }
    for (let i = 0; i < p; i++) {
      const entry = sample.peers[i]
      const at = slot * p + i
      const id = entry === undefined ? -1 : this.#keys.acquire(entry.key)
      this.#peerKey[at] = id
      this.#peerVal[at * 3] = entry?.rateIn ?? 0
      this.#peerVal[at * 3 + 1] = entry?.rateOut ?? 0
      this.#peerVal[at * 3 + 2] = entry?.latencyMs ?? Number.NaN
      for (let j = 0; j < q; j++) {
        const pair = id === -1 ? undefined : entry?.protocols[j]
        const pairAt = at * q + j
        this.#pairKey[pairAt] = pair === undefined ? -1 : this.#keys.acquire(pair.key)
        this.#pairRate[pairAt * 2] = pair?.rateIn ?? 0
        this.#pairRate[pairAt * 2 + 1] = pair?.rateOut ?? 0
      }
    }
    this.#head = (slot + 1) % this.capacity
    if (this.#size < this.capacity) this.#size++
  }

  #releaseSlot(slot: number): void {
    const { topProtocols: k, topPeers: p, peerProtocols: q } = this.shape
    for (let i = slot * k; i < (slot + 1) * k; i++) this.#keys.release(this.#protoKey[i] ?? -1)
    for (let i = slot * p; i < (slot + 1) * p; i++) this.#keys.release(this.#peerKey[i] ?? -1)
    for (let i = slot * p * q; i < (slot + 1) * p * q; i++) this.#keys.release(this.#pairKey[i] ?? -1)
  }

  /** Ring slots of the samples newer than `since`, oldest first. */
  slotsSince(since: number): number[] {
    const out: number[] = []
    const start = (this.#head - this.#size + this.capacity) % this.capacity
    for (let i = 0; i < this.#size; i++) {
      const slot = (start + i) % this.capacity
      if ((this.#t[slot] ?? 0) > since) out.push(slot)
    }
    return out
  }

  time(slot: number): number {
    return this.#t[slot] ?? 0
  }

  scalar(slot: number, field: number): number | null {
    const value = this.#scalars[slot * S + field] ?? Number.NaN
    return Number.isNaN(value) ? null : value
  }

  /** Calls `fn` for each protocol entry of a slot. */
  eachProtocol(slot: number, fn: (key: string, rateIn: number, rateOut: number) => void): void {
    const k = this.shape.topProtocols
    for (let i = slot * k; i < (slot + 1) * k; i++) {
      const name = this.#keys.name(this.#protoKey[i] ?? -1)
      if (name !== undefined) fn(name, this.#protoRate[i * 2] ?? 0, this.#protoRate[i * 2 + 1] ?? 0)
    }
  }

  /** Calls `fn` for each peer entry of a slot, with its index (for `eachPeerProtocol`). */
  eachPeer(
    slot: number,
    fn: (key: string, rateIn: number, rateOut: number, latencyMs: number | null, index: number) => void
  ): void {
    const p = this.shape.topPeers
    for (let i = slot * p; i < (slot + 1) * p; i++) {
      const name = this.#keys.name(this.#peerKey[i] ?? -1)
      if (name === undefined) continue
      const latency = this.#peerVal[i * 3 + 2] ?? Number.NaN
      fn(
        name,
        this.#peerVal[i * 3] ?? 0,
        this.#peerVal[i * 3 + 1] ?? 0,
        Number.isNaN(latency) ? null : latency,
        i
      )
    }
  }

  /** The peer entry of `peer` in a slot, as its index, or -1. */
  findPeer(slot: number, peerKeyId: number): number {
    if (peerKeyId < 0) return -1
    const p = this.shape.topPeers
    for (let i = slot * p; i < (slot + 1) * p; i++) if (this.#peerKey[i] === peerKeyId) return i
    return -1
  }

  peerValues(index: number): { rateIn: number; rateOut: number; latencyMs: number | null } {
    const latency = this.#peerVal[index * 3 + 2] ?? Number.NaN
    return {
      rateIn: this.#peerVal[index * 3] ?? 0,
      rateOut: this.#peerVal[index * 3 + 1] ?? 0,
      latencyMs: Number.isNaN(latency) ? null : latency
    }
  }

  eachPeerProtocol(index: number, fn: (key: string, rateIn: number, rateOut: number) => void): void {
    const q = this.shape.peerProtocols
    for (let j = index * q; j < (index + 1) * q; j++) {
      const name = this.#keys.name(this.#pairKey[j] ?? -1)
      if (name !== undefined) fn(name, this.#pairRate[j * 2] ?? 0, this.#pairRate[j * 2 + 1] ?? 0)
    }
  }
}
