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
import type { MapWalk } from './ordered-sharded-map.ts'
import type { PeerAgeing } from './peer-age.ts'
import { type PeerIndex, presentMask } from './peer-index.ts'
import {
  editTags,
  type GcStats,
  type LastGc,
  type PeerEntry,
  RECORD_KIND_BIT,
  type RecordKind
} from './types.ts'
import { yieldToLoop } from './yield.ts'

/** What GC needs of the write path. */
export interface GcWrites {
  markDirty(key: string, kinds: readonly RecordKind[]): void
  /**
   * Journals the removal of peers GC removed whole, and queues the deletes of the kinds each held (`masks[i]`, of
   * `RECORD_KIND_BIT`s, for `keys[i]`) (`WritePath.journalRemoved`).
   */
  journalRemoved(keys: readonly string[], masks: readonly number[]): void
  /**
   * Starts writing what is marked (with a journal, only past `startAbove` peers); resolves at once with a journal,
   * else once LevelDB has it (`WritePath.settleMarked`).
   */
  settleMarked(startAbove?: number): Promise<void>
}

export interface GarbageCollectorInit {
  index: PeerIndex
  writes: GcWrites
  now: () => number
  /** The ageing rule, and which peers are local (never removed). */
  ageing: Pick<PeerAgeing, 'agedOutWithoutLiveAddrs' | 'droppable'>
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

/** Changed peers past which a slice ends early, bounding what it leaves LevelDB at once. */
const GC_MAX_CHANGED = 1024

/**
 * Removed peers journaled in one append (one line, one write of the journal file) within a slice: a slice ends at
 * `GC_MAX_CHANGED` changed peers, so a slice that removes every peer it scans makes one append.
 */
const GC_JOURNAL_BATCH = 1024

/** Peers GC marks changed before LevelDB starts taking them during a run (with a journal). */
const GC_WRITE_BEHIND = 262_144

const ADDRS: readonly RecordKind[] = ['addrs']
const TAGS: readonly RecordKind[] = ['tags']
const ADDRS_AND_TAGS: readonly RecordKind[] = ['addrs', 'tags']

/** Peers a slice removed, not yet journaled: their keys, and the kinds each held as a mask. */
interface Removed {
  keys: string[]
  masks: number[]
}

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
    // The index's own walk, not a copy of its keys (a copy of a million keys was itself a long block). It outlives
    // deletes, peers added between slices come last, and it removes the peer it stands on without a lookup. Each
    // slice reads the clock once.
    const walk = index.walk()
    let done = false
    let purged = false
    while (!purged) {
      const sliceStart = performance.now()
      const now = this.#init.now()
      stats.slices++
      let changed = 0
      let removed: Removed = { keys: [], masks: [] }
      for (let n = 1; !done; n++) {
        if (!walk.next()) {
          done = true
          break
        }
        if (this.#collectPeer(walk, now, stats, removed)) changed++
        if ((n & 31) !== 0) continue
        // Removed peers are journaled as they gather, so the journal's encoding counts towards the slice's time
        // (journaled after the scan, a slice that removed every peer it scanned ran twice its time).
        if (removed.keys.length >= GC_JOURNAL_BATCH) {
          writes.journalRemoved(removed.keys, removed.masks)
          removed = { keys: [], masks: [] }
        }
        // Bound both the slice's time and what it leaves LevelDB at once.
        if (changed >= GC_MAX_CHANGED || performance.now() - sliceStart >= sliceMs) break
      }
      writes.journalRemoved(removed.keys, removed.masks)
      // Once the scan is over, the index drops the peers it removed from its lookup tables, in what is left of this
      // slice and in slices of their own (a full expiry empties every table, dropped whole at once).
      if (done) purged = index.purgeRemoved(sliceStart + sliceMs)
      stats.longestSliceMs = Math.max(stats.longestSliceMs, performance.now() - sliceStart)
      // With a journal, LevelDB takes the run's changes in the background, in batches of their own turns, from the
      // end of the run (or once many are marked), not between its slices. The peers it removed are journaled (see
      // `journalRemoved`); the rest (expired addresses and tags of peers it keeps) need not be: a crash before they
      // land leaves them for the next GC, and a later write of such a peer journals its whole record. Without a
      // journal, the next slice waits for LevelDB.
      await writes.settleMarked(done ? 0 : GC_WRITE_BEHIND)
      if (purged) break
      await yieldToLoop()
      if (isClosed()) break
    }
    stats.durationMs = performance.now() - started
    this.#last = { ...stats, at }
    // What the run left of what it found: addresses written while it ran count towards the next run.
    this.#baseline = held - stats.addrsRemoved
    return stats
  }

  /** Collects one peer; true when it changed. A peer it removes goes on `removed` with the records to delete. */
  #collectPeer(walk: MapWalk<PeerEntry>, now: number, stats: GcStats, removed: Removed): boolean {
    const { index, writes, ageing, removeBarePeers } = this.#init
    const key = walk.key
    const entry = walk.value
    stats.peersScanned++
    if (entry.pins.size > 0) return false
    const addrs = entry.addrs
    const size = addrs.size
    const live = addrs.liveCount(now)
    // A peer that aged out goes as it is, every record it holds with it: nothing of it is edited first (in a full
    // expiry, editing each peer on its way out cost about a fifth of the run).
    if (live === 0 && removeBarePeers && ageing.agedOutWithoutLiveAddrs(key, entry, now)) {
      stats.addrsRemoved += size
      if (entry.tags.size > 0)
        for (const t of entry.tags.values()) if (now >= t.expiresAt) stats.tagsRemoved++
      stats.peersRemoved++
      this.#remove(walk, presentMask(entry), removed)
      return true
    }
    const addrsChanged = live < size
    if (addrsChanged) {
      stats.addrsRemoved += size - live
      if (live === 0) index.clearAddrs(entry)
      else {
        // Backwards, so a delete does not move the addresses still to visit.
        for (let i = size - 1; i >= 0; i--) if (!addrs.liveAt(i, now)) index.deleteAddrAt(entry, i)
        addrs.trim()
      }
      forgetRecordWithoutAddrs(entry)
    }
    let tagsChanged = false
    if (entry.tags.size > 0) {
      for (const [name, t] of entry.tags) {
        if (now >= t.expiresAt) {
          editTags(entry).delete(name)
          stats.tagsRemoved++
          tagsChanged = true
        }
      }
    }
    // Nothing left, not even a recent write time: its saved time (if any) goes with it, and the records the scan
    // just emptied.
    if (ageing.droppable(entry, now)) {
      const emptied = (addrsChanged ? RECORD_KIND_BIT.addrs : 0) | (tagsChanged ? RECORD_KIND_BIT.tags : 0)
      this.#remove(walk, presentMask(entry) | emptied, removed)
      return true
    }
    if (!addrsChanged && !tagsChanged) return false
    writes.markDirty(key, addrsChanged ? (tagsChanged ? ADDRS_AND_TAGS : ADDRS) : TAGS)
    return true
  }

  /** Takes a peer out of the index; the records of `mask` are deleted (journaled with the slice's removals). */
  #remove(walk: MapWalk<PeerEntry>, mask: number, removed: Removed): void {
    if (mask !== 0) {
      removed.keys.push(walk.key)
      removed.masks.push(mask)
    }
    this.#init.index.removeAt(walk)
  }
}
