import type { TraceAttributes, TraceGeneratorFunctionOptions } from '@libp2p/interface'
import {
  type Context,
  context,
  type Span,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace
} from '@opentelemetry/api'

/** Where a traced call keeps the parent context: the `trace` field of its options argument, as in js-libp2p. */
interface TraceOptions {
  trace?: unknown
}

type AnyFunction = (...args: unknown[]) => unknown

function isContext(value: unknown): value is Context {
  return typeof value === 'object' && value !== null && typeof (value as Context).getValue === 'function'
}

function failed(span: Span, err: unknown): void {
  span.recordException(err instanceof Error ? err : String(err))
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: err instanceof Error ? err.message : String(err)
  })
  span.end()
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function'
}

function isIteratorOf(value: unknown, symbol: symbol): value is Iterator<unknown> & AsyncIterator<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Record<symbol, unknown>)[symbol] === 'function' &&
    typeof (value as { next?: unknown }).next === 'function'
  )
}

/**
 * One traced call: its span, the attributes gathered so far (js-libp2p's callbacks receive them and return the
 * next set), and the count of values it yielded.
 */
class TracedCall {
  readonly span: Span
  readonly #options: TraceGeneratorFunctionOptions<unknown[], unknown, unknown>
  #attributes: TraceAttributes
  #yielded = 0

  constructor(
    span: Span,
    attributes: TraceAttributes,
    options: TraceGeneratorFunctionOptions<unknown[], unknown, unknown>
  ) {
    this.span = span
    this.#attributes = attributes
    this.#options = options
  }

  returned(value: unknown): void {
    this.#set(this.#options.getAttributesFromReturnValue?.(value, this.#attributes))
    this.span.setStatus({ code: SpanStatusCode.OK })
    this.span.end()
  }

  yielded(value: unknown): void {
    this.#set(this.#options.getAttributesFromYieldedValue?.(value, this.#attributes, ++this.#yielded))
  }

  #set(attributes: TraceAttributes | undefined): void {
    if (attributes === undefined) return
    this.#attributes = attributes
    this.span.setAttributes(attributes)
  }
}

/**
 * libp2p's `traceFunction` and `createTrace` over the OpenTelemetry API: the application registers the SDK (a
 * tracer provider), this code never does. As in `@libp2p/opentelemetry-metrics`, a call is traced only when its
 * options carry a parent context in `trace` (from `createTrace()`), with the span named as libp2p names the
 * function and the attributes its callbacks give; a traced call passes its own span on to the functions it calls
 * with the same options. Unlike it, a rejected promise stays rejected, and a generator's span also ends when the
 * consumer stops early.
 */
export class FunctionTracer {
  readonly #name: string
  readonly #version: string | undefined
  #provider: TracerProvider | undefined
  #tracer: Tracer | undefined

  constructor(name: string, version?: string) {
    this.#name = name
    this.#version = version
  }

