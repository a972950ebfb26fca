import type {
  CalculateMetric,
  Counter,
  CounterGroup,
  Histogram,
  HistogramGroup,
  HistogramOptions,
  Metric,
  MetricGroup,
  MetricOptions,
  StopTimer,
  Summary,
  SummaryGroup,
  SummaryOptions
} from '@libp2p/interface'
import type { Family, FamilyType, Sample } from '../export/exposition.ts'

/** prom-client's default buckets (seconds), which libp2p's own histograms assume. */
export const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
export const DEFAULT_PERCENTILES = [0.01, 0.05, 0.5, 0.9, 0.95, 0.99, 0.999]
/** A summary keeps this many latest observations for its quantiles. */
export const SUMMARY_WINDOW = 1024

/** What a registered metric is, for the exporters that map it to their own kinds (the OpenTelemetry bridge). */
export interface RegisteredMetric {
  readonly name: string
  readonly help: string
  readonly type: FamilyType
  /** The label of a group's keys (`key` unless the registration named one). */
  readonly label: string
  /** Whether its values come from a `calculate` function at each collection. */
  readonly calculated: boolean
  /** Histogram bucket bounds (ascending); absent for other types. */
  readonly buckets?: readonly number[]
  collect(): Promise<Family>
  /**
   * Histograms and summaries that are observed by libp2p: calls `listener` with every value observed from now on
   * (`key` is the group key, '' when there is none). Returns the function that stops it.
   */
  onObserve?(listener: ObserveListener): () => void
}

export type ObserveListener = (key: string, value: number) => void

/** Told of every metric registered (those already there first) and of every one removed. */
export interface RegistryListener {
  added(metric: RegisteredMetric): void
  removed(metric: RegisteredMetric): void
}

type AnyOptions = MetricOptions & { calculate?: CalculateMetric<unknown> }

function isCalculated(
  options: AnyOptions | undefined
): options is AnyOptions & { calculate: CalculateMetric<unknown> } {
  return typeof options?.calculate === 'function'
}

function startTimer(record: (seconds: number) => void): StopTimer {
  // performance.now(), not process.hrtime: the same in Node and in browsers (sub-millisecond either way).
  const start = performance.now()
  return () => record((performance.now() - start) / 1000)
}

/** A number per label value; the single-value metrics use the empty label. */
class Values {
  readonly values = new Map<string, number>()
  add(key: string, delta: number): void {
    this.values.set(key, (this.values.get(key) ?? 0) + delta)
  }
  set(key: string, value: number): void {
    this.values.set(key, value)
  }
}

function numberOf(value: number | true | undefined): number {
  return value === true ? 1 : (value ?? 0)
}

class GaugeMetric implements Metric, MetricGroup, Counter, CounterGroup, RegisteredMetric {
  readonly name: string
  readonly help: string
  readonly label: string
  readonly type: FamilyType
  readonly calculated = false
  readonly #data = new Values()

  constructor(name: string, options: MetricOptions, type: FamilyType) {
    this.name = name
    this.help = options.help ?? name
    this.label = options.label ?? 'key'
    this.type = type
  }

  update(value: number | Partial<Record<string, number>>): void {
    if (typeof value === 'number') this.#data.set('', value)
    else for (const [k, v] of Object.entries(value)) if (v !== undefined) this.#data.set(k, v)
  }

  increment(value?: number | Partial<Record<string, number | true>>): void {
    if (typeof value === 'object') for (const [k, v] of Object.entries(value)) this.#data.add(k, numberOf(v))
    else this.#data.add('', value ?? 1)
  }

  decrement(value?: number | Partial<Record<string, number | true>>): void {
    if (typeof value === 'object') for (const [k, v] of Object.entries(value)) this.#data.add(k, -numberOf(v))
    else this.#data.add('', -(value ?? 1))
  }

  reset(): void {
    this.#data.values.clear()
  }

