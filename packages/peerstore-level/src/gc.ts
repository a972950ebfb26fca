// Garbage collection: expired addresses and tags go, then (unless `removeBarePeers` is off) every peer that aged
// out (peer-age.ts: not a local peer, not pinned, no unexpired address, not written within `maxPeerAge`); an entry
// left holding nothing that no recent write keeps goes too. Pinned peers are not touched. A run scans
// the index in slices of at most `sliceMs` and yields to the event loop between them; each slice's changes are
// written before the next slice starts, so a slow disk cannot let batches (and their encode time) pile up. The
// collector owns the store's one GC timer and remembers the last run (`LastGc`) for status views.
//
// Time alone does not bound memory: between two runs every new peer's addresses stay in the index, expired or
// not, so memory grew with the arrival rate (1 GiB at 1,000 new peers/s with a run every 10 minutes). A run
// therefore also starts once the store holds `runAfterAddrs` more expiring addresses than it did after the last
// run: memory between runs is bounded by the addresses live after a run, plus that many.

import { forgetRecordWithoutAddrs } from './books/addr-book.ts'
import { isLive } from './expiry.ts'
import type { PeerAgeing } from './peer-age.ts'
import { type PeerIndex, presentKinds } from './peer-index.ts'
import { editTags, type GcStats, type LastGc, type RecordKind } from './types.ts'

/** What GC needs of the write path. */
export interface GcWrites {
  readonly pendingPeers: number
  markDirty(key: string, kinds: readonly RecordKind[]): void
  flush(): Promise<void>
}

export interface GarbageCollectorInit {
  index: PeerIndex
  writes: GcWrites
  now: () => number
  /** The ageing rule, and which peers are local (never removed). */
  ageing: Pick<PeerAgeing, 'agedOut' | 'droppable'>
  /** Longest synchronous slice in ms before a run yields to the event loop. */
  sliceMs: number
  removeBarePeers: boolean
  /** Expiring addresses gained since the last run that start a run (0 = by the timer and on demand only). */
  runAfterAddrs: number
  /** True once the store is closed: a run stops at its next slice. */
  isClosed: () => boolean
  /** A run the timer or the address count started failed (a run someone called rejects to them instead). */
  onTimerError: (err: unknown) => void
}

/** Dirty peers past which a slice ends early, bounding the batch it leaves to encode. */
const GC_MAX_DIRTY = 256

const ADDRS: readonly RecordKind[] = ['addrs']
const TAGS: readonly RecordKind[] = ['tags']

// setImmediate is Node's; a browser yields to its event loop with a timeout.
const yieldToLoop = (): Promise<void> =>
  new Promise((resolve) =>
    typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)
  )

/** Waits for a run without taking over its failure, which its caller (or the timer) reports. */
function reportedByCaller(): void {}

export class GarbageCollector {
  readonly #init: GarbageCollectorInit
  #run: Promise<GcStats> | undefined
  #timer: ReturnType<typeof setInterval> | undefined
  /** A run the address count asked for, due at the next turn of the event loop. */
  #soon: ReturnType<typeof setTimeout> | undefined
  #last: LastGc | undefined
  /**
   * Expiring addresses the last run left of those it found (at open: those loaded): the count a run by address
   * count is measured from.
   */
  #baseline: number

  constructor(init: GarbageCollectorInit) {
    this.#init = init
    this.#baseline = init.index.unconnected
  }

  /** The last run that completed, with its start time (the store's clock). */
  get last(): LastGc | undefined {
    return this.#last
  }

