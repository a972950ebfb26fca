import { createHash, timingSafeEqual } from 'node:crypto'

/**
 * Bearer token check. Both sides are hashed first so `timingSafeEqual` always compares two 32-byte digests:
 * the time taken reveals neither the token's content nor its length.
 */
export function createTokenCheck(token: string): (presented: string | undefined) => boolean {
  const expected = digest(token)
  return (presented) => {
    // Hash even when nothing was presented, so a missing token costs the same as a wrong one.
    const ok = timingSafeEqual(digest(presented ?? ''), expected)
    return ok && presented !== undefined
  }
}

/** The token of an `Authorization: Bearer <token>` header, `undefined` for any other form. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  const match = /^Bearer +(\S+) *$/i.exec(header)
  return match?.[1]
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest()
