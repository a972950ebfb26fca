import { MetricMapError } from './errors.ts'
import { H_CREATING, H_SIZE, PIN_STRIDE, type TableViews } from './shared-layout.ts'

/**
 * The lock-free core of the shared map: an open-addressing table (linear probing) whose slots are claimed with
 * `Atomics.compareExchange`. See the README, "Deletion and slot reuse", for the protocol and its guarantees.
 *
 * A slot's control word is `(generation << 2) | state`. The generation changes every time the slot is
 * (re)bound, so a cached `(slot, word)` pair is a handle that can check in one load that it still points at the
 * key it was resolved for.
 */

export const EMPTY = 0
/** Claimed; key bytes or the zeroed counter are being written. Readers wait or look again. */
export const BUSY = 1
export const LIVE = 2
/** Deleted. The slot keeps its key bytes until it is rebound, so the key's probe chain stays intact. */
export const TOMB = 3

const GEN_MASK = 0x1fffffff

export const stateOf = (word: number): number => word & 3
const genOf = (word: number): number => word >>> 2
const makeWord = (gen: number, state: number): number => ((gen & GEN_MASK) << 2) | state

/** What a scan of a key's probe chain found. */
interface Scan {
  /** Slot bound to the key (LIVE or TOMB), or -1. */
  match: number
  /** Control word seen at `match`. */
  matchWord: number
  /** First tombstone of another key in the chain (a reuse candidate), or -1. */
  tomb: number
  tombWord: number
  /** The EMPTY slot ending the chain, or -1 when the chain covered the whole table. */
  empty: number
}

/** A resolved key: the slot and the LIVE control word it had then. */
export interface Resolved {
  slot: number
  word: number
  /** True when this call bound the key (its counter was set to the initial value). */
  created: boolean
}

export class SharedTable {
  readonly views: TableViews
  /** This instance's pin index: its word in `pins` says which slot it is updating (slot + 1, or 0). */
  readonly pin: number
  /** Index in `values` where this instance's lane starts: instances take lanes round-robin by pin. */
  readonly laneBase: number
  readonly #mask: number
  readonly #scan: Scan = { match: -1, matchWord: 0, tomb: -1, tombWord: 0, empty: -1 }
  /** A word nobody notifies: `Atomics.wait` on it is a short sleep that works in any thread. */
  readonly #nap = new Int32Array(new SharedArrayBuffer(4))

  constructor(views: TableViews) {
    this.views = views
    this.#mask = views.slots - 1
    this.pin = claimPin(views)
    this.laneBase = ((this.pin / PIN_STRIDE) % views.lanes) * views.slots
  }

  /** Gives the pin index back; the instance must not be used afterwards. */
  release(): void {
    Atomics.store(this.views.pins, this.pin, 0)
    Atomics.store(this.views.owners, this.pin / PIN_STRIDE, 0)
  }

  size(): number {
    return Atomics.load(this.views.header, H_SIZE)
  }

  /** The counter of `slot`: its cell in every lane, summed. Each cell is read atomically; the sum is not one read. */
  sum(slot: number): bigint {
    const { values, slots, lanes } = this.views
    let total = Atomics.load(values, slot)
    for (let lane = 1; lane < lanes; lane++) total += Atomics.load(values, lane * slots + slot)
    return total
  }

