import type { OpResult } from './trace.ts'

/**
 * Deliberate differences from go-libp2p v0.48.0 (reference §9, §10), each with
 * the exact place the comparator accounts for it. DIFFERENCES.md explains them.
 */
export const DIFFERENCES = {
  peersWithAddrsFiltered:
    'go PeersWithAddrs lists peers whose addrs all expired but are not yet GC-collected; peerscope filters at read. Compared against the go peers that still have a live addr.',
  latencyNanosecondTruncation:
    'go keeps the latency EWMA as a time.Duration, truncated to whole nanoseconds at every sample; peerscope keeps float milliseconds. Latencies are compared to within 1 ns per recorded sample.',
  goRevivesExpiredAddrs:
    'go UpdateAddrs also matches addrs that have expired but are not yet GC-collected and brings them back; in peerscope an addr is gone at its expiry. The Go program reports such revivals; the two stores then hold different state, so the trace is compared only up to and including that op.'
} as const

/** Bound on the drift from go's per-sample nanosecond truncation, in ms per sample. */
const NS_IN_MS = 1e-6

/** How many leading ops of a trace are comparable: up to and including a go revival. */
export function comparableLength(go: readonly OpResult[]): number {
  // DIFFERENCES.goRevivesExpiredAddrs
  const i = go.findIndex((r) => r.op === 'updateAddrs' && r.result != null)
  return i === -1 ? go.length : i + 1
}

/** Maps a go result to what peerscope must report for the same op, applying only DIFFERENCES. */
export function expectedFromGo(go: OpResult): OpResult {
  if (go.op === 'peersWithAddrs' && go.result !== undefined) {
    // DIFFERENCES.peersWithAddrsFiltered
    const { live } = go.result as { all: number[]; live: number[] }
    return { op: go.op, result: { live } }
  }
  if (go.op === 'updateAddrs' && go.result != null) {
    // DIFFERENCES.goRevivesExpiredAddrs: the op itself returns nothing on either side.
    return { op: go.op, result: null }
  }
  return go
}

export interface Mismatch {
  index: number
  op: string
  go: OpResult
  peerscope: OpResult | undefined
}

/** First op whose results differ, or undefined when the traces agree op by op. */
export function firstMismatch(go: readonly OpResult[], ours: readonly OpResult[]): Mismatch | undefined {
  let samples = 0
  for (let i = 0; i < go.length; i++) {
    const g = go[i] as OpResult
    const expected = expectedFromGo(g)
    const actual = ours[i]
    if (g.op === 'recordLatency') samples++
    if (g.op === 'latency' && typeof g.result === 'number' && typeof actual?.result === 'number') {
      // DIFFERENCES.latencyNanosecondTruncation
      if (Math.abs(g.result - actual.result) <= samples * NS_IN_MS) continue
      return { index: i, op: g.op, go: g, peerscope: actual }
    }
    if (JSON.stringify(normalise(expected)) !== JSON.stringify(normalise(actual))) {
      return { index: i, op: g.op, go: g, peerscope: actual }
    }
  }
  return ours.length === go.length
    ? undefined
    : { index: go.length, op: 'length', go: { op: 'end' }, peerscope: ours[go.length] }
}

function normalise(r: OpResult | undefined): unknown {
  if (r === undefined) return undefined
  return r.error !== undefined ? { op: r.op, error: r.error } : { op: r.op, result: r.result ?? null }
}
