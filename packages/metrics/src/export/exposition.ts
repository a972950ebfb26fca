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

/** Replaces characters Prometheus does not allow in metric and label names. */
export function sanitizeName(name: string): string {
  if (NAME.test(name)) return name
  const cleaned = name.replace(/[^a-zA-Z0-9_:]/g, '_')
  return /^[0-9]/.test(cleaned) ? `_${cleaned}` : cleaned
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}

function escapeLabelValue(text: string): string {
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
