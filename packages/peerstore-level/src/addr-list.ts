// One peer's addresses in the index: sorted by text (code-unit order, the order the libp2p view lists them in) and
// packed in one array, four slots per address: the address, its TTL, its expiry in whole epoch ms, and a flags
// number (certified in bit 0, the ns past the expiry above it). The address slot holds the multiaddr's text when it
// has a common shape (persistence/stored-multiaddr.ts), else the Multiaddr object itself; reads make a
// StoredMultiaddr of the text. A Map of AddrInfo objects holding caller-parsed multiaddrs cost ~3 KB per peer of
// four addresses; this costs ~0.5 KB, and is what an open builds from disk, so a store that took its writes live
// holds what a reopened one holds.
//
// A new address is put in its place by a binary search and one splice (no re-sort per add); `trim` gives back the
// slack the array grew by, once per call that added some. Iterators (keys/values/entries) walk a copy, so a caller
// may delete while it iterates.

import type { Multiaddr } from '@multiformats/multiaddr'
import { neverExpires } from './constants.ts'
import { type Expiring, isLive } from './expiry.ts'
import { hasCommonShape, StoredMultiaddr } from './persistence/stored-multiaddr.ts'

const STRIDE = 4
const ADDR = 0
const TTL = 1
const EXPIRES = 2
const FLAGS = 3
const CERTIFIED = 1

type Slot = string | Multiaddr | number

export interface AddrInfo {
  multiaddr: Multiaddr
  /** The TTL the address is held at, in ms (`>= ConnectedAddrTTL` never expires). */
  ttl: number
  /**
   * Absolute expiry in whole epoch ms; `Infinity` for never-expiring addresses. The address is live while the
   * clock reads less than `expiresAt` + `expiresAtNs` ns.
   */
  expiresAt: number
  /** Nanoseconds past `expiresAt` (0-999,999), present only when the expiry has a sub-ms part (a fractional TTL). */
  expiresAtNs?: number
  /** True when the address came from a signed peer record. */
  certified: boolean
}

/** What `set` stores of an address: its TTL, expiry and certified flag (the multiaddr is optional). */
export interface AddrState extends Expiring {
  multiaddr?: Multiaddr
  ttl: number
  certified: boolean
}

function flags(certified: boolean, ns: number | undefined): number {
  return (certified ? CERTIFIED : 0) | ((ns ?? 0) * 2)
}

function textOf(addr: string | Multiaddr): string {
  return typeof addr === 'string' ? addr : addr.toString()
}

/** What the address slot holds for `key`: the text when reads can rebuild the multiaddr from it. */
function addrSlot(key: string, multiaddr: Multiaddr | string | undefined): string | Multiaddr {
  if (multiaddr === undefined || typeof multiaddr === 'string' || multiaddr instanceof StoredMultiaddr)
    return key
  return hasCommonShape(key) && multiaddr.toString() === key ? key : multiaddr
}

export class AddrList {
  #slots: Slot[]

  constructor(slots: Slot[] = []) {
    this.#slots = slots
  }

  /**
   * A list of `items` (any order; a later duplicate key replaces an earlier one): what a load or an import builds.
   * `multiaddr` may be omitted for a text of a common shape.
   */
  static from(items: Iterable<[string, AddrState]>): AddrList {
    const sorted = [...items].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    const slots: Slot[] = []
    for (const [key, a] of sorted) {
      const at = slots.length - STRIDE
      if (at >= 0 && textOf(slots[at + ADDR] as string | Multiaddr) === key) slots.length = at
      slots.push(addrSlot(key, a.multiaddr), a.ttl, a.expiresAt, flags(a.certified, a.expiresAtNs))
    }
    return new AddrList(slots)
  }

  get size(): number {
    return this.#slots.length / STRIDE
  }

