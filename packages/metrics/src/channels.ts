import { assertSize } from './errors.ts'

/**
 * A stream's counters resolved once. An event only adds to two numbers held by the channel; they reach the
 * counter (and its map) at the end of the current task (one microtask for every channel that saw events in it),
 * or at once when anything reads the counter, so the figures stay exact at every moment while a burst of small
 * messages costs one addition per counter, not one per message.
 */
export interface Channel {
  sent(bytes: number): void
  received(bytes: number): void
}

/** Hands a channel's gathered counts over: bytes and packets in, then out. */
export type ApplyCounts = (bytesIn: number, packetsIn: number, bytesOut: number, packetsOut: number) => void

/** The channels holding counts not yet handed over, and the microtask that hands them over. */
export class PendingChannels {
  /**
   * Channels with counts (the first `#count` slots), and whether a microtask will hand them over. The array keeps
   * its capacity between flushes: emptying it with `length = 0` would free its backing store, and every task's
   * first event would then allocate a new one (garbage on the per-message path).
   */
  readonly #unflushed: Array<(() => void) | undefined> = []
  #count = 0
  #queued = false

  /**
   * A channel gathering its counts in plain numbers; `apply` hands them over. The first event after a flush puts
   * the channel on the list and makes sure a microtask will flush it.
   */
  channel(apply: ApplyCounts): Channel {
    let bytesIn = 0
    let packetsIn = 0
    let bytesOut = 0
    let packetsOut = 0
    let listed = false
    const flushOne = (): void => {
      listed = false
      // Zeroed before `apply`, so a flush that throws part-way never hands the same counts over twice.
      const inBytes = bytesIn
      const inPackets = packetsIn
      const outBytes = bytesOut
      const outPackets = packetsOut
      bytesIn = packetsIn = bytesOut = packetsOut = 0
      apply(inBytes, inPackets, outBytes, outPackets)
    }
    const list = (): void => {
      listed = true
      this.#unflushed[this.#count++] = flushOne
      if (!this.#queued) {
        this.#queued = true
        queueMicrotask(this.#flushTask)
      }
    }
    return {
      sent: (bytes) => {
        assertSize(bytes)
        bytesOut += bytes
        packetsOut++
        if (!listed) list()
      },
      received: (bytes) => {
        assertSize(bytes)
        bytesIn += bytes
        packetsIn++
        if (!listed) list()
      }
    }
  }

  /** Hands every listed channel's counts over. */
  flush(): void {
    const unflushed = this.#unflushed
    // A flush never lists another channel, so the list only shrinks here. Each slot is cleared as it is taken
    // (no closure of a closed stream is kept), and one that throws leaves the rest for the next flush.
    for (let i = 0; i < this.#count; i++) {
      const flushOne = unflushed[i]
      unflushed[i] = undefined
      flushOne?.()
    }
    this.#count = 0
  }

  readonly #flushTask = (): void => {
    this.#queued = false
    this.flush()
  }
}
