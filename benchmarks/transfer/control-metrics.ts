// Controls for the transfer harness (variants.ts), to split what metrics cost a transfer into its parts:
//   inert: a js-libp2p `Metrics` that keeps nothing; libp2p and its modules still register their own metrics and
//          update them through it (what turning metrics on costs before anyone counts a byte);
//   hooks: inert, plus the same `send`/`dispatchEvent` wrappers as ours on every stream and connection, with
//          callbacks that do nothing (what wrapping costs, without counting).
//   counting: ours, but libp2p's own metrics go to the inert registry (ours - counting = our registry's share).
//   quiet: ours with the `hooks` wrappers in place of its counting ones: everything ours sets up (registry, the
//          counter and its timers, the connection listener) but nothing counted (ours - quiet = the counting).
// `quiet` minus `hooks` is then what ours sets up; `ours` minus `quiet` the counting itself.
import type { Metrics, MultiaddrConnection, Stream } from '@libp2p/interface'
// Not public API: a control must wrap streams with the very function ours uses, or `hooks` and `quiet` would measure
// a look-alike. This harness is a white-box benchmark of @peerscope/metrics, so it reaches into its source.
import { countStream } from '../../packages/metrics/src/libp2p/count-stream.ts'

const nothing = (): void => {}

/** One object answers every metric method libp2p calls (update, increment, observe, timer, ...). */
const inertMetric = {
  update: nothing,
  increment: nothing,
  decrement: nothing,
  reset: nothing,
  observe: nothing,
  timer: () => nothing
}

export function controlMetrics(wrapStreams: boolean): Metrics {
  const register = () => inertMetric
  return {
    registerMetric: register,
    registerMetricGroup: register,
    registerCounter: register,
    registerCounterGroup: register,
    registerHistogram: register,
    registerHistogramGroup: register,
    registerSummary: register,
    registerSummaryGroup: register,
    trackMultiaddrConnection(maConn: MultiaddrConnection): void {
      if (wrapStreams) countStream(maConn, nothing, nothing)
    },
    trackProtocolStream(stream: Stream): void {
      if (wrapStreams) countStream(stream, nothing, nothing)
    },
    traceFunction: <F>(_name: string, fn: F): F => fn,
    createTrace: () => undefined
  } as unknown as Metrics
}

/** Routes libp2p's own metrics of a `Metrics` to the inert registry, keeping its stream and connection hooks. */
export function withInertRegistry<M extends Metrics>(metrics: M): M {
  const register = () => inertMetric
  for (const name of [
    'registerMetric',
    'registerMetricGroup',
    'registerCounter',
    'registerCounterGroup',
    'registerHistogram',
    'registerHistogramGroup',
    'registerSummary',
    'registerSummaryGroup'
  ] as const) {
    ;(metrics as Record<string, unknown>)[name] = register
  }
  return metrics
}

/** Swaps the counting hooks of a `Metrics` for wrappers that count nothing, keeping everything else it does. */
export function withoutCounting<M extends Metrics>(metrics: M): M {
  metrics.trackMultiaddrConnection = (maConn: MultiaddrConnection) => countStream(maConn, nothing, nothing)
  metrics.trackProtocolStream = (stream: Stream) => countStream(stream, nothing, nothing)
  return metrics
}