  /** The position of `key`, or `-(insertion point) - 1` when absent. */
  indexOf(key: string): number {
    const slots = this.#slots
    let lo = 0
    let hi = slots.length / STRIDE - 1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      const k = textOf(slots[mid * STRIDE + ADDR] as string | Multiaddr)
      if (k < key) lo = mid + 1
      else if (k > key) hi = mid - 1
      else return mid
    }
    return -lo - 1
  }

  keyAt(i: number): string {
    return textOf(this.#slots[i * STRIDE + ADDR] as string | Multiaddr)
  }

  multiaddrAt(i: number): Multiaddr {
    const addr = this.#slots[i * STRIDE + ADDR] as string | Multiaddr
    return typeof addr === 'string' ? new StoredMultiaddr(addr) : addr
  }

  ttlAt(i: number): number {
    return this.#slots[i * STRIDE + TTL] as number
  }

  /** The expiry's whole epoch ms (`Infinity`: never). */
  expiresAt(i: number): number {
    return this.#slots[i * STRIDE + EXPIRES] as number
  }

  /** The ns past `expiresAt(i)`, when the expiry has a sub-ms part. */
  expiresAtNs(i: number): number | undefined {
    const ns = Math.floor((this.#slots[i * STRIDE + FLAGS] as number) / 2)
    return ns === 0 ? undefined : ns
  }

  certifiedAt(i: number): boolean {
    return ((this.#slots[i * STRIDE + FLAGS] as number) & CERTIFIED) !== 0
  }

  /** The expiry of the address at `i`, as `isLive` and `compareExpiry` take it. */
  expiryAt(i: number): Expiring {
    const ns = this.expiresAtNs(i)
    const expiresAt = this.expiresAt(i)
    return ns === undefined ? { expiresAt } : { expiresAt, expiresAtNs: ns }
  }

  /** Whether the address at `i` is unexpired at `now` (exact to the ns: src/expiry.ts). */
  liveAt(i: number, now: number): boolean {
    const expiresAt = this.#slots[i * STRIDE + EXPIRES] as number
    if (now < expiresAt) return true
    const flagged = this.#slots[i * STRIDE + FLAGS] as number
    if (flagged < 2) return false
    return isLive({ expiresAt, expiresAtNs: Math.floor(flagged / 2) }, now)
  }

  /** How many addresses are unexpired at `now` (as `liveAt`), in one call: GC asks it of every peer. */
  liveCount(now: number): number {
    const slots = this.#slots
    let live = 0
    for (let at = 0; at < slots.length; at += STRIDE) {
      const expiresAt = slots[at + EXPIRES] as number
      if (now < expiresAt) live++
      else {
        const flagged = slots[at + FLAGS] as number
        if (flagged >= 2 && isLive({ expiresAt, expiresAtNs: Math.floor(flagged / 2) }, now)) live++
      }
    }
    return live
  }

  /** How many addresses can expire (a TTL below `ConnectedAddrTTL`): the store-wide count is of these. */
  expiringCount(): number {
    const slots = this.#slots
    let n = 0
    for (let at = TTL; at < slots.length; at += STRIDE) if (!neverExpires(slots[at] as number)) n++
    return n
  }

  infoAt(i: number): AddrInfo {
    const ns = this.expiresAtNs(i)
    const multiaddr = this.multiaddrAt(i)
    const ttl = this.ttlAt(i)
    const expiresAt = this.expiresAt(i)
    const certified = this.certifiedAt(i)
    return ns === undefined
      ? { multiaddr, ttl, expiresAt, certified }
      : { multiaddr, ttl, expiresAt, expiresAtNs: ns, certified }
  }

  has(key: string): boolean {
    return this.indexOf(key) >= 0
  }

  /** The address as an AddrInfo made now (its multiaddr too), or undefined. */
  get(key: string): AddrInfo | undefined {
    const i = this.indexOf(key)
    return i < 0 ? undefined : this.infoAt(i)
  }

  /** Stores `key` with `state` (its multiaddr is used only when the key's text is not of a common shape). */
  set(key: string, state: AddrState): this {
    this.put(key, state.multiaddr, state.ttl, state, state.certified)
    return this
  }

  /** Stores the address at its place; returns true when it is new (the array may have grown: `trim`). */
  put(
    key: string,
    multiaddr: Multiaddr | string | undefined,
    ttl: number,
    expiry: Expiring,
    certified: boolean
  ): boolean {
    const i = this.indexOf(key)
    const f = flags(certified, expiry.expiresAtNs)
    if (i >= 0) {
      const at = i * STRIDE
      this.#slots[at + TTL] = ttl
      this.#slots[at + EXPIRES] = expiry.expiresAt
      this.#slots[at + FLAGS] = f
      return false
    }
    this.#slots.splice((-i - 1) * STRIDE, 0, addrSlot(key, multiaddr), ttl, expiry.expiresAt, f)
    return true
  }

  /**
   * Adds an address after the last one, when its key sorts after every key held (a decoder reading a record written
   * in order); false, and nothing added, when it does not (`put` it then). `addr` is its text or, for a text of an
   * uncommon shape, its parsed Multiaddr.
   */
  append(key: string, addr: string | Multiaddr, ttl: number, expiry: Expiring, certified: boolean): boolean {
    const slots = this.#slots
    const last = slots.length - STRIDE
    if (last >= 0 && textOf(slots[last + ADDR] as string | Multiaddr) >= key) return false
    slots.push(addr, ttl, expiry.expiresAt, flags(certified, expiry.expiresAtNs))
    return true
  }

  /** Inserts an absent address at `at`, its place (`-indexOf(key) - 1`), found by the caller already. */
  insertAt(
    at: number,
    key: string,
    multiaddr: Multiaddr | string | undefined,
    ttl: number,
    expiry: Expiring,
    certified: boolean
  ): void {
    this.#slots.splice(
      at * STRIDE,
      0,
      addrSlot(key, multiaddr),
      ttl,
      expiry.expiresAt,
      flags(certified, expiry.expiresAtNs)
    )
  }

  /** Moves the address at `i` to another TTL, expiry and flag. */
  updateAt(i: number, ttl: number, expiry: Expiring, certified: boolean): void {
    const at = i * STRIDE
    this.#slots[at + TTL] = ttl
    this.#slots[at + EXPIRES] = expiry.expiresAt
    this.#slots[at + FLAGS] = flags(certified, expiry.expiresAtNs)
  }

  deleteAt(i: number): void {
    this.#slots.splice(i * STRIDE, STRIDE)
  }

  delete(key: string): boolean {
    const i = this.indexOf(key)
    if (i < 0) return false
    this.deleteAt(i)
    return true
  }

  clear(): void {
    this.#slots = []
  }

  /** Gives back the slack an insertion grew the array by (one copy; call it once per call that added some). */
  trim(): void {
    this.#slots = this.#slots.slice()
  }

  /** Holds what `other` holds (a copy of it): how a write that failed is undone (entry-undo.ts). */
  assign(other: AddrList): void {
    this.#slots = other.#slots.slice()
  }

  /** An independent copy (a `before` for a caller that edits the list and compares). */
  copy(): AddrList {
    return new AddrList(this.#slots.slice())
  }

  *keys(): IterableIterator<string> {
    const copy = this.copy()
    for (let i = 0; i < copy.size; i++) yield copy.keyAt(i)
  }

  *values(): IterableIterator<AddrInfo> {
    const copy = this.copy()
    for (let i = 0; i < copy.size; i++) yield copy.infoAt(i)
  }

  *entries(): IterableIterator<[string, AddrInfo]> {
    const copy = this.copy()
    for (let i = 0; i < copy.size; i++) yield [copy.keyAt(i), copy.infoAt(i)]
  }

  [Symbol.iterator](): IterableIterator<[string, AddrInfo]> {
    return this.entries()
  }
}
