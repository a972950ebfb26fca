// A small description of an options object, and the check of a value against it: every option has a kind (and a
// range for numbers), objects refuse keys they do not describe (a misspelled option would otherwise be ignored).

export type Rule =
  | { kind: 'boolean' }
  | { kind: 'string'; nonEmpty?: boolean }
  | { kind: 'number'; min: number; max?: number; integer?: boolean; unit?: string }
  | { kind: 'function' }
  | { kind: 'literal'; value: string | number | boolean }
  | { kind: 'array'; items: Rule }
  | { kind: 'object'; keys: Readonly<Record<string, Rule>> }
  /** An object made elsewhere (a database, a registry), recognised by `test`. */
  | { kind: 'instance'; describe: string; test: (value: object) => boolean }
  | { kind: 'oneOf'; rules: readonly Rule[] }

/** A value that does not fit its rule: `option` is its dotted path (`http.port`), `message` says why. */
export interface RuleViolation {
  option: string
  message: string
}

function describeRule(rule: Rule): string {
  switch (rule.kind) {
    case 'boolean':
      return 'true or false'
    case 'string':
      return rule.nonEmpty === true ? 'a non-empty string' : 'a string'
    case 'number': {
      const what = rule.integer === true ? 'an integer' : 'a number'
      const range = rule.max === undefined ? `>= ${rule.min}` : `from ${rule.min} to ${rule.max}`
      return `${what} ${range}${rule.unit === undefined ? '' : ` (${rule.unit})`}`
    }
    case 'function':
      return 'a function'
    case 'literal':
      return JSON.stringify(rule.value)
    case 'array':
      return `an array of ${describeRule(rule.items).replace(/^an? /, '')}s`
    case 'object':
      return 'an options object'
    case 'instance':
      return rule.describe
    case 'oneOf':
      return rule.rules.map(describeRule).join(' or ')
  }
}

/** The value as an error message shows it: short, and typed (`the string "5"`, `-5`). */
export function shown(value: unknown): string {
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)}`
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value)
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'function' ? 'a function' : `an ${typeof value}`
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** Whether `value` has the base kind of `rule` (what `oneOf` picks a rule by before checking it in depth). */
function sameKind(rule: Rule, value: unknown): boolean {
  switch (rule.kind) {
    case 'boolean':
      return typeof value === 'boolean'
    case 'string':
      return typeof value === 'string'
    case 'number':
      return typeof value === 'number'
    case 'function':
      return typeof value === 'function'
    case 'literal':
      return value === rule.value
    case 'array':
      return Array.isArray(value)
    case 'object':
      return isPlainObject(value)
    case 'instance':
      return typeof value === 'object' && value !== null && rule.test(value)
    case 'oneOf':
      return rule.rules.some((r) => sameKind(r, value))
  }
}

/** Levenshtein distance, for "did you mean" (option names are short). */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const next = [i]
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    row = next
  }
  return row[b.length]!
}

/** The known name a misspelled key most likely meant, if one is close. */
export function closest(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase()
  let best: { name: string; d: number } | undefined
  for (const name of known) {
    const d = name.toLowerCase() === lower ? 0 : distance(lower, name.toLowerCase())
    if (d <= Math.max(1, Math.floor(name.length / 4)) && (best === undefined || d < best.d))
      best = { name, d }
  }
  return best?.name
}

/** The first way `value` breaks `rule`, or undefined when it fits. `undefined` always fits: options are optional. */
export function check(rule: Rule, value: unknown, path: string): RuleViolation | undefined {
  if (value === undefined) return undefined
  const fail = (message: string): RuleViolation => ({ option: path, message })
  if (rule.kind === 'oneOf') {
    const fits = rule.rules.find((r) => sameKind(r, value))
    return fits === undefined
      ? fail(`${path} must be ${describeRule(rule)}, got ${shown(value)}`)
      : check(fits, value, path)
  }
  if (!sameKind(rule, value)) return fail(`${path} must be ${describeRule(rule)}, got ${shown(value)}`)
  switch (rule.kind) {
    case 'string':
      return rule.nonEmpty === true && value === '' ? fail(`${path} must not be empty`) : undefined
    case 'number': {
      const n = value as number
      const ok =
        Number.isFinite(n) &&
        n >= rule.min &&
        (rule.max === undefined || n <= rule.max) &&
        (rule.integer !== true || Number.isInteger(n))
      return ok ? undefined : fail(`${path} must be ${describeRule(rule)}, got ${n}`)
    }
    case 'array': {
      const items = value as unknown[]
      for (let i = 0; i < items.length; i++) {
        const broken = check(rule.items, items[i], `${path}[${i}]`)
        if (broken !== undefined) return broken
      }
      return undefined
    }
    case 'object': {
      const known = Object.keys(rule.keys)
      for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
        const keyRule = rule.keys[key]
        const where = path === '' ? key : `${path}.${key}`
        if (keyRule === undefined) {
          const meant = closest(key, known)
          return {
            option: where,
            message:
              `unknown option ${where}` +
              (meant === undefined
                ? `; the options here are ${known.join(', ')}`
                : ` (did you mean ${path === '' ? meant : `${path}.${meant}`}?)`)
          }
        }
        const broken = check(keyRule, inner, where)
        if (broken !== undefined) return broken
      }
      return undefined
    }
    default:
      return undefined
  }
}
