// A multiaddr read back from disk. It keeps the canonical string it was stored under and parses it only
// when a caller needs more than that string: at 10k peers x 4 addresses, parsed multiaddrs (~450 B and
// ~2 us each) were most of the heap and of the time to open.
import { type Component, type Multiaddr, type MultiaddrInput, multiaddr } from '@multiformats/multiaddr'
import { equals } from 'uint8arrays'

// `isMultiaddr` looks for this symbol. It sits on the prototype (set below the class), not on each of
// the tens of thousands of instances.
const multiaddrSymbol = Symbol.for('@multiformats/multiaddr')
const inspect = Symbol.for('nodejs.util.inspect.custom')

export class StoredMultiaddr implements Multiaddr {
  declare readonly [multiaddrSymbol]: true
  readonly #text: string
  #parsed: Multiaddr | undefined

  constructor(text: string) {
    this.#text = text
  }

  #multiaddr(): Multiaddr {
    this.#parsed ??= multiaddr(this.#text)
    return this.#parsed
  }

  get bytes(): Uint8Array<ArrayBuffer> {
    return this.#multiaddr().bytes
  }

  toString(): string {
    return this.#text
  }

  toJSON(): string {
    return this.#text
  }

  getComponents(): Component[] {
    return this.#multiaddr().getComponents()
  }

  encapsulate(addr: MultiaddrInput): Multiaddr {
    return this.#multiaddr().encapsulate(addr)
  }

  decapsulate(addr: Multiaddr | string): Multiaddr {
    return this.#multiaddr().decapsulate(addr)
  }

  decapsulateCode(code: number): Multiaddr {
    return this.#multiaddr().decapsulateCode(code)
  }

  equals(addr?: unknown): boolean {
    return this.#multiaddr().equals(addr)
  }

  [inspect](): string {
    return `Multiaddr(${this.#text})`
  }
}
Object.defineProperty(StoredMultiaddr.prototype, multiaddrSymbol, { value: true })

const BARE =
  '(?:/(?:quic-v1|quic|tls|noise|ws|wss|webtransport|webrtc-direct|webrtc|p2p-circuit|http|https))*'
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)'
const PORT = '(?:6553[0-5]|655[0-2]\\d|65[0-4]\\d\\d|6[0-4]\\d{3}|[1-5]\\d{4}|[1-9]\\d{0,3}|0)'
// The canonical text (what Multiaddr#toString() writes) of the common shapes: an IP or DNS host, an
// optional TCP/UDP port, then protocols without a value. Anything else is parsed in full.
const COMMON = new RegExp(
  `^(?:/ip4/${OCTET}(?:\\.${OCTET}){3}|/ip6/([0-9a-f:]+)|/(?:dns|dns4|dns6|dnsaddr)/[^/]+)(?:/(?:tcp|udp)/${PORT})?${BARE}$`
)

/**
 * True when `text`, the text a Multiaddr made of itself, has a common shape: a StoredMultiaddr of it parses back to
 * the same address. (Text from disk must be checked to be canonical as well: `isCommonMultiaddrText`.)
 */
export function hasCommonShape(text: string): boolean {
  return COMMON.test(text)
}

/** True when `text` is the canonical text of a multiaddr of a common shape, checked without parsing it. */
export function isCommonMultiaddrText(text: string): boolean {
  const match = COMMON.exec(text)
  if (match == null) return false
  const ip6 = match[1]
  return ip6 == null || isCanonicalIp6(ip6)
}

// The eight pieces of the address being checked, the '::' expanded (one array for every call: an open checks
// hundreds of thousands of addresses, and a check that made arrays cost more than the rest of its work).
const pieces = new Int32Array(8)

