// Exact expiry instants. An epoch in ms as a float has a resolution of about 0.24 µs today, so `now + ttl`
// loses a TTL under about 0.1 µs and the sub-resolution part of any fraction. An expiry is therefore held as
// whole epoch ms plus the nanoseconds past it (0-999,999): exact for every nanosecond TTL go honours.
import { neverExpires } from './constants.ts'

/** Where an address's expiry is held: whole epoch ms (`Infinity`: never) and the ns past it. */
export interface Expiring {
  expiresAt: number
  /** Nanoseconds past `expiresAt`, 0-999,999; absent = 0. */
  expiresAtNs?: number
}

const NS_PER_MS = 1_000_000

/** An instant or a duration in (fractional) ms as whole ms and the ns past them, to the nearest ns. */
function split(ms: number): { ms: number; ns: number } {
  if (Number.isInteger(ms)) return { ms, ns: 0 }
  let whole = Math.floor(ms)
  let ns = Math.round((ms - whole) * NS_PER_MS)
  if (ns === NS_PER_MS) {
    whole++
    ns = 0
  }
  return { ms: whole, ns }
}

/** The expiry `ttl` ms after `now`: exact to the ns (`Infinity` for never-expiring TTLs). */
export function expiryAfter(now: number, ttl: number): Expiring {
  if (neverExpires(ttl)) return { expiresAt: Number.POSITIVE_INFINITY }
  if (Number.isInteger(now) && Number.isInteger(ttl)) return { expiresAt: now + ttl }
  const a = split(now)
  const b = split(ttl)
  let ms = a.ms + b.ms
  let ns = a.ns + b.ns
  if (ns >= NS_PER_MS) {
    ms++
    ns -= NS_PER_MS
  }
  return ns === 0 ? { expiresAt: ms } : { expiresAt: ms, expiresAtNs: ns }
}

/** An expiry read from a store written before expiries were split (a float epoch ms). */
export function expiryFromMs(at: number): Expiring {
  if (!Number.isFinite(at) || Number.isInteger(at)) return { expiresAt: at }
  const { ms, ns } = split(at)
  return ns === 0 ? { expiresAt: ms } : { expiresAt: ms, expiresAtNs: ns }
}

/** True while `now` (epoch ms) is before the expiry: go's `!now.Before(Expiry)` is expired. */
export function isLive(e: Expiring, now: number): boolean {
  if (now < e.expiresAt) return true
  if (e.expiresAtNs === undefined || now >= e.expiresAt + 1) return false
  // Within the expiry's ms: compare the ns past it.
  const t = split(now)
  return t.ms === e.expiresAt && t.ns < e.expiresAtNs
}

/** Orders two expiries: negative when `a` expires first. */
export function compareExpiry(a: Expiring, b: Expiring): number {
  if (a.expiresAt !== b.expiresAt) return a.expiresAt < b.expiresAt ? -1 : 1
  return (a.expiresAtNs ?? 0) - (b.expiresAtNs ?? 0)
}
