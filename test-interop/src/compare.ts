import { type Comparison, compareTrace, type DifferenceId } from './differences.ts'
import { runGoPeerstoreTracesAsync } from './go-binary.ts'
import { playPeerscope } from './play-peerscope.ts'
import { configure, type OpResult, type PeerstoreTrace, type StoreConfig } from './trace.ts'

export interface TraceOutcome {
  comparison: Comparison
  go: OpResult[]
  ours: OpResult[]
  trace: PeerstoreTrace
}

/** Traces peerscope plays at once. */
const PLAYERS = 4

/** Plays traces on go (one process) and on peerscope in `config`, and compares each op by op. */
export async function compareInConfig(
  traces: readonly PeerstoreTrace[],
  config: StoreConfig,
  /** `memoryExceptEvery: n`: every n-th trace on LevelDB, the others on memory-level; unset: all on LevelDB. */
  options: { memoryExceptEvery?: number } = {}
): Promise<TraceOutcome[]> {
  const configured = traces.map((t) => configure(t, config))
  // go in its own process while peerscope plays; peerscope plays a few traces at a time (each on its own
  // LevelDB, so they share nothing but the disk).
  const goRun = runGoPeerstoreTracesAsync(configured)
  const ours: OpResult[][] = new Array(configured.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < configured.length) {
      const i = next++
      ours[i] = await playPeerscope(configured[i] as PeerstoreTrace, {
        memory: options.memoryExceptEvery !== undefined && i % options.memoryExceptEvery !== 0
      })
    }
  }
  await Promise.all(Array.from({ length: PLAYERS }, worker))
  const go = (await goRun) as OpResult[][]
  if (go.length !== configured.length)
    throw new Error(`go answered ${go.length} of ${configured.length} traces`)
  return configured.map((trace, i) => {
    const g = go[i] as OpResult[]
    const o = ours[i] as OpResult[]
    return { comparison: compareTrace(g, o), go: g, ours: o, trace }
  })
}

/** Counts for a run's closing line: traces, ops compared, cuts by difference. */
export function summarise(outcomes: readonly TraceOutcome[]): {
  traces: number
  ops: number
  compared: number
  cuts: Partial<Record<DifferenceId, number>>
} {
  const cuts: Partial<Record<DifferenceId, number>> = {}
  let ops = 0
  let compared = 0
  for (const o of outcomes) {
    ops += o.go.length
    compared += o.comparison.compared
    const why = o.comparison.cut?.why
    if (why !== undefined) cuts[why] = (cuts[why] ?? 0) + 1
  }
  return { traces: outcomes.length, ops, compared, cuts }
}

/** A failure message that shows the ops up to the mismatch (envelopes left out). */
export function describeMismatch(o: TraceOutcome, label: string): string {
  const m = o.comparison.mismatch
  if (m === undefined) return ''
  // Long addr lists (the cap batches) shortened to keep the message readable.
  const ops = o.trace.ops.slice(0, m.index + 1).map((op) => {
    const addrs =
      'addrs' in op && op.addrs.length > 6
        ? [...op.addrs.slice(0, 3), `…${op.addrs.length - 3} more`]
        : undefined
    return { ...op, envelope: undefined, ...(addrs === undefined ? {} : { addrs }) }
  })
  const { keys: _keys, ops: _ops, ...config } = o.trace
  return `${label}, op ${m.index} (${m.op}): go ${JSON.stringify(m.go)} vs peerscope ${JSON.stringify(m.peerscope)}\ntrace options: ${JSON.stringify(config)}\nops: ${JSON.stringify(ops)}`
}