// Multiaddr writes an IPv6 host as the WHATWG URL serialiser does: lowercase groups without leading zeros,
// and the first longest run of two or more zero groups written as '::'. (Asking the URL parser costs
// ~4 us per address, more than the rest of an open's work for it.)
function isCanonicalIp6(text: string): boolean {
  const length = text.length
  let groups = 0
  // Where '::' stands, in groups before it; -1 when there is none.
  let compressAt = -1
  let i = 0
  if (text.charCodeAt(0) === 58) {
    if (text.charCodeAt(1) !== 58) return false
    compressAt = 0
    i = 2
  }
  while (i < length) {
    let value = 0
    let digits = 0
    let leadingZero = false
    for (; i < length; i++) {
      const c = text.charCodeAt(i)
      const digit = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1
      if (digit < 0) break
      if (digits === 0) leadingZero = digit === 0
      value = value * 16 + digit
      digits++
    }
    if (digits === 0 || digits > 4 || (leadingZero && digits > 1) || groups === 8) return false
    pieces[groups++] = value
    if (i === length) break
    if (text.charCodeAt(i++) !== 58 || i === length) return false
    if (text.charCodeAt(i) === 58) {
      if (compressAt >= 0) return false
      compressAt = groups
      i++
    }
  }
  if (compressAt < 0 ? groups !== 8 : groups > 6) return false
  if (compressAt >= 0) {
    // Move the groups after '::' to the end, zeros in between.
    const zeros = 8 - groups
    for (let g = groups - 1; g >= compressAt; g--) pieces[g + zeros] = pieces[g]!
    for (let g = compressAt; g < compressAt + zeros; g++) pieces[g] = 0
  }
  // The first longest run of zero groups, if two or more long: where '::' must be, and nowhere else.
  let best = -1
  let bestLength = 1
  for (let g = 0; g < 8; ) {
    let end = g
    while (end < 8 && pieces[end] === 0) end++
    if (end - g > bestLength) {
      best = g
      bestLength = end - g
    }
    g = end === g ? g + 1 : end
  }
  return compressAt < 0 ? best === -1 : best === compressAt && bestLength === 8 - groups
}

/**
 * The multiaddr stored under `text`: kept as text when its shape is checked cheaply, else parsed now (and
 * throws as `multiaddr()` does) so a damaged value is found when the store opens.
 */
export function storedMultiaddr(text: string): Multiaddr {
  return isCommonMultiaddrText(text) ? new StoredMultiaddr(text) : multiaddr(text)
}

/**
 * The text `ma` is stored under, when that text reads back as the same multiaddr; undefined when it does not (a
 * DNS name holding a `/`, which a remote can send as bytes, prints as more components than it has). `text` is
 * `ma.toString()` when the caller read it already.
 */
export function storableAddrText(ma: Multiaddr, text: string = ma.toString()): string | undefined {
  if (typeof text !== 'string') return undefined
  if (ma instanceof StoredMultiaddr) return text
  // IP hosts, ports and value-less protocols print canonically; a DNS name is free text, checked on its own.
  if (isCommonMultiaddrText(text) && (!text.startsWith('/dns') || dnsNameReadsBack(ma))) return text
  try {
    return equals(multiaddr(text).bytes, ma.bytes) ? text : undefined
  } catch {
    return undefined
  }
}

const utf8 = new TextEncoder()

/** Bytes of the unsigned varint `n` (a multiaddr code or length). */
function varintLength(n: number): number {
  let length = 1
  while (n >= 0x80) {
    n = Math.floor(n / 0x80)
    length++
  }
  return length
}

/**
 * For a common-shape text starting with a DNS host: true when that host's name is exactly the text between its
 * slashes, so the text reads back as the same address without parsing it again (a parse cost more than the rest of
 * an address's write). A name made from text is a piece of that text. A name read from bytes (a remote's) can hold a
 * `/` or bytes that are not UTF-8 (decoded as U+FFFD): its bytes must be
 * the name's UTF-8, else the caller reads the text back in full.
 */
function dnsNameReadsBack(ma: Multiaddr): boolean {
  const first = ma.getComponents()[0]
  const name = first?.value
  if (first === undefined || name === undefined || name === '' || name.includes('/')) return false
  const bytes = first.bytes
  if (bytes === undefined) return true
  // A name's UTF-8 is as long as the name only when it is ASCII (nearly every one): then it is compared byte by
  // byte, with no encoded copy made.
  const asciiHeader = varintLength(first.code) + varintLength(name.length)
  if (bytes.length === asciiHeader + name.length) {
    for (let i = 0; i < name.length; i++) {
      const c = name.charCodeAt(i)
      if (c >= 0x80 || bytes[asciiHeader + i] !== c) return false
    }
    return true
  }
  const encoded = utf8.encode(name)
  const header = varintLength(first.code) + varintLength(encoded.length)
  return bytes.length === header + encoded.length && equals(bytes.subarray(header), encoded)
}
