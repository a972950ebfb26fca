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
    'go UpdateAddrs also matches addrs that have expired but are not yet GC-collected and brings them back; in peerscope an addr is gone at its expiry. The Go program reports such revivals; the two stores then hold different state, so the trace is compared only up to and including that op.',
  goKeepsExpiredAddrTtl:
    "go AddAddrs (and ConsumePeerRecord) on an addr that has expired but is not yet GC-collected keeps the larger of its old and new TTL; peerscope stores it afresh at the new TTL. A later UpdateAddrs(oldTtl) then matches it in go only. The Go program reports such addrs (staleTtl, read from pstoremem's private state); the trace is compared up to and including that op.",
  recordReplacesCertifiedAddrs:
    "go v0.48.0 ConsumePeerRecord unions a newer record's addrs with the old ones; peerscope follows go master #3487 and drops certified addrs the newer record lacks (unless connected). The Go program reports the live addrs of the previous record that the new one lacks (headDrops); the trace is compared up to and including that op.",
  tooManyProtocolsMessage:
    'go says "too many protocols"; peerscope says "too many protocols (limit N)" (code ERR_TOO_MANY_PROTOCOLS). Only that pair of messages is treated as equal.',
  perPeerAddrCap:
    'go v0.48.0 has no per-peer addr cap; peerscope caps unconnected addrs at 64 per peer by default (go master #3486). The player opens peerscope with limits.maxAddrsPerPeer = 0.',
  privateKeyLocalOnly:
    "go stores any peer's private key (AddPrivKey); peerscope holds only the local peer's, given at open and never written. A trace names its local peer: go adds that key first, as its host does; peerscope opens with it."
} as const

export type DifferenceId = keyof typeof DIFFERENCES

const GO_TOO_MANY_PROTOCOLS = 'too many protocols'
const OUR_TOO_MANY_PROTOCOLS = /^too many protocols \(limit \d+\)$/

/** Bound on the drift from go's per-sample nanosecond truncation, in ms per sample. */
const NS_IN_MS = 1e-6

/** The difference that makes the two stores part at go result `r`, if any; the trace stops after it. */
export function partsAt(r: OpResult): DifferenceId | undefined {
  if (r.op === 'updateAddrs' && r.result != null) return 'goRevivesExpiredAddrs'
  if (r.op === 'addAddrs' && r.result != null) return 'goKeepsExpiredAddrTtl'
  if (r.op === 'consumePeerRecord') {
    const res = r.result as { headDrops?: unknown; staleTtl?: unknown } | undefined
    if (res?.staleTtl !== undefined) return 'goKeepsExpiredAddrTtl'
    if (res?.headDrops !== undefined) return 'recordReplacesCertifiedAddrs'
  }
  return undefined
}

/** How many leading ops of a trace are comparable: up to and including the first op where the stores part. */
export function comparableLength(go: readonly OpResult[]): number {
  const i = go.findIndex((r) => partsAt(r) !== undefined)
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
  if (go.op === 'addAddrs' && go.result != null) {
    // DIFFERENCES.goKeepsExpiredAddrTtl: the op itself returns nothing on either side.
    return { op: go.op, result: null }
  }
  if (go.op === 'consumePeerRecord' && go.result != null) {
    // DIFFERENCES.recordReplacesCertifiedAddrs, goKeepsExpiredAddrTtl: headDrops and staleTtl are the Go
    // program's reports, not go's result.
    const { accepted } = go.result as { accepted: boolean }
    return { op: go.op, result: { accepted } }
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
    if (
      g.error === GO_TOO_MANY_PROTOCOLS &&
      actual?.op === g.op &&
      actual.error !== undefined &&
      OUR_TOO_MANY_PROTOCOLS.test(actual.error)
    ) {
      // DIFFERENCES.tooManyProtocolsMessage
      continue
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
  return r.error !== undefined
    ? { op: r.op, error: r.error }
    : { op: r.op, result: sortKeys(r.result ?? null) }
}

/** Object keys in one order: go encodes map keys sorted, JS keeps insertion order. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys)
  if (v === null || typeof v !== 'object') return v
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])])
  )
}