  timer(key?: string): StopTimer {
    return startTimer((seconds) => this.#data.set(key ?? '', seconds))
  }

  async collect(): Promise<Family> {
    const samples: Sample[] = []
    for (const [key, value] of this.#data.values) {
      samples.push(key === '' ? { value } : { labels: { [this.label]: key }, value })
    }
    return { name: this.name, help: this.help, type: this.type, samples }
  }
}

/**
 * What histograms and summaries share: one series per label value, `observe` by value or by record, timers,
 * reset. Subclasses say how a series starts, takes a value and turns into samples.
 */
abstract class ObservedMetric<S extends { sum: number; count: number }> implements RegisteredMetric {
  readonly name: string
  readonly help: string
  readonly label: string
  readonly type: FamilyType
  readonly calculated = false
  readonly #series = new Map<string, S>()
  readonly #listeners = new Set<ObserveListener>()

  constructor(name: string, options: MetricOptions, type: FamilyType) {
    this.name = name
    this.help = options.help ?? name
    this.label = options.label ?? 'key'
    this.type = type
  }

  onObserve(listener: ObserveListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  protected abstract newSeries(): S
  protected abstract record(series: S, value: number): void
  protected abstract samples(labels: Record<string, string>, series: S): Sample[]

  observe(value: number | Partial<Record<string, number>>): void {
    if (typeof value === 'number') this.#observe('', value)
    else for (const [k, v] of Object.entries(value)) if (v !== undefined) this.#observe(k, v)
  }

  #observe(key: string, value: number): void {
    const series = this.#series.get(key) ?? this.newSeries()
    this.#series.set(key, series)
    this.record(series, value)
    series.sum += value
    series.count++
    for (const listener of this.#listeners) listener(key, value)
  }

  reset(): void {
    this.#series.clear()
  }

  timer(key?: string): StopTimer {
    return startTimer((seconds) => this.#observe(key ?? '', seconds))
  }

  async collect(): Promise<Family> {
    const samples: Sample[] = []
    for (const [key, series] of this.#series) {
      const labels = key === '' ? {} : { [this.label]: key }
      samples.push(...this.samples(labels, series))
      samples.push({ suffix: '_sum', labels, value: series.sum })
      samples.push({ suffix: '_count', labels, value: series.count })
    }
    return { name: this.name, help: this.help, type: this.type, samples }
  }
}

class HistogramMetric
  extends ObservedMetric<{ counts: number[]; sum: number; count: number }>
  implements Histogram, HistogramGroup
{
  readonly buckets: readonly number[]

  constructor(name: string, options: HistogramOptions) {
    super(name, options, 'histogram')
    this.buckets = [...(options.buckets ?? DEFAULT_BUCKETS)].sort((a, b) => a - b)
  }

  protected newSeries() {
    return { counts: this.buckets.map(() => 0), sum: 0, count: 0 }
  }

  protected record(series: { counts: number[] }, value: number): void {
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) series.counts[i]!++
  }

  protected samples(labels: Record<string, string>, series: { counts: number[]; count: number }): Sample[] {
    const out: Sample[] = this.buckets.map((le, i) => ({
      suffix: '_bucket',
      labels: { ...labels, le: String(le) },
      value: series.counts[i]!
    }))
    out.push({ suffix: '_bucket', labels: { ...labels, le: '+Inf' }, value: series.count })
    return out
  }
}

class SummaryMetric
  extends ObservedMetric<{ window: number[]; sum: number; count: number }>
  implements Summary, SummaryGroup
{
  readonly #percentiles: number[]

  constructor(name: string, options: SummaryOptions) {
    super(name, options, 'summary')
    this.#percentiles = options.percentiles ?? DEFAULT_PERCENTILES
  }

  protected newSeries() {
    return { window: [], sum: 0, count: 0 }
  }

  protected record(series: { window: number[] }, value: number): void {
    series.window.push(value)
    if (series.window.length > SUMMARY_WINDOW) series.window.shift()
  }

  protected samples(labels: Record<string, string>, series: { window: number[] }): Sample[] {
    const sorted = [...series.window].sort((a, b) => a - b)
    return this.#percentiles.map((q) => ({
      labels: { ...labels, quantile: String(q) },
      value:
        sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
    }))
  }
}

