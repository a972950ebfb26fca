// The frame of one benchmark run: what it was set to and how busy the machine was, printed when it starts and ends,
// and its figures as one JSON line at the very end (`pnpm bench` collects those lines). The machine is shared: a
// figure read without the load around it cannot be told from noise.
import { availableParallelism, loadavg } from 'node:os'

/** The 1, 5 and 15 minute load averages, two decimals. */
export type LoadAverage = [number, number, number]

export function loadAverage(): LoadAverage {
  const [one = 0, five = 0, fifteen = 0] = loadavg()
  return [one, five, fifteen].map((n) => Math.round(n * 100) / 100) as LoadAverage
}

/** Where and when a run happened, as its JSON line records it. */
export interface RunConditions {
  startedAt: string
  seconds: number
  node: string
  cpus: number
  loadAverageStart: LoadAverage
  loadAverageEnd: LoadAverage
}

export interface BenchRun {
  readonly name: string
  readonly config: Readonly<Record<string, unknown>>
  /**
   * Prints the load average at the end, then the run's one JSON line: `{"bench": name, ...figures, config,
   * conditions}`. Call it last.
   */
  finish(figures: Readonly<Record<string, unknown>>): RunConditions
}

export interface StartOptions {
  /** Where the lines go; default `console.log`. */
  log?: (line: string) => void
}

function formatLoad(load: LoadAverage): string {
  return `${load.map((n) => n.toFixed(2)).join(' / ')} (1 / 5 / 15 min)`
}

function formatValue(value: unknown): string {
  if (Array.isArray(value)) return value.join(',')
  if (value === undefined) return '-'
  return typeof value === 'string' ? value : JSON.stringify(value)
}

/** Prints the run's start line (time, Node, CPUs, load average) and its settings; returns what ends it. */
export function startBench(
  name: string,
  config: Readonly<Record<string, unknown>> = {},
  options: StartOptions = {}
): BenchRun {
  const log = options.log ?? ((line: string) => console.log(line))
  const startedAt = new Date()
  const started = performance.now()
  const loadAverageStart = loadAverage()
  const cpus = availableParallelism()
  log(
    `[${name}] start ${startedAt.toISOString()}; node ${process.version}; ${cpus} CPUs; ` +
      `load average ${formatLoad(loadAverageStart)}`
  )
  const settings = Object.entries(config)
  if (settings.length > 0) {
    log(`[${name}] config: ${settings.map(([key, value]) => `${key}=${formatValue(value)}`).join(' ')}`)
  }
  let finished = false
  return {
    name,
    config,
    finish(figures) {
      if (finished) throw new Error(`[${name}] finish() called twice`)
      finished = true
      const conditions: RunConditions = {
        startedAt: startedAt.toISOString(),
        seconds: Math.round((performance.now() - started) / 100) / 10,
        node: process.version,
        cpus,
        loadAverageStart,
        loadAverageEnd: loadAverage()
      }
      log(
        `[${name}] end after ${conditions.seconds} s; load average ${formatLoad(conditions.loadAverageEnd)}`
      )
      log(JSON.stringify({ bench: name, ...figures, config, conditions }))
      return conditions
    }
  }
}
