// How long a fresh pair of node processes takes to reach its steady transfer rate, which sets the transfer
// benchmark's untimed warm-up: a timed run that starts before the plateau measures how fast each variant's code
// warms up (JIT tiers, the young generation growing) as much as what it costs once warm.
// Each round starts a fresh pair per variant and sends consecutive timed segments of 64 KiB messages.
// Settings: config.ts. Recorded runs: ../RESULTS.md.
import { median, readConfig, round, startBench } from '@peerscope/bench-kit'
import { bulkMessages, printable, warmUpCurveConfig } from './config.ts'
import { runPair } from './node-pair.ts'
import type { Workload } from './types.ts'
import type { Variant } from './variants.ts'

const MiB = 1024 * 1024
const config = readConfig(warmUpCurveConfig)
const bench = startBench('warm-up-curve', printable(config))
const { variants, segmentMiB } = config

const segments: Workload[] = Array.from({ length: config.segments }, (_, i) => ({
  name: `${(i + 1) * segmentMiB} MiB`,
  messageSize: 64 * 1024,
  messages: bulkMessages(segmentMiB)
}))

const curves = new Map<string, number[][]>() // variant → one curve (MiB/s per segment) per round
for (let r = 0; r < config.rounds; r++) {
  for (const variant of variants.map((_, i) => variants[(i + r) % variants.length] as Variant)) {
    const { results } = await runPair({
      kind: variant.kind,
      warmup: [],
      workloads: segments,
      scrapesPerSecond: variant.scrapes ? config.scrapesPerSecond : 0
    })
    curves.set(variant.name, [
      ...(curves.get(variant.name) ?? []),
      results.map((result) => result.bytes / MiB / (result.ms / 1000))
    ])
  }
}

const table: Record<string, Record<string, number>> = {}
const summary: Record<string, { plateau: number; warmAfterMiB: number | undefined; curve: number[] }> = {}
for (const { name } of variants) {
  const rounds = curves.get(name) ?? []
  const curve = segments.map((_, i) => median(rounds.map((c) => c[i] as number)))
  // The plateau is the median of the last quarter of the segments. "Warm" is the first segment from which the
  // median of four segments reaches 95% of it (one fast segment alone does not count: rates move 10-20%).
  const plateau = median(curve.slice(Math.floor((config.segments * 3) / 4)))
  const warmIndex = curve.findIndex((_, i) => median(curve.slice(i, i + 4)) >= 0.95 * plateau)
  summary[name] = {
    plateau: round(plateau, 1),
    warmAfterMiB: warmIndex < 0 ? undefined : warmIndex * segmentMiB,
    curve: curve.map((n) => round(n, 1))
  }
}
// One row per segment (MiB sent by its end), one column per variant.
for (const [i, segment] of segments.entries()) {
  table[segment.name] = Object.fromEntries(
    variants.map(({ name }) => [name, summary[name]?.curve[i] as number])
  )
}

const workload =
  `fresh sender/receiver processes (tcp+noise+yamux on 127.0.0.1), ${config.segments} consecutive timed segments of ` +
  `${segmentMiB} MiB in 64 KiB messages, no warm-up; ${config.rounds} rounds, variants alternating; median MiB/s per segment`
console.log(`warm-up curve: ${workload}`)
console.table(table)
for (const [name, s] of Object.entries(summary)) {
  console.log(
    `${name}: plateau ${s.plateau} MiB/s (median of the last quarter); at 95% of it (median of the next 4 segments) after ${s.warmAfterMiB ?? '-'} MiB`
  )
}
bench.finish({ workload, results: summary })
