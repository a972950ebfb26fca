// A benchmark's settings come from environment variables (BENCH_ROUNDS=2 …) or its own command-line flags. Each is
// read and checked here, before any work starts: a typo must stop the run at once, not surface as NaN rounds or an
// unknown variant in a child process an hour in.

export type BenchConfigErrorCode = 'ERR_BENCH_CONFIG'

/** A setting that is not one of the values the benchmark accepts; `setting` names it (e.g. `BENCH_ROUNDS`). */
export class BenchConfigError extends Error {
  readonly code: BenchConfigErrorCode = 'ERR_BENCH_CONFIG'
  readonly setting: string

  constructor(setting: string, message: string) {
    super(message)
    this.name = 'BenchConfigError'
    this.setting = setting
  }
}

type Env = Readonly<Record<string, string | undefined>>

export interface IntegerRange {
  /** Default 0. */
  min?: number
  /** Default `Number.MAX_SAFE_INTEGER`. */
  max?: number
}

/** An empty value counts as unset, so `BENCH_ROUNDS= node …` runs with the default. */
function given(raw: string | undefined): string | undefined {
  const trimmed = raw?.trim()
  return trimmed === undefined || trimmed === '' ? undefined : trimmed
}

/**
 * A whole number within `range`, from a raw setting value (an environment variable or a flag); `fallback` when it is
 * unset. `1_000` and `1e3` are not accepted: digits only, so what was typed is what runs.
 */
export function parseInteger(
  setting: string,
  raw: string | undefined,
  fallback: number,
  range: IntegerRange = {}
): number {
  const min = range.min ?? 0
  const max = range.max ?? Number.MAX_SAFE_INTEGER
  const text = given(raw)
  if (text === undefined) return fallback
  const value = /^-?\d+$/.test(text) ? Number(text) : Number.NaN
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const bounds = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `from ${min} to ${max}`
    throw new BenchConfigError(
      setting,
      `${setting} must be a whole number ${bounds}, got ${JSON.stringify(raw)}; ` +
        `${setting.startsWith('-') ? 'leave it out' : 'unset it'} for the default (${fallback})`
    )
  }
  return value
}

/** `parseInteger` of the environment variable `name`. */
export function envInteger(
  name: string,
  fallback: number,
  range: IntegerRange = {},
  env: Env = process.env
): number {
  return parseInteger(name, env[name], fallback, range)
}

/**
 * One of `choices` (raw value -> what it means), from the environment variable `name`; `fallback` when unset.
 */
export function envChoice<T>(
  name: string,
  choices: Readonly<Record<string, T>>,
  fallback: T,
  env: Env = process.env
): T {
  const text = given(env[name])
  if (text === undefined) return fallback
  if (!Object.hasOwn(choices, text)) {
    throw new BenchConfigError(
      name,
      `${name} must be one of ${Object.keys(choices).join(', ')}, got ${JSON.stringify(env[name])}; unset it for the default`
    )
  }
  return choices[text] as T
}

/**
 * A comma-separated list of names, each one of `allowed`, from the environment variable `name`; undefined when unset.
 * Repeats are dropped and the order kept.
 */
export function envList<T extends string>(
  name: string,
  allowed: readonly T[],
  env: Env = process.env
): T[] | undefined {
  const text = given(env[name])
  if (text === undefined) return undefined
  const items = text.split(',').map((item) => item.trim())
  const unknown = items.filter((item) => !(allowed as readonly string[]).includes(item))
  if (unknown.length > 0) {
    throw new BenchConfigError(
      name,
      `${name} names ${unknown.map((u) => JSON.stringify(u)).join(', ')}, not one of ${allowed.join(', ')}`
    )
  }
  return [...new Set(items as T[])]
}

/**
 * Runs `read` (a benchmark's settings); a `BenchConfigError` ends the process with its message and exit code 2, as a
 * command-line tool does, instead of a stack trace. Any other error is thrown on.
 */
export function readConfig<T>(read: () => T): T {
  try {
    return read()
  } catch (err) {
    if (!(err instanceof BenchConfigError)) throw err
    console.error(`${err.message} (${err.code})`)
    process.exit(2)
  }
}
