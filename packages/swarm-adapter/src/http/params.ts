import { peerIdFromString } from '@libp2p/peer-id'
import { badParameter, HttpError } from './errors.ts'

/**
 * Longest protocol id (in characters) a route accepts; longer ones are refused before reaching the view.
 * multistream-select caps protocol ids at 1024 bytes, so no real protocol is refused.
 */
export const MAX_PROTOCOL_LENGTH = 1024

export type Query = Map<string, string[]>

/** Parses a raw query string strictly: a malformed percent-encoding is a 400, not a silent replacement. */
export function parseQuery(raw: string): Query {
  const query: Query = new Map()
  if (raw === '') return query
  for (const pair of raw.split('&')) {
    if (pair === '') continue
    const eq = pair.indexOf('=')
    const plain = pair.replaceAll('+', ' ')
    const name = decodeComponent(eq === -1 ? plain : plain.slice(0, eq), 'query parameter name')
    const value = eq === -1 ? '' : decodeComponent(plain.slice(eq + 1), `query parameter "${name}"`)
    const values = query.get(name)
    if (values === undefined) query.set(name, [value])
    else values.push(value)
  }
  return query
}

export function decodeComponent(raw: string, what: string): string {
  try {
    return decodeURIComponent(raw)
  } catch {
    throw new HttpError(400, 'ERR_BAD_ENCODING', `Malformed percent-encoding in ${what}`)
  }
}

/** A non-negative integer query parameter within `[min, max]`, or its default when absent. */
export function integerParam(query: Query, name: string, fallback: number, min: number, max: number): number {
  const values = query.get(name)
  if (values === undefined) return fallback
  if (values.length > 1) throw badParameter(`"${name}" is given more than once`)
  const text = values[0] ?? ''
  if (!/^\d{1,16}$/.test(text)) throw badParameter(`"${name}" must be an integer between ${min} and ${max}`)
  const value = Number(text)
  if (value < min || value > max) throw badParameter(`"${name}" must be an integer between ${min} and ${max}`)
  return value
}

/** Validates a peer id and returns its canonical string form. */
export function peerIdParam(raw: string): string {
  try {
    return peerIdFromString(raw).toString()
  } catch {
    throw new HttpError(400, 'ERR_INVALID_PEER_ID', 'Not a valid peer id')
  }
}

export function protocolParam(raw: string): string {
  // Code points, as JSON Schema's maxLength counts them.
  const length = [...raw].length
  if (length === 0 || length > MAX_PROTOCOL_LENGTH) {
    throw badParameter(`A protocol id must be 1 to ${MAX_PROTOCOL_LENGTH} characters long`)
  }
  return raw
}

function single(query: Query, name: string): string | undefined {
  const values = query.get(name)
  if (values === undefined) return undefined
  if (values.length > 1) throw badParameter(`"${name}" is given more than once`)
  return values[0] ?? ''
}

/** One of `allowed`, or the default when absent. */
export function enumParam<T extends string>(
  query: Query,
  name: string,
  allowed: readonly T[]
): T | undefined {
  const text = single(query, name)
  if (text === undefined) return undefined
  if (!(allowed as readonly string[]).includes(text)) {
    throw badParameter(`"${name}" must be one of ${allowed.join(', ')}`)
  }
  return text as T
}

/** Free text of at most `maxLength` characters (code points); absent is `''`. */
export function textParam(query: Query, name: string, maxLength: number): string {
  const text = single(query, name) ?? ''
  if ([...text].length > maxLength) throw badParameter(`"${name}" is limited to ${maxLength} characters`)
  return text
}

/** `true` or `false`; absent is `undefined`. */
export function booleanParam(query: Query, name: string): boolean | undefined {
  const text = enumParam(query, name, ['true', 'false'])
  return text === undefined ? undefined : text === 'true'
}