  /** The global provider's tracer, asked for again only when the global provider is replaced. */
  #currentTracer(): Tracer {
    const provider = trace.getTracerProvider()
    if (provider !== this.#provider || this.#tracer === undefined) {
      this.#provider = provider
      this.#tracer = provider.getTracer(this.#name, this.#version)
    }
    return this.#tracer
  }

  /** The active context: pass it as `{ trace }` in the options of a libp2p call to trace that call. */
  createTrace(): Context {
    return context.active()
  }

  wrap<F extends AnyFunction>(
    name: string,
    fn: F,
    options: TraceGeneratorFunctionOptions<unknown[], unknown, unknown> = {}
  ): F {
    const optionsIndex = options.optionsIndex ?? 0
    const tracer = this
    // Untraced calls (no `trace` in their options, the common case) cost one property read.
    return function traced(this: unknown, ...args: unknown[]): unknown {
      const parent = (args[optionsIndex] as TraceOptions | undefined)?.trace
      if (parent === undefined || parent === null || !isContext(parent)) return fn.apply(this, args)
      return tracer.#call(name, fn, this, args, optionsIndex, parent, options)
    } as F
  }

  #call(
    name: string,
    fn: AnyFunction,
    self: unknown,
    args: unknown[],
    optionsIndex: number,
    parent: Context,
    options: TraceGeneratorFunctionOptions<unknown[], unknown, unknown>
  ): unknown {
    const attributes = options.getAttributesFromArgs?.(args, {}) ?? {}
    const span = this.#currentTracer().startSpan(name, { attributes }, parent)
    const child = trace.setSpan(parent, span)
    // A copy, so the caller's options object is never changed.
    args[optionsIndex] = { ...(args[optionsIndex] as object), trace: child }
    if (!span.isRecording()) {
      // No provider (or sampled out): the context still flows on, nothing else is done.
      span.end()
      return context.with(child, fn, self, ...args)
    }
    const call = new TracedCall(span, attributes, options)
    let result: unknown
    try {
      result = context.with(child, fn, self, ...args)
    } catch (err) {
      failed(span, err)
      throw err
    }
    if (isThenable(result)) {
      return Promise.resolve(result).then(
        (value) => {
          call.returned(value)
          return value
        },
        (err: unknown) => {
          failed(span, err)
          throw err
        }
      )
    }
    if (isIteratorOf(result, Symbol.asyncIterator)) return tracedAsyncIterator(result, call)
    if (isIteratorOf(result, Symbol.iterator)) return tracedIterator(result, call)
    call.returned(result)
    return result
  }
}

function tracedAsyncIterator(source: AsyncIterator<unknown>, call: TracedCall): AsyncGenerator<unknown> {
  let open = true
  const end = (fn: () => void) => {
    if (!open) return
    open = false
    fn()
  }
  const settle = async (step: () => Promise<IteratorResult<unknown>>): Promise<IteratorResult<unknown>> => {
    try {
      const result = await step()
      if (result.done === true) end(() => call.returned(result.value))
      else if (open) call.yielded(result.value)
      return result
    } catch (err) {
      end(() => failed(call.span, err))
      throw err
    }
  }
  const wrapped: AsyncGenerator<unknown> = {
    next: (...value: [] | [unknown]) => settle(() => source.next(...value)),
    return: (value?: unknown) =>
      settle(async () => {
        const result = (await source.return?.(value)) ?? { done: true, value }
        // The consumer stopped early: the span ends without an error.
        end(() => call.span.end())
        return result
      }),
    throw: (err?: unknown) =>
      settle(async () => {
        if (source.throw === undefined) throw err
        return source.throw(err)
      }),
    [Symbol.asyncIterator]: () => wrapped,
    [Symbol.asyncDispose]: async () => {
      await wrapped.return(undefined)
    }
  }
  return wrapped
}

function tracedIterator(source: Iterator<unknown>, call: TracedCall): Generator<unknown> {
  let open = true
  const end = (fn: () => void) => {
    if (!open) return
    open = false
    fn()
  }
  const settle = (step: () => IteratorResult<unknown>): IteratorResult<unknown> => {
    try {
      const result = step()
      if (result.done === true) end(() => call.returned(result.value))
      else if (open) call.yielded(result.value)
      return result
    } catch (err) {
      end(() => failed(call.span, err))
      throw err
    }
  }
  const wrapped: Generator<unknown> = {
    next: (...value: [] | [unknown]) => settle(() => source.next(...value)),
    return: (value?: unknown) =>
      settle(() => {
        const result = source.return?.(value) ?? { done: true, value }
        end(() => call.span.end())
        return result
      }),
    throw: (err?: unknown) =>
      settle(() => {
        if (source.throw === undefined) throw err
        return source.throw(err)
      }),
    [Symbol.iterator]: () => wrapped,
    [Symbol.dispose]: () => {
      wrapped.return(undefined)
    }
  }
  return wrapped
}
