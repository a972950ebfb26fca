// When a peer stops existing. One rule, read by the libp2p view (has/get/all treat an aged-out peer as absent)
// and by GC (which then deletes it from disk):
//
//   a peer is kept while it is the local peer, or is pinned, or has an unexpired address, or was last written
//   no more than `maxPeerAge` ago; otherwise it has aged out.
//
// `maxPeerAge` 0 turns ageing off (a peer then goes with its last address, the store's rule before ageing);
// @libp2p/peer-store's default is 6 h. The boundary is upstream's: a peer written at t is kept at
// t + maxPeerAge and gone 1 ms later.
import type { PeerEntry } from './types.ts'

/** @libp2p/peer-store's `MAX_PEER_AGE`: the libp2p view's default. */
export const DEFAULT_MAX_PEER_AGE = 6 * 60 * 60_000

/** Whether the peer's last write is recent enough to keep it on its own. */
export function keptByAge(entry: PeerEntry, now: number, maxPeerAge: number): boolean {
  return maxPeerAge > 0 && entry.updated !== undefined && now - entry.updated <= maxPeerAge
}

export function hasLiveAddr(entry: PeerEntry, now: number): boolean {
  for (const a of entry.addrs.values()) if (now < a.expiresAt) return true
  return false
}

/** The rule above; `isSelf` says whether the entry is the local peer. */
export function agedOut(entry: PeerEntry, now: number, maxPeerAge: number, isSelf: boolean): boolean {
  return !isSelf && entry.pins.size === 0 && !hasLiveAddr(entry, now) && !keptByAge(entry, now, maxPeerAge)
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
