import { MetricsError } from '../errors.ts'
import { PROMETHEUS_CONTENT_TYPE } from './exposition.ts'

/**
 * An application's own metrics registry whose text is served with peerscope's: prom-client's `Registry` (and its
 * global `register`) fits, as does anything with `metrics()` giving Prometheus text format 0.0.4.
 */
export interface PrometheusRegistry {
  metrics(): Promise<string> | string
  /** prom-client's registries say their format here; only the Prometheus text format 0.0.4 can be merged. */
  readonly contentType?: string
}

export function validateRegistries(value: unknown): PrometheusRegistry[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) {
    throw new MetricsError(
      'ERR_INVALID_OPTIONS',
      'registries must be an array of registries, e.g. [register] from prom-client'
    )
  }
  value.forEach((registry: unknown, i) => {
    if (typeof (registry as PrometheusRegistry | null)?.metrics !== 'function') {
      throw new MetricsError(
        'ERR_INVALID_OPTIONS',
        `registries[${i}] has no metrics() method: pass a prom-client Registry or an object with metrics(): Promise<string>`
      )
    }
    const type = (registry as PrometheusRegistry).contentType
    if (type !== undefined && !type.startsWith('text/plain')) {
      throw new MetricsError(
        'ERR_INVALID_OPTIONS',
        `registries[${i}] renders ${type}; only ${PROMETHEUS_CONTENT_TYPE} can be served with ours (prom-client: new Registry(Registry.PROMETHEUS_CONTENT_TYPE))`
      )
    }
  })
  return value as PrometheusRegistry[]
}

/** The family names a Prometheus text declares (its `# TYPE` lines). */
export function declaredFamilies(text: string): Set<string> {
  const names = new Set<string>()
  let at = text.startsWith('# TYPE ') ? 0 : text.indexOf('\n# TYPE ')
  while (at >= 0) {
    const start = text.indexOf('# TYPE ', at) + 7
    const end = text.indexOf(' ', start)
    if (end < 0) break
    names.add(text.slice(start, end))
    at = text.indexOf('\n# TYPE ', end)
  }
  return names
}

/**
 * `text` without the families named in `drop` (text as our renderer writes it: HELP, TYPE, then the family's
 * samples). Used only when a family name clashes, so the common case never splits the text.
 */
export function withoutFamilies(text: string, drop: ReadonlySet<string>): string {
  const kept: string[] = []
  let skipping = false
  for (const line of text.split('\n')) {
    const header = /^# (?:HELP|TYPE) (\S+)/.exec(line)
    if (header !== null) skipping = drop.has(header[1]!)
    if (!skipping && line !== '') kept.push(line)
  }
  return kept.length === 0 ? '' : `${kept.join('\n')}\n`
}

/** A registry's text, ending with a newline so texts can be joined. */
export async function registryText(registry: PrometheusRegistry): Promise<string> {
  const text = await registry.metrics()
  return text === '' || text.endsWith('\n') ? text : `${text}\n`
}
