/**
 * Prometheus text exposition format 0.0.4 (`text/plain; version=0.0.4`): one family per metric name, HELP and
 * TYPE lines, then samples. Only the escaping rules of the format are implemented here; families come from the
 * registry and the bandwidth counter.
 */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

export type FamilyType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped'

export interface Sample {
  /** Suffix added to the family name (`_bucket`, `_sum`, `_count`) or ''. */
  suffix?: string
  labels?: Record<string, string>
  value: number
}

export interface Family {
  name: string
  help: string
  type: FamilyType
  samples: Sample[]
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/

/** Names already checked: the same few hundred family and label names come back at every scrape. */
const checkedNames = new Map<string, string>()
const MAX_CHECKED_NAMES = 10_000

/** Replaces characters Prometheus does not allow in metric and label names. */
export function sanitizeName(name: string): string {
  const known = checkedNames.get(name)
  if (known !== undefined) return known
  let cleaned = name
  if (!NAME.test(name)) {
    cleaned = name.replace(/[^a-zA-Z0-9_:]/g, '_')
    if (/^[0-9]/.test(cleaned)) cleaned = `_${cleaned}`
  }
  if (checkedNames.size >= MAX_CHECKED_NAMES) checkedNames.clear()
  checkedNames.set(name, cleaned)
  return cleaned
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}

const NEEDS_ESCAPE = /[\\\n"]/

function escapeLabelValue(text: string): string {
  // Most values (peer ids, protocol ids, directions) need nothing: one test instead of three replacements.
  if (!NEEDS_ESCAPE.test(text)) return text
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Number.POSITIVE_INFINITY) return '+Inf'
  if (value === Number.NEGATIVE_INFINITY) return '-Inf'
  return String(value)
}

export function renderFamilies(families: Iterable<Family>): string {
  const out: string[] = []
  for (const family of families) {
    const name = sanitizeName(family.name)
    out.push(`# HELP ${name} ${escapeHelp(family.help)}`)
    out.push(`# TYPE ${name} ${family.type}`)
    for (const sample of family.samples) {
      const labels = sample.labels
      let labelText = ''
      if (labels !== undefined) {
        const parts: string[] = []
        for (const key in labels) parts.push(`${sanitizeName(key)}="${escapeLabelValue(labels[key] ?? '')}"`)
        if (parts.length > 0) labelText = `{${parts.join(',')}}`
      }
      out.push(`${name}${sample.suffix ?? ''}${labelText} ${formatValue(sample.value)}`)
    }
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`
}
