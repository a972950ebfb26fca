// The variants a transfer compares: each is the metrics a node pair runs with, and whether the sender is scraped
// while it sends.
import type { MetricsKind } from './types.ts'

export interface Variant {
  name: string
  kind: MetricsKind
  /** Scraped (the Prometheus text, in the sender's process) while the timed transfers run. */
  scrapes: boolean
}

/** What a default run compares: no metrics (the baseline), ours and `@libp2p/prometheus-metrics`, with and without scrapes. */
export const MAIN_VARIANTS: readonly Variant[] = [
  { name: 'none', kind: 'none', scrapes: false },
  { name: 'ours', kind: 'ours', scrapes: false },
  { name: 'ours+scrapes', kind: 'ours', scrapes: true },
  { name: 'prometheus-metrics', kind: 'prometheus-metrics', scrapes: false },
  { name: 'prometheus-metrics+scrapes', kind: 'prometheus-metrics', scrapes: true }
]

/**
 * Controls, run only when named in BENCH_VARIANTS: each leaves out one part of what ours does, to tell which part
 * costs the transfer (control-metrics.ts says what each keeps). `-lean`: without Node process metrics.
 */
export const CONTROL_VARIANTS: readonly Variant[] = [
  { name: 'inert', kind: 'inert', scrapes: false },
  { name: 'hooks', kind: 'hooks', scrapes: false },
  { name: 'counting', kind: 'counting', scrapes: false },
  { name: 'quiet', kind: 'quiet', scrapes: false },
  { name: 'prometheus-metrics-lean', kind: 'prometheus-metrics-lean', scrapes: false },
  { name: 'ours-lean', kind: 'ours-lean', scrapes: false }
]

export const ALL_VARIANTS: readonly Variant[] = [...MAIN_VARIANTS, ...CONTROL_VARIANTS]

export const VARIANT_NAMES: readonly string[] = ALL_VARIANTS.map((v) => v.name)

export function variantsNamed(names: readonly string[]): Variant[] {
  return names.map((name) => {
    const variant = ALL_VARIANTS.find((v) => v.name === name)
    if (variant === undefined) throw new TypeError(`no transfer variant named ${name}`)
    return variant
  })
}
