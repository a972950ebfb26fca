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
 * peer. It keeps some peers such that every other peer ranks after all of them. Bytes only grow, so a peer outside
 * can only overtake one inside by counting bytes, and the counter hands over every peer that did (`grew`). It keeps
 * twice as many peers as asked for, so that dropping a kept peer (an idle trim) leaves enough: only when fewer are
 * left than a scrape asks for does it rank every peer again.
 */
export class PeerRanking {
  /** A heap by rank with the kept peer that ranks last at the root (the one a busier peer replaces). */
  #kept: Series[] = []
  /** How many it keeps while it keeps every peer; past that, a busier peer only replaces the last-ranked one. */
  #size = 0
  /** Every peer is kept (there were fewer than `#size`): a new peer simply joins. */
  #all = false
  #valid = false
  /** Kept peers' bytes grew, or one left: the heap may be out of order until the next `#heapify`. */
  #stale = false

  /** The peers that rank first, at most `limit`, in order; `peers` gives every peer when it must rank them all. */
  top(limit: number, peers: () => Iterable<Series>): Series[] {
    const size = Math.floor(limit)
    if (!(size >= 1)) return []
    if (!this.#valid || (!this.#all && this.#kept.length < size))
      this.#rebuild(Math.max(2 * size, 16), peers())
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
    if (this.#all) {
      if (kept.length < this.#size) {
        s.ranked = true
        kept.push(s)
        this.#stale = true
        return
      }
      this.#all = false
    }
    if (this.#stale) this.#heapify()
    const last = kept[0]
    if (last === undefined || !ranksBefore(s, last)) return
    last.ranked = false
    s.ranked = true
    kept[0] = s
    this.#siftDown(0)
  }

  /** A peer is going. Every other peer still ranks after the kept ones, so the rest stay kept. */
  dropped(s: Series): void {
    if (!s.ranked) return
    s.ranked = false
    const kept = this.#kept
    const at = kept.indexOf(s)
    if (at >= 0) {
      kept[at] = kept[kept.length - 1] as Series
      kept.pop()
      this.#stale = true
    }
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
    this.#all = this.#kept.length < size
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
