import type { OpResult } from './trace.ts'

/**
 * Deliberate differences from go-libp2p v0.52.0, each with the exact place the comparator accounts for it.
 * DIFFERENCES.md explains them; test/differences-demonstrated.test.ts shows each one on both sides.
 */
export const DIFFERENCES = {
  peersWithAddrsFiltered:
    'go PeersWithAddrs lists peers whose addrs all expired but are not yet GC-collected; peerscope filters at read. Compared against the go peers that still have a live addr.',
  latencyNanosecondTruncation:
    'go keeps the latency EWMA as a time.Duration, truncated to whole nanoseconds at every sample; peerscope keeps float milliseconds. Latencies are compared to within 1 ns per recorded sample.',
  goKeepsExpiredAddrTtl:
    "go AddAddrs (and ConsumePeerRecord) on an addr that has expired but is not yet GC-collected keeps the larger of its old and new TTL; peerscope stores it afresh at the new TTL. A later UpdateAddrs(oldTtl) then matches it in go only. The Go program reports such addrs (staleTtl, read from pstoremem's private state); the stores differ from there, so the trace is compared up to and including that op.",
  peersListsEveryRecord:
    'go Peers() lists the peers with a key or an addr entry; peerscope peers() lists every peer holding any record (protocols, metadata, latency too). The Go program also reports the peers holding anything (anyRecord); peerscope is compared with that.',
  streamSkipsExpiredAddrs:
    "go AddrStream's initial list holds every stored addr, expired but uncollected ones too; peerscope's holds the live ones. The Go program reports such addrs at the open (expiredAtOpen); on that stream each take may differ in those addrs only, and in nothing else.",
  perPeerCapTieOrder:
    "When the per-peer cap evicts among addrs of equal expiry, go picks in map order (random), peerscope the first in key order. The Go program reports such a tie with the peer's stored addrs after the op; if peerscope holds the same, the comparison goes on, else the stores differ from there and the trace is compared up to and including that op.",
  gcRemovesBarePeers:
    "peerscope's GC (default rule) removes a peer left with no live addr, keys, protocols and metadata included; go's GC deletes only expired addrs. In the defaults configuration the Go program applies the rule with go's public calls at each gc op, so the stores stay comparable; both report the peers that lost everything.",
  goNeverCollectsDowngradedAddrs:
    "go's GC looks only at its expiry heap, which a connected addr lowered by UpdateAddrs never enters (a go bug, reference §9.1): such an addr, once expired, is never collected. peerscope collects every expired addr. The Go program reports the expired addrs its GC kept (keptExpired); the stores differ from there, so the trace is compared up to and including that gc op.",
  tooManyProtocolsMessage:
    'go says "too many protocols"; peerscope says "too many protocols (limit N, limits.maxProtocols)" (code ERR_TOO_MANY_PROTOCOLS). Only that pair of messages is treated as equal.',
  privateKeyLocalOnly:
    "go stores any peer's private key (AddPrivKey); peerscope holds only the local peer's, given at open and never written. A trace names its local peer: go adds that key first, as its host does; peerscope opens with it."
} as const

export type DifferenceId = keyof typeof DIFFERENCES

const GO_TOO_MANY_PROTOCOLS = 'too many protocols'
const OUR_TOO_MANY_PROTOCOLS = /^too many protocols \(limit \d+, limits\.maxProtocols\)$/

/** Bound on the drift from go's per-sample nanosecond truncation, in ms per sample. */
const NS_IN_MS = 1e-6

type Reports = {
  staleTtl?: string[]
  capTie?: string[]
  keptExpired?: string[]
  dropped?: number[]
  accepted?: boolean
  expiredAtOpen?: string[]
  addrs?: string[]
  peers?: number[]
  anyRecord?: number[]
  all?: number[]
  live?: number[]
}

function reports(r: OpResult | undefined): Reports {
  const v = r?.result
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Reports) : {}
}