  /** Starts a run, or joins the one in progress. */
  run(): Promise<GcStats> {
    this.#run ??= this.#collect().finally(() => {
      this.#run = undefined
    })
    return this.#run
  }

  /** Runs GC every `interval` ms (the timer does not keep the process alive); 0 = never. */
  start(interval: number): void {
    if (!(interval > 0) || this.#timer !== undefined) return
    this.#timer = setInterval(() => {
      this.run().catch(this.#init.onTimerError)
    }, interval)
    this.#timer.unref?.() // a number in browsers, with nothing to unref
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    if (this.#soon !== undefined) clearTimeout(this.#soon)
    this.#soon = undefined
  }

  /**
   * Called after each write: once the store holds `runAfterAddrs` more expiring addresses than after the last run,
   * a run starts at the next turn of the event loop (not inside the writer's call).
   */
  afterWrite(): void {
    const { runAfterAddrs, index, isClosed } = this.#init
    if (runAfterAddrs <= 0 || this.#soon !== undefined || this.#run !== undefined) return
    if (index.unconnected - this.#baseline < runAfterAddrs || isClosed()) return
    this.#soon = setTimeout(() => {
      this.#soon = undefined
      if (!isClosed()) this.run().catch(this.#init.onTimerError)
    }, 0)
    this.#soon.unref?.()
  }

  /** Resolves once no run is in progress. */
  async idle(): Promise<void> {
    await this.#run?.catch(reportedByCaller)
  }

  async #collect(): Promise<GcStats> {
    const { index, writes, sliceMs, isClosed } = this.#init
    const at = this.#init.now()
    const started = performance.now()
    const stats: GcStats = {
      peersScanned: 0,
      addrsRemoved: 0,
      tagsRemoved: 0,
      peersRemoved: 0,
      slices: 0,
      longestSliceMs: 0,
      durationMs: 0
    }
    const held = index.unconnected
    const keys = [...index.keys()]
    let i = 0
    while (i < keys.length) {
      const sliceStart = performance.now()
      stats.slices++
      while (i < keys.length) {
        const key = keys[i++]!
        this.#collectPeer(key, stats)
        // Bound both the scan and the batch it produces, which is encoded synchronously on flush.
        if (
          (i & 31) === 0 &&
          (writes.pendingPeers >= GC_MAX_DIRTY || performance.now() - sliceStart >= sliceMs)
        ) {
          break
        }
      }
      stats.longestSliceMs = Math.max(stats.longestSliceMs, performance.now() - sliceStart)
      await yieldToLoop()
      if (isClosed()) break
      // One slice's batch at a time, so a slow disk cannot let batches (and their encode time) pile up.
      if (writes.pendingPeers > 0) {
        const flushStart = performance.now()
        const written = writes.flush()
        stats.longestSliceMs = Math.max(stats.longestSliceMs, performance.now() - flushStart)
        await written
      }
    }
    stats.durationMs = performance.now() - started
    this.#last = { ...stats, at }
    // What the run left of what it found: addresses written while it ran count towards the next run.
    this.#baseline = held - stats.addrsRemoved
    return stats
  }

  #collectPeer(key: string, stats: GcStats): void {
    const { index, writes, ageing, removeBarePeers } = this.#init
    const entry = index.get(key)
    if (entry == null) return
    stats.peersScanned++
    if (entry.pins.size > 0) return
    const now = this.#init.now()
    let addrsChanged = false
    for (const [k, a] of entry.addrs) {
      if (!isLive(a, now)) {
        index.deleteAddr(entry, k)
        stats.addrsRemoved++
        addrsChanged = true
      }
    }
    let tagsChanged = false
    for (const [name, t] of entry.tags) {
      if (now >= t.expiresAt) {
        editTags(entry).delete(name)
        stats.tagsRemoved++
        tagsChanged = true
      }
    }
    if (addrsChanged) {
      forgetRecordWithoutAddrs(entry)
      writes.markDirty(key, ADDRS)
    }
    if (tagsChanged) writes.markDirty(key, TAGS)
    if (removeBarePeers && ageing.agedOut(key, entry, now)) {
      writes.markDirty(key, presentKinds(entry))
      index.delete(key)
      stats.peersRemoved++
    } else if (ageing.droppable(entry, now)) {
      // Nothing left, not even a recent write time: its saved time (if any) goes with it.
      const kinds = presentKinds(entry)
      if (kinds.length > 0) writes.markDirty(key, kinds)
      index.delete(key)
    }
  }
}
