/** An error the HTTP layer answers with its own status and a stable `code`; anything else becomes a 500. */
export class HttpError extends Error {
  readonly status: number
  readonly code: string
  /** Extra response headers, e.g. `Allow` on 405 or `WWW-Authenticate` on 401. */
  readonly headers: Record<string, string>

  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message)
    this.name = 'HttpError'
    this.status = status
    this.code = code
    this.headers = headers
  }
}

export const badParameter = (message: string): HttpError => new HttpError(400, 'ERR_BAD_PARAMETER', message)
export const notFound = (code: string, message: string): HttpError => new HttpError(404, code, message)

/** The JSON error body every failure uses. */
export const errorBody = (code: string, message: string): string =>
  JSON.stringify({ error: { code, message } })

/** Thrown by `startHttpServer` for options it cannot run with. */
export class InvalidHttpOptionsError extends Error {
  readonly code = 'ERR_INVALID_HTTP_OPTIONS'

  constructor(message: string) {
    super(message)
    this.name = 'InvalidHttpOptionsError'
  }
}