/** Maps a go result to what peerscope must report for the same op, applying only DIFFERENCES. */
export function expectedFromGo(go: OpResult): OpResult {
  const r = reports(go)
  switch (go.op) {
    case 'peersWithAddrs':
      // DIFFERENCES.peersWithAddrsFiltered
      return go.result === undefined ? go : { op: go.op, result: { live: r.live } }
    case 'peers':
      // DIFFERENCES.peersListsEveryRecord
      return r.anyRecord === undefined ? go : { op: go.op, result: r.anyRecord }
    case 'addAddrs':
    case 'setAddrs':
    case 'addrStreamOpen':
      // DIFFERENCES.goKeepsExpiredAddrTtl, perPeerCapTieOrder, streamSkipsExpiredAddrs: the Go program's
      // reports; the op itself returns nothing on either side.
      return go.error !== undefined ? go : { op: go.op, result: null }
    case 'gc':
      // DIFFERENCES.goNeverCollectsDowngradedAddrs: keptExpired is the Go program's report.
      return go.error !== undefined || r.dropped === undefined
        ? go
        : { op: go.op, result: { dropped: r.dropped } }
    case 'consumePeerRecord':
      return go.error !== undefined ? go : { op: go.op, result: { accepted: r.accepted } }
  }
  return go
}

export interface Mismatch {
  index: number
  op: string
  go: OpResult
  peerscope: OpResult | undefined
}

export interface Comparison {
  mismatch?: Mismatch
  /** Ops compared (the comparable prefix, or up to the mismatch). */
  compared: number
  /** Where the stores parted by a documented difference: the trace was compared up to and including `at`. */
  cut?: { at: number; why: DifferenceId }
}

/**
 * Compares a trace op by op. A cut ends the comparison only where go reports that the stores parted (and,
 * for a cap tie, where peerscope's stored addrs really differ from go's at that op).
 */
export function compareTrace(go: readonly OpResult[], ours: readonly OpResult[]): Comparison {
  let samples = 0
  for (let i = 0; i < go.length; i++) {
    const g = go[i] as OpResult
    const actual = ours[i]
    const mismatch = (): Comparison => ({
      mismatch: { index: i, op: g.op, go: g, peerscope: actual },
      compared: i
    })
    if (actual === undefined) return mismatch()
    if (g.op === 'recordLatency') samples++
    if (!sameResult(g, actual, samples)) return mismatch()
    const r = reports(g)
    if (r.staleTtl !== undefined) return { compared: i + 1, cut: { at: i, why: 'goKeepsExpiredAddrTtl' } }
    if (r.keptExpired !== undefined) {
      return { compared: i + 1, cut: { at: i, why: 'goNeverCollectsDowngradedAddrs' } }
    }
    if (r.capTie !== undefined && JSON.stringify(r.capTie) !== JSON.stringify(actual.state ?? [])) {
      return { compared: i + 1, cut: { at: i, why: 'perPeerCapTieOrder' } }
    }
  }
  if (ours.length !== go.length) {
    return {
      mismatch: { index: go.length, op: 'length', go: { op: 'end' }, peerscope: ours[go.length] },
      compared: go.length
    }
  }
  return { compared: go.length }
}

function sameResult(g: OpResult, actual: OpResult, samples: number): boolean {
  if (g.op === 'latency' && typeof g.result === 'number' && typeof actual.result === 'number') {
    // DIFFERENCES.latencyNanosecondTruncation
    return Math.abs(g.result - actual.result) <= samples * NS_IN_MS
  }
  if (
    g.error === GO_TOO_MANY_PROTOCOLS &&
    actual.op === g.op &&
    actual.error !== undefined &&
    OUR_TOO_MANY_PROTOCOLS.test(actual.error)
  ) {
    // DIFFERENCES.tooManyProtocolsMessage
    return true
  }
  const r = reports(g)
  if (g.op === 'gc' && r.keptExpired !== undefined && r.dropped !== undefined) {
    // DIFFERENCES.goNeverCollectsDowngradedAddrs: peerscope collected what go kept, so it may have dropped
    // more peers; every peer go dropped it dropped too.
    const ours = (actual.result as { dropped?: number[] } | null)?.dropped
    return Array.isArray(ours) && r.dropped.every((p) => ours.includes(p))
  }
  if (g.op === 'addrStreamTake' && r.expiredAtOpen !== undefined && Array.isArray(actual.result)) {
    // DIFFERENCES.streamSkipsExpiredAddrs: the take may differ in the addrs that were expired at the open.
    const expired = new Set(r.expiredAtOpen)
    const ours = new Set(actual.result as string[])
    const theirs = new Set(r.addrs ?? [])
    return (
      [...theirs].every((a) => ours.has(a) || expired.has(a)) &&
      [...ours].every((a) => theirs.has(a) || expired.has(a))
    )
  }
  return JSON.stringify(normalise(expectedFromGo(g))) === JSON.stringify(normalise(actual))
}

function normalise(r: OpResult): unknown {
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