/** A `calculate` metric: its value (or values, for a group) is asked for at each scrape. */
class CalculatedMetric implements RegisteredMetric {
  readonly name: string
  readonly help: string
  readonly label: string
  readonly type: FamilyType
  readonly calculated = true
  readonly #calculate: CalculateMetric<unknown>

  constructor(name: string, options: AnyOptions & { calculate: CalculateMetric<unknown> }, type: FamilyType) {
    this.name = name
    this.help = options.help ?? name
    this.label = options.label ?? 'key'
    this.type = type
    this.#calculate = options.calculate
  }

  async collect(): Promise<Family> {
    const family: Family = { name: this.name, help: this.help, type: this.type, samples: [] }
    let result: unknown
    try {
      result = await this.#calculate()
    } catch {
      return family // one failing metric must not break the scrape
    }
    if (typeof result === 'number') family.samples.push({ value: result })
    else if (result !== null && typeof result === 'object') {
      for (const [k, v] of Object.entries(result)) {
        if (typeof v === 'number') family.samples.push({ labels: { [this.label]: k }, value: v })
      }
    }
    return family
  }
}

/** A calculated histogram or summary: observed with the calculated value at each collection. */
function calculatedObserved(
  metric: HistogramMetric | SummaryMetric,
  calculate: CalculateMetric<unknown>
): RegisteredMetric {
  return {
    name: metric.name,
    help: metric.help,
    type: metric.type,
    label: metric.label,
    calculated: true,
    ...(metric instanceof HistogramMetric ? { buckets: metric.buckets } : {}),
    collect: async () => {
      const value = await Promise.resolve()
        .then(calculate)
        .catch(() => undefined)
      if (typeof value === 'number') metric.observe(value)
      return metric.collect()
    }
  }
}

/**
 * libp2p's own metrics (`register*`): every variant works, so nothing libp2p or its services report is lost.
 * A name registered twice returns the first metric, as prom-client-backed implementations do.
 */
export class MetricRegistry {
  readonly #metrics = new Map<string, RegisteredMetric>()
  readonly #listeners = new Set<RegistryListener>()

  #register<T extends RegisteredMetric>(name: string, make: () => T): T {
    const existing = this.#metrics.get(name)
    if (existing !== undefined) return existing as T
    const metric = make()
    this.#metrics.set(name, metric)
    for (const listener of this.#listeners) listener.added(metric)
    return metric
  }

  metric(name: string, options: AnyOptions = {}, type: FamilyType = 'gauge'): GaugeMetric | undefined {
    if (isCalculated(options)) {
      this.#register(name, () => new CalculatedMetric(name, options, type))
      return undefined
    }
    return this.#register(name, () => new GaugeMetric(name, options, type))
  }

  histogram(name: string, options: HistogramOptions & AnyOptions = {}): HistogramMetric | undefined {
    if (isCalculated(options)) {
      this.#register(name, () => calculatedObserved(new HistogramMetric(name, options), options.calculate))
      return undefined
    }
    return this.#register(name, () => new HistogramMetric(name, options))
  }

  summary(name: string, options: SummaryOptions & AnyOptions = {}): SummaryMetric | undefined {
    if (isCalculated(options)) {
      this.#register(name, () => calculatedObserved(new SummaryMetric(name, options), options.calculate))
      return undefined
    }
    return this.#register(name, () => new SummaryMetric(name, options))
  }

  /** Stops exporting a metric; whoever still holds it may update it, unseen. */
  remove(name: string): boolean {
    const metric = this.#metrics.get(name)
    if (metric === undefined) return false
    this.#metrics.delete(name)
    for (const listener of this.#listeners) listener.removed(metric)
    return true
  }

  /** Tells `listener` of every metric registered so far, then of each one added or removed. */
  subscribe(listener: RegistryListener): () => void {
    this.#listeners.add(listener)
    for (const metric of this.#metrics.values()) listener.added(metric)
    return () => this.#listeners.delete(listener)
  }

  get size(): number {
    return this.#metrics.size
  }

  names(): string[] {
    return [...this.#metrics.keys()]
  }

  async families(): Promise<Family[]> {
    return Promise.all([...this.#metrics.values()].map((m) => m.collect()))
  }
}
