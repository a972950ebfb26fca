import type { PeerId, PublicKey } from '@libp2p/interface'
// Type only, so erased: the neutral entry (index.ts) still reaches no @peerscope/leveldb-mend code.
import type { MendedTable } from '@peerscope/leveldb-mend'
import { type AddrInfo, AddrList } from './addr-list.ts'

export type { AddrInfo, MendedTable }

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/** Metadata values are stored as given: bytes or any JSON value. */
export type MetadataValue = Uint8Array | JsonValue

export interface TagEntry {
  value: number
  /** Absolute expiry in epoch ms; `Infinity` for tags without a TTL. */
  expiresAt: number
}

export interface SignedRecord {
  seq: bigint
  envelope: Uint8Array
}

/** The in-memory index entry for one peer. Never handed out: reads return copies. */
export interface PeerEntry {
  id: PeerId
  /** Keyed by multiaddr text, in code-unit order of the keys (addr-list.ts). */
  addrs: AddrList
  record: SignedRecord | undefined
  publicKey: PublicKey | undefined
  protocols: string[]
  // Read-only so that every write goes through `editMetadata` / `editTags` / `editPins` below.
  metadata: ReadonlyMap<string, MetadataValue>
  tags: ReadonlyMap<string, TagEntry>
  pins: ReadonlySet<string>
  latency: number | undefined
  /**
   * Epoch ms of the last write that changed the peer (any book; not GC, not a key cached by `pubKey`). Peer
   * ageing counts from it (peer-age.ts). Undefined for an entry no write created (latency, a cached key).
   */
  updated: number | undefined
}

// Most peers never get metadata, tags or pins. Until they do, their entry shares these two empty
// instances: three empty collections per peer were a quarter of the index's heap (~5.5 MiB at 10k peers).
const NO_ENTRIES: ReadonlyMap<string, never> = new Map<string, never>()
const NO_PINS: ReadonlySet<string> = new Set<string>()

/** The shared empty map: what `save` leaves when it clears an entry's metadata or tags. */
export function noEntries<V>(): ReadonlyMap<string, V> {
  return NO_ENTRIES
}

/** The entry's metadata, made writable (its own Map) on first use. */
export function editMetadata(entry: PeerEntry): Map<string, MetadataValue> {
  if (entry.metadata === NO_ENTRIES) entry.metadata = new Map()
  return entry.metadata as Map<string, MetadataValue>
}

/** The entry's tags, made writable (its own Map) on first use. */
export function editTags(entry: PeerEntry): Map<string, TagEntry> {
  if (entry.tags === NO_ENTRIES) entry.tags = new Map()
  return entry.tags as Map<string, TagEntry>
}

/** The entry's pins, made writable (its own Set) on first use. */
export function editPins(entry: PeerEntry): Set<string> {
  if (entry.pins === NO_PINS) entry.pins = new Set()
  return entry.pins as Set<string>
}

/** A peer with nothing stored yet: the one place an entry is built from scratch. */
export function newEntry(id: PeerId): PeerEntry {
  return {
    id,
    addrs: new AddrList(),
    record: undefined,
    publicKey: undefined,
    protocols: [],
    metadata: NO_ENTRIES,
    tags: NO_ENTRIES,
    pins: NO_PINS,
    latency: undefined,
    updated: undefined
  }
}

/** One sublevel each. `seen` holds the peer's `updated` time (stores written before it existed have none). */
export type RecordKind = 'addrs' | 'keys' | 'protos' | 'meta' | 'tags' | 'pins' | 'seen'

export const RECORD_KINDS: readonly RecordKind[] = ['addrs', 'keys', 'protos', 'meta', 'tags', 'pins', 'seen']

/** Bit of each record kind in a mask of kinds (the write path's dirty marks, the records of a peer GC removed). */
export const RECORD_KIND_BIT: Readonly<Record<RecordKind, number>> = {
  addrs: 1,
  keys: 2,
  protos: 4,
  meta: 8,
  tags: 16,
  pins: 32,
  seen: 64
}

