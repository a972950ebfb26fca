/** Stable error codes of @peerscope/metrics. Messages may change; codes change only in a major release. */
export type MetricsErrorCode = 'ERR_INVALID_SIZE' | 'ERR_INVALID_OPTIONS'

export class MetricsError extends Error {
  readonly code: MetricsErrorCode

  constructor(code: MetricsErrorCode, message: string) {
    super(message)
    this.name = 'MetricsError'
    this.code = code
  }
}

/** Sizes are byte counts: a negative or fractional size is a caller bug (go would wrap it to a huge number). */
export function assertSize(bytes: number): void {
  if (!Number.isSafeInteger(bytes) || bytes < 0) {
    throw new MetricsError(
      'ERR_INVALID_SIZE',
      `size must be a non-negative safe integer, got ${String(bytes)}`
    )
  }
}
