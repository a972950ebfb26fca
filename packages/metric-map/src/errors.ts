/** Stable error codes of @peerscope/metric-map. Messages may change; codes change only in a major release. */
export type MetricMapErrorCode =
  | 'ERR_INVALID_DELTA'
  | 'ERR_INVALID_KEY'
  | 'ERR_METRIC_MAP_FULL'
  | 'ERR_INVALID_OPTIONS'
  | 'ERR_INVALID_BUFFER'
  | 'ERR_TOO_MANY_THREADS'

export class MetricMapError extends Error {
  readonly code: MetricMapErrorCode

  constructor(code: MetricMapErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'MetricMapError'
    this.code = code
  }
}

export function assertDelta(delta: number): void {
  if (!Number.isSafeInteger(delta)) {
    throw new MetricMapError('ERR_INVALID_DELTA', `delta must be a safe integer, got ${String(delta)}`)
  }
}

export function assertKey(key: string): void {
  if (typeof key !== 'string') {
    throw new MetricMapError('ERR_INVALID_KEY', `key must be a string, got ${typeof key}`)
  }
}
