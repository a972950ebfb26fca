// The JS floor of a persisted store's long operations (reopen-and-list, all(), GC of a full expiry), for blocks.ts:
// the least a JavaScript peer store on LevelDB (`level`, classic-level in Node, as ours) can do for them. One compact
// text record per peer (protocols, then each address with its expiry), read in chunks of 1000 into an index of plain
// arrays (64 Maps by key, as ours: one Map of a million entries rehashes all of them in one call as it grows), and
// listed as libp2p's `Peer`, as the view's `all()` returns it: a PeerId and Multiaddr objects that keep their text
// and build the library's object on first use beyond it (what ours returns; `allLibrary` builds the library's
// objects at once instead). Every long step gives the event loop a turn every `sliceMs`, as ours does. No checks of
// ids or addresses, no journal, no events, no limits, no record kinds but these: nothing a real store may skip, so
// its figures are what JavaScript and LevelDB cost on this workload before any store's design.
import {
  type Ed25519PeerId,
  type Ed25519PublicKey,
  type Peer,
  type PeerId,
  peerIdSymbol
} from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { type Component, type Multiaddr, type MultiaddrInput, multiaddr } from '@multiformats/multiaddr'
import { Level } from 'level'
import { base58btc } from 'multiformats/bases/base58'
import type { CID } from 'multiformats/cid'
import type { MultihashDigest } from 'multiformats/hashes/interface'
import { addrsFor, PROTOCOLS, peerIdBytes } from './workload.ts'

/** A peer as the floor's index holds it: texts, and each address's expiry (epoch ms). */
export interface FloorEntry {
  id: FloorPeerId
  addrs: string[]
  expiresAt: number[]
  protocols: string[]
}

/** What the floor stores for a peer (the workload's, before encoding). */
export interface FloorRecord {
  id: string
  addrs: string[]
  expiresAt: number[]
  protocols: string[]
}

const multiaddrSymbol = Symbol.for('@multiformats/multiaddr')

/** A Multiaddr that keeps its text and parses it on first use beyond `toString`. */
export class FloorMultiaddr implements Multiaddr {
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
}
Object.defineProperty(FloorMultiaddr.prototype, multiaddrSymbol, { value: true })

/** An Ed25519 PeerId that keeps its text and builds the library's PeerId on first use beyond it. */
export class FloorPeerId implements Ed25519PeerId {
  readonly #text: string
  #built: Ed25519PeerId | undefined

  constructor(text: string) {
    this.#text = text
  }

  #peerId(): Ed25519PeerId {
    this.#built ??= peerIdFromString(this.#text) as Ed25519PeerId
    return this.#built
  }

  get type(): 'Ed25519' {
    return 'Ed25519'
  }

  get publicKey(): Ed25519PublicKey {
    return this.#peerId().publicKey
  }

  toString(): string {
    return this.#text
  }

  toJSON(): string {
    return this.#text
  }

  toMultihash(): MultihashDigest<0x0> {
    return this.#peerId().toMultihash()
  }

  toCID(): CID<Uint8Array, 0x72, 0x0, 1> {
    return this.#peerId().toCID()
  }

  equals(other?: unknown): boolean {
    return other != null && String(other) === this.#text
  }
}
Object.defineProperty(FloorPeerId.prototype, peerIdSymbol, { value: true })

/** `protocols`, then one line per address: its expiry, a space, its text. */
export function encodeFloorRecord(r: Omit<FloorRecord, 'id'>): string {
  let out = r.protocols.join(',')
  for (let i = 0; i < r.addrs.length; i++) out += `\n${r.expiresAt[i]} ${r.addrs[i]}`
  return out
}

/** Protocol names are few: one string each, shared by every peer. */
const interned = new Map<string, string>()
function intern(name: string): string {
  let kept = interned.get(name)
  if (kept === undefined) {
    kept = name
    interned.set(name, name)
  }
  return kept
}

/** The floor's decoding of one record (what a profile counts as decoding). */
export function decodeFloorRecord(id: string, value: string): FloorEntry {
  const lines = value.split('\n')
  const protocols = lines[0] === '' ? [] : lines[0]!.split(',').map(intern)
  const addrs: string[] = []
  const expiresAt: number[] = []
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!
    const space = line.indexOf(' ')
    expiresAt.push(Number(line.slice(0, space)))
    addrs.push(line.slice(space + 1))
  }
  return { id: new FloorPeerId(id), addrs, expiresAt, protocols }
}

const SHARDS = 64
function shardOf(key: string): number {
  const n = key.length
  return ((key.charCodeAt(n - 1) * 31 + key.charCodeAt(n - 2)) | 0) & (SHARDS - 1)
}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** Records per LevelDB read (ours reads 1000 per `nextv` too) and per batch GC writes. */
const CHUNK = 1000

export class FloorPersistedStore {
  readonly #db: Level<string, string>
  readonly #clock: () => number
  readonly #sliceMs: number
  readonly #shards: Array<Map<string, FloorEntry>> = Array.from({ length: SHARDS }, () => new Map())
  #size = 0

  private constructor(db: Level<string, string>, clock: () => number, sliceMs: number) {
    this.#db = db
    this.#clock = clock
    this.#sliceMs = sliceMs
  }

  /** Writes `records` into a new LevelDB at `path` (untimed set-up: the store a reopen finds). */
  static async write(path: string, records: Iterable<FloorRecord>): Promise<void> {
    const db = new Level<string, string>(path)
    await db.open()
    try {
      let batch = db.batch()
      for (const r of records) {
        batch.put(r.id, encodeFloorRecord(r))
        if (batch.length >= 10_000) {
          await batch.write()
          batch = db.batch()
        }
      }
      await batch.write()
    } finally {
      await db.close()
    }
  }

