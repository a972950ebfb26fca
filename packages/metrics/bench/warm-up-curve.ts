// How long a fresh pair of node processes takes to reach its steady transfer rate, which sets the transfer
// benchmark's untimed warm-up: a timed run that starts before the plateau measures how fast each variant's code
// warms up (JIT tiers, the young generation growing) as much as what it costs once warm.
// Each round starts a fresh pair per variant and sends consecutive timed segments of 64 KiB messages.
import { median } from './median.ts'
import { runPair } from './node-pair.ts'
import type { MetricsKind, Workload } from './transfer-node.ts'

const MiB = 1024 * 1024
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4)
const SEGMENT_MIB = Number(process.env.BENCH_SEGMENT_MIB ?? 32)
const SEGMENTS = Number(process.env.BENCH_SEGMENTS ?? 24)
const kinds = (process.env.BENCH_VARIANTS ?? 'none,ours').split(',') as MetricsKind[]

const segments: Workload[] = Array.from({ length: SEGMENTS }, (_, i) => ({
  name: `${(i + 1) * SEGMENT_MIB} MiB`,
  messageSize: 64 * 1024,
  messages: (SEGMENT_MIB * MiB) / (64 * 1024)
}))

const curves = new Map<MetricsKind, number[][]>() // kind → one curve (MiB/s per segment) per round
const started = performance.now()
for (let round = 0; round < ROUNDS; round++) {
  for (const kind of kinds.map((_, i) => kinds[(i + round) % kinds.length] as MetricsKind)) {
    const { results } = await runPair({ kind, warmup: [], workloads: segments, scrapesPerSecond: 0 })
    curves.set(kind, [...(curves.get(kind) ?? []), results.map((r) => r.bytes / MiB / (r.ms / 1000))])
  }
}

const round1 = (n: number): number => Math.round(n * 10) / 10
const table: Record<string, Record<string, number>> = {}
const summary: Record<string, { plateau: number; warmAfterMiB: number | undefined; curve: number[] }> = {}
for (const kind of kinds) {
  const rounds = curves.get(kind) ?? []
  const curve = segments.map((_, i) => median(rounds.map((c) => c[i] as number)))
  // The plateau is the median of the last quarter of the segments. "Warm" is the first segment from which the
  // median of four segments reaches 95% of it (one fast segment alone does not count: rates move 10-20%).
  const plateau = median(curve.slice(Math.floor((SEGMENTS * 3) / 4)))
  const warmIndex = curve.findIndex((_, i) => median(curve.slice(i, i + 4)) >= 0.95 * plateau)
  summary[kind] = {
    plateau: round1(plateau),
    warmAfterMiB: warmIndex < 0 ? undefined : warmIndex * SEGMENT_MIB,
    curve: curve.map(round1)
  }
}
// One row per segment (MiB sent by its end), one column per variant.
for (const [i, segment] of segments.entries()) {
  table[segment.name] = Object.fromEntries(kinds.map((kind) => [kind, summary[kind]?.curve[i] as number]))
}

const workload =
  `fresh sender/receiver processes (tcp+noise+yamux on 127.0.0.1), ${SEGMENTS} consecutive timed segments of ` +
  `${SEGMENT_MIB} MiB in 64 KiB messages, no warm-up; ${ROUNDS} rounds, variants alternating; median MiB/s per segment`
console.log(`warm-up curve: ${workload}; ${((performance.now() - started) / 1000).toFixed(0)} s`)
console.table(table)
for (const [kind, s] of Object.entries(summary)) {
  console.log(
    `${kind}: plateau ${s.plateau} MiB/s (median of the last quarter); at 95% of it (median of the next 4 segments) after ${s.warmAfterMiB ?? '-'} MiB`
  )
}
console.log(JSON.stringify({ bench: 'warm-up-curve', workload, results: summary }))
