// When a peer stops existing. One rule, read by the libp2p view (has/get/all treat an aged-out peer as absent)
// and by GC (which then deletes it from disk):
//
//   a peer is kept while it is the local peer, or is pinned, or has an unexpired address, or was last written
//   no more than `maxPeerAge` ago; otherwise it has aged out.
//
// `maxPeerAge` 0 turns ageing off (a peer then goes with its last address, the store's rule before ageing);
// @libp2p/peer-store's default is 6 h. The boundary is upstream's: a peer written at t is kept at
// t + maxPeerAge and gone 1 ms later.
//
// `PeerAgeing` applies the rule on the store's side: it holds `maxPeerAge` (libp2p views raise it, nothing lowers
// it) and the local peers exempt from it, stamps each change with the peer's write time (the `seen` record), and
// decides whether an entry holding nothing leaves the index (a peer saved with no data exists until it ages out).
import type { PeerId } from '@libp2p/interface'
import { PeerStoreError } from './errors.ts'
import { isBare, type PeerIndex } from './peer-index.ts'
import type { PeerEntry, RecordKind } from './types.ts'

/** @libp2p/peer-store's `MAX_PEER_AGE`: the libp2p view's default. */
export const DEFAULT_MAX_PEER_AGE = 6 * 60 * 60_000

/** Whether the peer's last write is recent enough to keep it on its own. */
export function keptByAge(entry: PeerEntry, now: number, maxPeerAge: number): boolean {
  return maxPeerAge > 0 && entry.updated !== undefined && now - entry.updated <= maxPeerAge
}

/** Exact to the ns (src/expiry.ts), as every read of the address book. */
export function hasLiveAddr(entry: PeerEntry, now: number): boolean {
  const addrs = entry.addrs
  for (let i = 0; i < addrs.size; i++) if (addrs.liveAt(i, now)) return true
  return false
}

/** The rule above without its address check, for a caller that found no unexpired address already. */
function agedOutIgnoringAddrs(entry: PeerEntry, now: number, maxPeerAge: number, isSelf: boolean): boolean {
  return !isSelf && entry.pins.size === 0 && !keptByAge(entry, now, maxPeerAge)
}

/** The rule above; `isSelf` says whether the entry is the local peer. */
export function agedOut(entry: PeerEntry, now: number, maxPeerAge: number, isSelf: boolean): boolean {
  return agedOutIgnoringAddrs(entry, now, maxPeerAge, isSelf) && !hasLiveAddr(entry, now)
}

/**
 * A peer's write time moves (and is saved, as its `seen` record) at most once per step: a hundredth of
 * `maxPeerAge`, at most a minute. A peer written many times a minute then costs one extra record a minute, not
 * one per write, and the time in memory is always the time on disk; the price is that a peer written often
 * ages out up to one step early.
 */
export function stampStep(maxPeerAge: number): number {
  return maxPeerAge > 0 ? Math.min(60_000, maxPeerAge / 100) : 60_000
}

/** Whether a write at `now` moves a write time that is `previous` (and the move must be saved). */
export function stampMoves(previous: number | undefined, now: number, step: number): boolean {
  return previous === undefined || Math.floor(previous / step) !== Math.floor(now / step)
}

export function isValidMaxPeerAge(ms: unknown): ms is number {
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0
}

/** `ms` when it is a valid `maxPeerAge`, else `ERR_INVALID_ARGUMENT` naming `option`. */
export function checkMaxPeerAge(ms: unknown, option: string): number {
  if (!isValidMaxPeerAge(ms)) {
    throw new PeerStoreError(
      'ERR_INVALID_ARGUMENT',
      `${option} must be a number of ms >= 0, got ${String(ms)}`
    )
  }
  return ms
}

const SEEN: RecordKind = 'seen'

function withSeen(kinds: readonly RecordKind[]): readonly RecordKind[] {
  return kinds.includes(SEEN) ? kinds : [...kinds, SEEN]
}

export interface PeerAgeingInit {
  index: PeerIndex
  /** The write path's commit: marks the kinds dirty and makes the change durable. */
  persist(key: string, kinds: readonly RecordKind[]): Promise<void>
  /** The store's clock, epoch ms. */
  now(): number
  /** The store's local peer, exempt from ageing. */
  selfId: PeerId | undefined
  /** Already checked (`checkMaxPeerAge`). */
  maxPeerAge: number
}

export class PeerAgeing {
  readonly #index: PeerIndex
  readonly #persist: (key: string, kinds: readonly RecordKind[]) => Promise<void>
  readonly #now: () => number
  /** The local peers (by id text) of the store and of libp2p views on it: never aged out, as `selfId`. */
  readonly #localPeers = new Set<string>()
  #maxPeerAge: number

  constructor(init: PeerAgeingInit) {
    this.#index = init.index
    this.#persist = init.persist
    this.#now = init.now
    this.#maxPeerAge = init.maxPeerAge
    if (init.selfId != null) this.#localPeers.add(init.selfId.toString())
  }

  get maxPeerAge(): number {
    return this.#maxPeerAge
  }

  /** Raises `maxPeerAge` to at least `ms` (never lowers it), and exempts `localPeer` from ageing. */
  retainFor(ms: number, localPeer?: PeerId): void {
    this.#maxPeerAge = Math.max(this.#maxPeerAge, checkMaxPeerAge(ms, 'maxPeerAge'))
    if (localPeer != null) this.#localPeers.add(localPeer.toString())
  }

  /**
   * GC's question for a peer it found with no unexpired address: has it aged out (the rule above, its address
   * check already made)?
   */
  agedOutWithoutLiveAddrs(key: string, entry: PeerEntry, now: number): boolean {
    return agedOutIgnoringAddrs(entry, now, this.#maxPeerAge, this.#localPeers.has(key))
  }

  /** An entry holding nothing, not even a recent write time: it leaves the index. */
  droppable(entry: PeerEntry, now: number): boolean {
    return isBare(entry) && !keptByAge(entry, now, this.#maxPeerAge)
  }

  /**
   * A change to the peer: its write time moves to now (once per step, saved with the change) unless `stamp` is
   * false (a cache fill, not a write about the peer). An entry left holding nothing leaves the index, its saved
   * time with it (which may not be among the kinds this change wrote). Then the write path makes it durable.
   */
  commit(key: string, kinds: readonly RecordKind[], stamp = true): Promise<void> {
    const entry = this.#index.get(key)
    if (entry == null) return this.#persist(key, kinds)
    const now = this.#now()
    let written = kinds
    if (stamp && stampMoves(entry.updated, now, stampStep(this.#maxPeerAge))) {
      entry.updated = now
      written = withSeen(written)
    }
    if (this.droppable(entry, now)) {
      this.#index.delete(key)
      if (entry.updated !== undefined) written = withSeen(written)
    }
    return this.#persist(key, written)
  }

  /** After a write that changed nothing: an entry left holding nothing leaves the index, its saved time too. */
  settleUnchanged(key: string, entry: PeerEntry): Promise<void> {
    if (!this.droppable(entry, this.#now())) return Promise.resolve()
    if (entry.updated !== undefined) return this.commit(key, [], false)
    this.#index.delete(key)
    return Promise.resolve()
  }
}