  /** Opens the LevelDB at `path` and loads every record into the index, giving the loop a turn every `sliceMs`. */
  static async open(path: string, clock: () => number, sliceMs = 4): Promise<FloorPersistedStore> {
    const db = new Level<string, string>(path)
    await db.open()
    const store = new FloorPersistedStore(db, clock, sliceMs)
    const it = db.iterator({ highWaterMarkBytes: 1 << 20 })
    try {
      // The next chunk is read on LevelDB's thread while this one is decoded.
      let next = it.nextv(CHUNK)
      for (;;) {
        const chunk = await next
        if (chunk.length === 0) break
        next = it.nextv(CHUNK)
        let sliceStart = performance.now()
        for (let i = 0; i < chunk.length; i++) {
          if ((i & 63) === 63 && performance.now() - sliceStart >= sliceMs) {
            await yieldToLoop()
            sliceStart = performance.now()
          }
          const [key, value] = chunk[i]!
          store.#set(key, decodeFloorRecord(key, value))
        }
      }
    } finally {
      await it.close()
    }
    return store
  }

  get size(): number {
    return this.#size
  }

  #set(key: string, entry: FloorEntry): void {
    const shard = this.#shards[shardOf(key)]!
    const before = shard.size
    shard.set(key, entry)
    this.#size += shard.size - before
  }

  get(id: string): FloorEntry | undefined {
    return this.#shards[shardOf(id)]!.get(id)
  }

  /** Every peer as libp2p's `Peer` (live addresses only), objects that keep their text (as ours returns). */
  all(): Promise<Peer[]> {
    return this.#list(
      (text) => new FloorMultiaddr(text),
      (entry) => entry.id
    )
  }

  /** `all()` with the libraries' own PeerId and Multiaddr objects, built for every peer. */
  allLibrary(): Promise<Peer[]> {
    return this.#list(
      (text) => multiaddr(text),
      (entry) => peerIdFromString(entry.id.toString())
    )
  }

  async #list(
    toMultiaddr: (text: string) => Multiaddr,
    toId: (entry: FloorEntry) => PeerId
  ): Promise<Peer[]> {
    const now = this.#clock()
    // Sized once: grown by push, a list of a million is copied whole at each growth, in one step.
    const peers: Peer[] = new Array<Peer>(this.#size)
    let listed = 0
    let sliceStart = performance.now()
    let n = 0
    for (const shard of this.#shards) {
      for (const entry of shard.values()) {
        if ((++n & 63) === 0 && performance.now() - sliceStart >= this.#sliceMs) {
          await yieldToLoop()
          sliceStart = performance.now()
        }
        const addresses: Peer['addresses'] = []
        for (let i = 0; i < entry.addrs.length; i++) {
          if (now < entry.expiresAt[i]!)
            addresses.push({ multiaddr: toMultiaddr(entry.addrs[i]!), isCertified: false })
        }
        peers[listed++] = {
          id: toId(entry),
          addresses,
          protocols: entry.protocols.slice(),
          metadata: new Map(),
          tags: new Map()
        }
      }
    }
    peers.length = listed
    return peers
  }

  /**
   * Drops every expired address (a peer keeps its protocols, as in go), giving the loop a turn every `sliceMs`; then
   * writes the changed records to LevelDB, a batch of 1000 at a time. Returns how many addresses were dropped.
   */
  async gc(): Promise<number> {
    const now = this.#clock()
    let removed = 0
    // The changed peers' keys, a batch's worth per array (one array of a million grows by whole copies).
    const changed: string[][] = [[]]
    let sliceStart = performance.now()
    let n = 0
    for (const shard of this.#shards) {
      for (const [key, entry] of shard) {
        if ((++n & 63) === 0 && performance.now() - sliceStart >= this.#sliceMs) {
          await yieldToLoop()
          sliceStart = performance.now()
        }
        let kept = 0
        for (let i = 0; i < entry.addrs.length; i++) {
          if (entry.expiresAt[i]! > now) {
            entry.addrs[kept] = entry.addrs[i]!
            entry.expiresAt[kept++] = entry.expiresAt[i]!
          }
        }
        if (kept === entry.addrs.length) continue
        removed += entry.addrs.length - kept
        entry.addrs.length = kept
        entry.expiresAt.length = kept
        let last = changed.at(-1)!
        if (last.length === CHUNK) {
          last = []
          changed.push(last)
        }
        last.push(key)
      }
    }
    for (const keys of changed) {
      if (keys.length === 0) continue
      const batch = this.#db.batch()
      for (const key of keys) batch.put(key, encodeFloorRecord(this.get(key)!))
      await batch.write()
    }
    return removed
  }

  async close(): Promise<void> {
    await this.#db.close()
  }
}

/** The workload's peers [0, n) as the floor stores them, every address expiring at `expiresAt`. */
export function* workloadRecords(n: number, expiresAt: number): Generator<FloorRecord> {
  for (let i = 0; i < n; i++) {
    // As a store keeps them (ours too): the text a parsed Multiaddr gives, canonical.
    const addrs = addrsFor(i).map(String)
    // A key-based PeerId's text is its multihash in base58btc, without the multibase prefix.
    yield {
      id: base58btc.baseEncode(peerIdBytes(i)),
      addrs,
      expiresAt: addrs.map(() => expiresAt),
      protocols: PROTOCOLS
    }
  }
}