/** The kinds in a mask of `RECORD_KIND_BIT`s, in `RECORD_KINDS` order. */
export function kindsOf(mask: number): RecordKind[] {
  return RECORD_KINDS.filter((kind) => (mask & RECORD_KIND_BIT[kind]) !== 0)
}

export interface GcStats {
  peersScanned: number
  addrsRemoved: number
  tagsRemoved: number
  peersRemoved: number
  slices: number
  /** The longest synchronous stretch GC ran (a scan slice, or encoding one slice's batch). */
  longestSliceMs: number
  durationMs: number
}

/** A completed GC run, with the time it started (epoch ms, by the store's clock). */
export interface LastGc extends GcStats {
  at: number
}

export interface QuarantinedRecord {
  kind: string
  key: string
  reason: string
}

/** Records of one kind that LevelDB could not read (they sit in a damaged table block or file). */
export interface UnreadableRecords {
  kind: string
  /** `LEVEL_CORRUPTION` or `LEVEL_IO_ERROR`. */
  code: string
  /** LevelDB's message, e.g. `Corruption: corrupted compressed block contents`. */
  message: string
}

/**
 * A LevelDB log file holding damage when the store opened (a torn record from a failed append, say): LevelDB
 * dropped the writes after it. Writes the journal held were written again from it.
 */
export interface LogDamage {
  file: string
  /** Byte offset of the first damaged record. */
  damageAt: number
  reason: string
  /** Bytes LevelDB dropped. */
  droppedBytes: number
}

/** A journal line that failed its checksum or does not parse: its whole append was dropped, never replayed. */
export interface JournalDamage {
  file: string
  /** 1-based line number in the file. */
  line: number
  reason: string
  /** Good records dropped with it: the rest of the append it belonged to (replayed all or nothing). */
  dropped: number
}

/** What the open wrote into LevelDB from the write-ahead journal (a store opened by path). */
export interface JournalReplay {
  /** Records written into LevelDB: writes acknowledged before the last close or crash that LevelDB lacked. */
  replayed: number
  damage: JournalDamage[]
  /** Where damaged journal files were moved (under the store's `lost/`). */
  keptAt: string[]
}

export interface OpenReport {
  peers: number
  quarantined: QuarantinedRecord[]
  downgraded: number
  /** Kinds whose records LevelDB could not all read (a truncated table file): run `peerscope repair`. */
  unreadable: UnreadableRecords[]
  /** Table files whose damaged blocks were replaced by empty ones before loading (see README). */
  mended: MendedTable[]
  /** LevelDB log files with damage LevelDB dropped on this open. */
  logDamage: LogDamage[]
  journal: JournalReplay
}

/** How the store's writes reach LevelDB (`LevelPeerStore.storageStatus`). */
export interface StorageStatus {
  /**
   * True from a failed LevelDB write until LevelDB has written every batch it took to a table file: writes go on
   * into the journal meanwhile, and the journal is kept (also through a close) until then.
   */
  degraded: boolean
  /** The last failed flush's error, until a flush succeeds. */
  lastError: { code: string; message: string } | undefined
  /** Bytes in the journal not yet known to be durably in LevelDB (0 without a journal). */
  journalBytes: number
}

/** A LevelDB batch that failed. */
export interface BatchFailure {
  error: unknown
  /** Peers whose records the batch held. */
  peers: number
  /** True when the records stay in the journal and are written again by the next flush (or the next open). */
  retried: boolean
}

export interface LevelPeerStoreEvents {
  /**
   * A LevelDB batch failed (disk full, I/O error, ...). With a journal (a store opened by `path`) the writes are
   * safe in it and written again by the next flush or the next open; without one, the writes waiting on the batch
   * rejected.
   */
  'flush-error': CustomEvent<BatchFailure>
}
