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

/** True when `text` is the canonical text of a multiaddr of a common shape, checked without parsing it. */
export function isCommonMultiaddrText(text: string): boolean {
  const match = COMMON.exec(text)
  if (match == null) return false
  const ip6 = match[1]
  return ip6 == null || isCanonicalIp6(ip6)
}

const GROUP = /^(?:0|[1-9a-f][0-9a-f]{0,3})$/

// Multiaddr writes an IPv6 host as the WHATWG URL serialiser does: lowercase groups without leading zeros,
// and the first longest run of two or more zero groups written as '::'. (Asking the URL parser costs
// ~4 us per address, more than the rest of an open's work for it.)
function isCanonicalIp6(text: string): boolean {
  const halves = text.split('::')
  if (halves.length > 2) return false
  const left = halves[0] === '' ? [] : halves[0]!.split(':')
  const right = halves.length === 1 || halves[1] === '' ? [] : halves[1]!.split(':')
  const groups = [...left, ...right]
  if (!groups.every((g) => GROUP.test(g))) return false
  if (halves.length === 1 ? groups.length !== 8 : groups.length > 6) return false
  const pieces = [...left, ...Array<string>(8 - groups.length).fill('0'), ...right]
  // The first longest run of zero groups, if two or more long: where '::' must be, and nowhere else.
  let best = -1
  let bestLength = 1
  for (let i = 0; i < 8; ) {
    let j = i
    while (j < 8 && pieces[j] === '0') j++
    if (j - i > bestLength) {
      best = i
      bestLength = j - i
    }
    i = j === i ? i + 1 : j
  }
  return halves.length === 1 ? best === -1 : best === left.length && bestLength === 8 - groups.length
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
 * DNS name holding a `/`, which a remote can send as bytes, prints as more components than it has).
 */
export function storableAddrText(ma: Multiaddr): string | undefined {
  const text = ma.toString()
  if (typeof text !== 'string') return undefined
  if (ma instanceof StoredMultiaddr) return text
  // IP hosts, ports and value-less protocols print canonically; a DNS name is free text, so it is read back.
  if (isCommonMultiaddrText(text) && !text.startsWith('/dns')) return text
  try {
    return equals(multiaddr(text).bytes, ma.bytes) ? text : undefined
  } catch {
    return undefined
  }
}
