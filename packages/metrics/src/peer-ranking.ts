import { busiest } from './export/busiest.ts'
import type { Series } from './series.ts'

const bytesOf = (s: Series): number => s.bytesIn + s.bytesOut
const nameOf = (s: Series): string => s.name

/** Most bytes in + out first, ties by peer id (UTF-16 order): the order of the per-peer Prometheus series. */
function ranksBefore(a: Series, b: Series): boolean {
  const x = bytesOf(a)
  const y = bytesOf(b)
  return x > y || (x === y && a.name < b.name)
}

/**
 * The busiest peers, kept up to date from the peers whose bytes grew, so a scrape does not rank every tracked
 * peer. It holds the `size` peers that ranked first when it last looked; every other peer ranked after all of
 * them then. Bytes only grow, so a peer outside can only overtake one inside by counting bytes, and the counter
 * hands over every peer that did (`grew`). Dropping a kept peer, or a reset, makes it rank every peer again once.
 */
export class PeerRanking {
  /** A heap by rank with the kept peer that ranks last at the root (the one a busier peer replaces). */
  #kept: Series[] = []
  #size = 0
  #valid = false
  /** A kept peer's bytes grew: its place in the heap may be wrong until the next `#heapify`. */
  #stale = false

  /** The peers that rank first, at most `limit`, in order; `peers` gives every peer when it must rank them all. */
  top(limit: number, peers: () => Iterable<Series>): Series[] {
    const size = Math.floor(limit)
    if (!(size >= 1)) return []
    if (!this.#valid || size > this.#size) this.#rebuild(size, peers())
    const order = [...this.#kept].sort((a, b) => (ranksBefore(a, b) ? -1 : ranksBefore(b, a) ? 1 : 0))
    return order.length > size ? order.slice(0, size) : order
  }

  /** A peer's bytes grew, or it is new: it may now rank among the kept ones. */
  grew(s: Series): void {
    if (!this.#valid) return
    if (s.ranked) {
      this.#stale = true
      return
    }
    const kept = this.#kept
    if (kept.length < this.#size) {
      s.ranked = true
      kept.push(s)
      this.#stale = true
      return
    }
    if (this.#stale) this.#heapify()
    const last = kept[0] as Series
    if (!ranksBefore(s, last)) return
    last.ranked = false
    s.ranked = true
    kept[0] = s
    this.#siftDown(0)
  }

  /** A peer is going: if it was kept, the peers must be ranked again. */
  dropped(s: Series): void {
    if (s.ranked) this.invalidate()
  }

  invalidate(): void {
    for (const s of this.#kept) s.ranked = false
    this.#kept = []
    this.#valid = false
  }

  #rebuild(size: number, peers: Iterable<Series>): void {
    this.invalidate()
    // busiest() returns them in rank order, the reverse of which is a valid heap with the last-ranked at the root.
    this.#kept = busiest(peers, size, bytesOf, nameOf).reverse()
    for (const s of this.#kept) s.ranked = true
    this.#size = size
    this.#valid = true
    this.#stale = false
  }

  #heapify(): void {
    for (let i = (this.#kept.length >> 1) - 1; i >= 0; i--) this.#siftDown(i)
    this.#stale = false
  }

  #siftDown(from: number): void {
    const kept = this.#kept
    for (let i = from; ; ) {
      const left = 2 * i + 1
      if (left >= kept.length) return
      const right = left + 1
      // The child that ranks later moves up: the root stays the last-ranked.
      const child =
        right < kept.length && ranksBefore(kept[left] as Series, kept[right] as Series) ? right : left
      if (!ranksBefore(kept[i] as Series, kept[child] as Series)) return
      const swap = kept[i] as Series
      kept[i] = kept[child] as Series
      kept[child] = swap
      i = child
    }
  }
}
