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

/** How the caller's user sets the server's host and port: option paths (`http.port`) or CLI flags (`--port`). */
export interface ListenOptionNames {
  host: string
  port: string
}

/**
 * The HTTP server could not listen: the port is taken (`EADDRINUSE`), needs privileges (`EACCES`), or the host is
 * not an address of this machine. Names the host, the port, the cause's code and the option to change.
 */
export class HttpListenError extends Error {
  readonly code = 'ERR_HTTP_LISTEN'
  readonly host: string
  readonly port: number
  /** Node's code for the failure, e.g. `EADDRINUSE`. */
  readonly reason: string | undefined

  constructor(
    host: string,
    port: number,
    cause: unknown,
    names: ListenOptionNames = { host: 'host', port: 'port' }
  ) {
    const reason = (cause as { code?: string } | null)?.code
    const where = `${host.includes(':') ? `[${host}]` : host}:${port}`
    let message: string
    if (reason === 'EADDRINUSE') {
      message = `port ${port} is already in use on ${host}; set ${names.port} to a free port (0 picks one)`
    } else if (reason === 'EACCES') {
      message = `not allowed to listen on ${where} (ports below 1024 need privileges); set ${names.port} to 1024 or above (0 picks a free one)`
    } else if (reason === 'EADDRNOTAVAIL' || reason === 'ENOTFOUND' || reason === 'EAI_AGAIN') {
      message = `${host} is not an address of this machine; set ${names.host} to one of its addresses (127.0.0.1 by default)`
    } else {
      message = `cannot listen on ${where} (${(cause as Error | null)?.message ?? String(cause)}); check ${names.host} and ${names.port}`
    }
    super(
      `peerscope's HTTP server cannot listen on ${where}: ${message}${reason === undefined ? '' : ` (${reason})`}`,
      {
        cause
      }
    )
    this.name = 'HttpListenError'
    this.host = host
    this.port = port
    this.reason = reason
  }
}
