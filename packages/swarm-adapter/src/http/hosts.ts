/**
 * DNS-rebinding defence. A web page on another site can make its own name resolve to 127.0.0.1 and then read
 * a local API as "same origin"; the Host header still carries that site's name, so a server bound to loopback
 * only answers requests addressed to a loopback name.
 */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]']

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host)
}

/** The host names allowed for a bind address: loopback names for loopback, `undefined` (any) otherwise. */
export function defaultAllowedHosts(bindHost: string): string[] | undefined {
  return isLoopback(bindHost)
    ? [...LOOPBACK_NAMES, bindHost.includes(':') ? `[${bindHost}]` : bindHost]
    : undefined
}

/** The host name of a Host header, lower-cased and without its port (IPv6 literals keep their brackets). */
export function hostName(header: string): string {
  const value = header.trim().toLowerCase()
  if (value.startsWith('[')) return value.slice(0, value.indexOf(']') + 1)
  const colon = value.lastIndexOf(':')
  return colon === -1 ? value : value.slice(0, colon)
}

/**
 * Why a server must not start as configured: bound beyond loopback without a token, so anyone who can reach it
 * reads the peer data, unless that was asked for explicitly. `names` are how the caller's user spells the options.
 */
export function exposureProblem(
  host: string | undefined,
  token: string | undefined,
  allowUnauthenticated: boolean | undefined,
  names: { token: string; allow: string } = { token: 'token', allow: 'allowUnauthenticated: true' }
): string | undefined {
  const bind = host ?? '127.0.0.1'
  if (isLoopback(bind) || token !== undefined || allowUnauthenticated === true) return undefined
  return (
    `the HTTP API would serve peer data to anyone who can reach ${bind} (not a loopback address) without a ` +
    `token: set ${names.token}, or ${names.allow} to serve it unauthenticated on purpose`
  )
}
