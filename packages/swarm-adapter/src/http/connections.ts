// Connection slots of the HTTP server. Node's `maxConnections` refuses new sockets once the cap is reached, and a
// socket the server has answered and ended stays open (half-open) until the client closes its side, so a local
// client holding a thousand sockets with a partial request kept every slot for as long as it liked: the header
// timeout ended the request, not the socket. Here every socket is tracked instead:
//   - a socket the server ends is destroyed `CLOSE_LINGER_MS` later, whether or not the client closes its side;
//   - a socket with no traffic for `requestTimeout` is destroyed (a client that stops reading a response);
//   - past `maxConnectionsPerClient` sockets from one client address (an IPv6 client: its /64), or past
//     `maxConnections` in all, a new socket takes the slot of the oldest socket that is not serving a request
//     (idle, half-open or mid-headers) of that client, or of anyone; only when every one is serving a request is
//     the new socket refused.
// So sockets that hold slots without using them cannot keep a request that arrives from being served.

import { isIPv6, type Socket } from 'node:net'

/** How long a socket the server has ended may wait for the client to close its side. */
export const CLOSE_LINGER_MS = 1000

export interface ConnectionLimits {
  maxConnections: number
  maxConnectionsPerClient: number
}

interface Slot {
  socket: Socket
  client: string
  /** Requests being served on it (from each `request` event until its response closes; pipelined ones queue). */
  serving: number
}

/** The key a client's sockets are counted under: its address, or the /64 of an IPv6 one (one host's prefix). */
export function clientKey(address: string | undefined): string {
  if (address === undefined) return ''
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7)
  if (!isIPv6(address)) return address
  const [head = '', tail = ''] = address.split('::')
  const left = head === '' ? [] : head.split(':')
  const right = tail === '' ? [] : tail.split(':')
  const groups = address.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`
}

/** The connection slots of one server; the server reports its sockets, requests and answers here. */
export class ConnectionSlots {
  readonly #limits: ConnectionLimits
  // Insertion order is age order: the first evictable slot found is the oldest.
  readonly #slots = new Map<Socket, Slot>()
  readonly #perClient = new Map<string, number>()
  #evicted = 0
  #refused = 0

  constructor(limits: ConnectionLimits) {
    this.#limits = limits
  }

  /** Sockets open now. */
  get open(): number {
    return this.#slots.size
  }

  /** Sockets closed to make room for a new one, and new ones refused because every slot was serving a request. */
  get counts(): { evicted: number; refused: number } {
    return { evicted: this.#evicted, refused: this.#refused }
  }

  /** A socket was accepted: it takes a slot, or is refused. */
  accepted(socket: Socket): void {
    const client = clientKey(socket.remoteAddress)
    if (socket.destroyed) return
    const slot: Slot = { socket, client, serving: 0 }
    this.#slots.set(socket, slot)
    this.#perClient.set(client, (this.#perClient.get(client) ?? 0) + 1)
    socket.once('close', () => this.#release(slot))
    if (
      (this.#perClient.get(client) ?? 0) > this.#limits.maxConnectionsPerClient &&
      !this.#evictOldest(slot, client)
    ) {
      this.#refuse(slot)
      return
    }
    if (this.#slots.size > this.#limits.maxConnections && !this.#evictOldest(slot, undefined)) {
      this.#refuse(slot)
    }
  }

  /** A request arrived on `socket`: its slot is in use until `requestEnded`. */
  requestStarted(socket: Socket): void {
    const slot = this.#slots.get(socket)
    if (slot !== undefined) slot.serving++
  }

  /** The response to a request on `socket` finished, or was cut off. */
  requestEnded(socket: Socket): void {
    const slot = this.#slots.get(socket)
    if (slot !== undefined && slot.serving > 0) slot.serving--
  }

  /** The server ended `socket` (an error answer): it goes `CLOSE_LINGER_MS` later even if the client keeps it. */
  ended(socket: Socket): void {
    const timer = setTimeout(() => socket.destroy(), CLOSE_LINGER_MS)
    timer.unref()
    socket.once('close', () => clearTimeout(timer))
  }

  /** Destroys every socket (the server is closing). */
  closeAll(): void {
    for (const socket of [...this.#slots.keys()]) socket.destroy()
  }

  /** Closes the oldest socket, other than `slot`'s, that serves no request (of `client`, when given). */
  #evictOldest(slot: Slot, client: string | undefined): boolean {
    for (const other of this.#slots.values()) {
      if (other === slot || other.serving > 0 || (client !== undefined && other.client !== client)) continue
      this.#evicted++
      // Released now: 'close' comes later, and a burst of new sockets must not pick the same one again.
      this.#release(other)
      other.socket.destroy()
      return true
    }
    return false
  }

  #refuse(slot: Slot): void {
    this.#refused++
    this.#release(slot)
    slot.socket.destroy()
  }

  #release(slot: Slot): void {
    if (this.#slots.get(slot.socket) !== slot) return
    this.#slots.delete(slot.socket)
    const left = (this.#perClient.get(slot.client) ?? 1) - 1
    if (left === 0) this.#perClient.delete(slot.client)
    else this.#perClient.set(slot.client, left)
  }
}