  /** Sets a slot being bound: `initial` in lane 0, every other lane zeroed (it may hold a deleted key's counts). */
  #initCounter(slot: number, initial: bigint): void {
    const { values, slots, lanes } = this.views
    for (let lane = 1; lane < lanes; lane++) Atomics.store(values, lane * slots + slot, 0n)
    Atomics.store(values, slot, initial)
  }

  /** The LIVE slot of a key, or -1 (never creates). */
  find(bytes: Uint8Array, length: number, hash: number): Resolved | undefined {
    const s = this.#scanFor(bytes, length, hash)
    if (s.match >= 0 && stateOf(s.matchWord) === LIVE)
      return { slot: s.match, word: s.matchWord, created: false }
    return undefined
  }

  /** Finds the key's LIVE slot, or binds one with the counter at `initial`. Throws `ERR_METRIC_MAP_FULL`. */
  resolve(bytes: Uint8Array, length: number, hash: number, initial: bigint): Resolved {
    const { ctrl } = this.views
    // A full table is re-checked a few times before giving up: a thread creating the same key, or failing its
    // own reservation, holds a unit of `size` for a moment, and the key it is creating may be the one we want.
    let fullTries = 0
    for (;;) {
      const s = this.#scanFor(bytes, length, hash)
      if (s.match >= 0) {
        if (stateOf(s.matchWord) === LIVE) return { slot: s.match, word: s.matchWord, created: false }
        // Tombstone of this very key: revive it in place (no other key ever lived here since).
        const slot = s.match
        if (!this.#tryReserve(++fullTries)) continue
        const busy = makeWord(genOf(s.matchWord) + 1, BUSY)
        if (Atomics.compareExchange(ctrl, slot, s.matchWord, busy) !== s.matchWord) {
          this.#unreserve()
          continue
        }
        this.#initCounter(slot, initial)
        const live = makeWord(genOf(busy), LIVE)
        Atomics.store(ctrl, slot, live)
        return this.#settleCreated(slot, live, bytes, length, hash)
      }
      if (!this.#tryReserve(++fullTries)) continue
      let slot = -1
      let busy = 0
      if (s.tomb >= 0) {
        busy = makeWord(genOf(s.tombWord) + 1, BUSY)
        if (Atomics.compareExchange(ctrl, s.tomb, s.tombWord, busy) === s.tombWord) {
          if (this.#pinned(s.tomb)) {
            // A thread is inside an update it validated before the delete: not safe to rebind yet.
            Atomics.store(ctrl, s.tomb, makeWord(genOf(busy), TOMB))
          } else {
            slot = s.tomb
          }
        }
      } else if (s.empty >= 0) {
        busy = makeWord(0, BUSY)
        if (Atomics.compareExchange(ctrl, s.empty, EMPTY, busy) === EMPTY) slot = s.empty
      }
      if (slot < 0) {
        this.#unreserve()
        continue
      }
      const { keys, hashes, lengths, maxKeyBytes } = this.views
      keys.set(bytes.subarray(0, length), slot * maxKeyBytes)
      hashes[slot] = hash
      lengths[slot] = length
      this.#initCounter(slot, initial)
      const live = makeWord(genOf(busy), LIVE)
      Atomics.store(ctrl, slot, live)
      return this.#settleCreated(slot, live, bytes, length, hash)
    }
  }

  /** Tombstones the key's LIVE slot; false when absent. */
  delete(bytes: Uint8Array, length: number, hash: number): boolean {
    for (;;) {
      const s = this.#scanFor(bytes, length, hash)
      if (s.match < 0 || stateOf(s.matchWord) !== LIVE) return false
      if (this.tombstone(s.match, s.matchWord)) return true
    }
  }

  /** CAS one LIVE word to its tombstone; false when the slot changed meanwhile. */
  tombstone(slot: number, word: number): boolean {
    const tomb = makeWord(genOf(word), TOMB)
    if (Atomics.compareExchange(this.views.ctrl, slot, word, tomb) !== word) return false
    Atomics.sub(this.views.header, H_SIZE, 1)
    return true
  }

  /** Spins while `slot` is BUSY; returns the settled word. BUSY lasts for a key copy, not for user code. */
  settledWord(slot: number): number {
    const { ctrl } = this.views
    let w = Atomics.load(ctrl, slot)
    while (stateOf(w) === BUSY) w = Atomics.load(ctrl, slot)
    return w
  }

  keyEquals(slot: number, bytes: Uint8Array, length: number, hash: number): boolean {
    const { hashes, lengths, keys, maxKeyBytes } = this.views
    if (hashes[slot] !== hash || lengths[slot] !== length) return false
    const base = slot * maxKeyBytes
    for (let i = 0; i < length; i++) if (keys[base + i] !== bytes[i]) return false
    return true
  }

  #scanFor(bytes: Uint8Array, length: number, hash: number): Scan {
    const s = this.#scan
    s.match = -1
    s.tomb = -1
    s.empty = -1
    const { ctrl } = this.views
    const mask = this.#mask
    let slot = hash & mask
    for (let n = 0; n <= mask; ) {
      const w = this.settledWord(slot)
      const state = stateOf(w)
      if (state === EMPTY) {
        s.empty = slot
        return s
      }
      const same = this.keyEquals(slot, bytes, length, hash)
      // The key bytes are only stable while the word is: a rebind in between means look at this slot again.
      if (Atomics.load(ctrl, slot) !== w) continue
      if (same) {
        s.match = slot
        s.matchWord = w
        return s
      }
      // A pinned tombstone may still receive an update validated before its delete: pass it by, so a thread
      // stalled (or killed) mid-update blocks reuse of that one slot and nothing else.
      if (state === TOMB && s.tomb < 0 && !this.#pinned(slot)) {
        s.tomb = slot
        s.tombWord = w
      }
      slot = (slot + 1) & mask
      n++
    }
    return s
  }

  /**
   * Settles a slot this thread just bound, then ends its reservation. Until the twin check is done a twin may
   * hold a second unit of `size`; the reservation stays counted in `creating` so that a thread finding the map
   * full meanwhile waits for the merge instead of failing with ERR_METRIC_MAP_FULL.
   */
  #settleCreated(slot: number, word: number, bytes: Uint8Array, length: number, hash: number): Resolved {
    try {
      return this.#settle(slot, word, bytes, length, hash, true)
    } finally {
      this.#created()
    }
  }

  /**
   * Two threads binding the same new key at once can each claim a different slot. After binding, look for a
   * twin in the chain: the one nearer the chain start wins, the other is tombstoned and its counter (once no
   * thread is mid-update on it) moved into the winner. Whoever sees the twin resolves it, so it never lasts.
   */
  #settle(
    slot: number,
    word: number,
    bytes: Uint8Array,
    length: number,
    hash: number,
    created: boolean
  ): Resolved {
    const { ctrl, values, slots, lanes } = this.views
    const mask = this.#mask
    const home = hash & mask
    const distance = (i: number): number => (i - home) & mask
    let mine = slot
    let mineWord = word
    let i = home
    for (let n = 0; n <= mask; ) {
      const w = this.settledWord(i)
      if (stateOf(w) === EMPTY) break
      if (i !== mine && stateOf(w) === LIVE) {
        const same = this.keyEquals(i, bytes, length, hash)
        if (Atomics.load(ctrl, i) !== w) continue
        if (same) {
          const [winner, winnerWord, loser, loserWord] =
            distance(i) < distance(mine) ? [i, w, mine, mineWord] : [mine, mineWord, i, w]
          if (this.tombstone(loser, loserWord)) {
            this.#awaitUnpinned(loser)
            for (let lane = 0; lane < lanes; lane++) {
              const moved = Atomics.exchange(values, lane * slots + loser, 0n)
              if (moved !== 0n) Atomics.add(values, lane * slots + winner, moved)
            }
          }
          if (winner !== mine) created = false
          mine = winner
          mineWord = winnerWord
          if (Atomics.load(ctrl, mine) !== mineWord) {
            // The survivor changed too (deleted meanwhile): resolve from scratch.
            return this.resolve(bytes, length, hash, 0n)
          }
        }
      }
      i = (i + 1) & mask
      n++
    }
    return { slot: mine, word: mineWord, created }
  }

  /**
   * Takes one unit of `size`. When the table is full, returns false so the caller searches again (the key may
   * have been created meanwhile by another thread), up to FULL_RETRIES times; then throws ERR_METRIC_MAP_FULL.
   */
  #tryReserve(tries: number): boolean {
    const { header, capacity } = this.views
    // `creating` goes up before `size`, so a thread that sees our unit in `size` also sees us creating.
    Atomics.add(header, H_CREATING, 1)
    if (Atomics.add(header, H_SIZE, 1) < capacity) return true
    Atomics.sub(header, H_SIZE, 1)
    Atomics.sub(header, H_CREATING, 1)
    if (tries > FULL_RETRIES) {
      throw new MetricMapError('ERR_METRIC_MAP_FULL', `shared metric map is full (capacity ${capacity} keys)`)
    }
    // Only a thread between its reservation and the end of its publish can make the key we want appear. When
    // none is left, one may just have published it (the last key of a full map, created by two threads at
    // once): search again at once, without sleeping on the hot path; a plainly full map fails after the retries.
    if (Atomics.load(header, H_CREATING) === 0) return false
    // Give that thread a moment to finish.
    Atomics.wait(this.#nap, 0, 0, tries)
    return false
  }

  /** A reservation ended with its key published. */
  #created(): void {
    Atomics.sub(this.views.header, H_CREATING, 1)
  }

  /** A reservation given back unused. */
  #unreserve(): void {
    Atomics.sub(this.views.header, H_SIZE, 1)
    Atomics.sub(this.views.header, H_CREATING, 1)
  }

  #pinned(slot: number): boolean {
    const { pins, maxThreads } = this.views
    const mark = slot + 1
    for (let t = 0; t < maxThreads; t++) if (Atomics.load(pins, t * PIN_STRIDE) === mark) return true
    return false
  }

  #awaitUnpinned(slot: number): void {
    while (this.#pinned(slot)) {
      // Pins cover a load and an add: this spins for nanoseconds unless a thread is descheduled there.
    }
  }
}

/** How often a full table is searched again before ERR_METRIC_MAP_FULL (see #tryReserve). */
const FULL_RETRIES = 8

function claimPin(views: TableViews): number {
  for (let t = 0; t < views.maxThreads; t++) {
    if (Atomics.compareExchange(views.owners, t, 0, 1) === 0) return t * PIN_STRIDE
  }
  throw new MetricMapError(
    'ERR_TOO_MANY_THREADS',
    `all ${views.maxThreads} attachment slots of this shared metric map are taken; call detach() on unused instances`
  )
}
