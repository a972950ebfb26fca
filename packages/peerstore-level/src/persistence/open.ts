// Opening a store's storage, in order: the directory step (a store opened by path: the directory is held by this
// process and locked, CURRENT and LevelDB's logs checked, damaged table files mended before LevelDB reads them),
// LevelDB's open (a locked, damaged or full database fails with a typed error), the journal (what it holds is
// written into LevelDB first; damaged lines are reported and their appends dropped), then every record loaded
// into a new peer index: undecodable records are quarantined, Connected addresses are downgraded (the connections
// died with the process), and a peer stored before write times existed gets one. Closing is here too: the journal
// is kept if a write missed LevelDB, or LevelDB's log cannot be trusted (write-path.ts).

import type { Logger } from '@libp2p/interface'
import type { AbstractLevel, AbstractSublevel } from 'abstract-level'
import { ConnectedAddrTTL, RecentlyConnectedAddrTTL } from '../constants.ts'
import { PeerStoreError } from '../errors.ts'
import { expiryAfter } from '../expiry.ts'
import { PeerIndex } from '../peer-index.ts'
import { readAll } from '../read-all.ts'
import {
  type JournalReplay,
  type LogDamage,
  type MendedTable,
  newEntry,
  type OpenReport,
  type PeerEntry,
  RECORD_KINDS,
  type RecordKind
} from '../types.ts'
import { yieldToLoop } from '../yield.ts'
import { decodeRecord } from './codec.ts'
import type { Journal } from './journal.ts'
import { peerIdFromKey } from './peer-key.ts'
import { isStorageFull } from './storage-errors.ts'
import type { RecordDatabase, RecordOp, WritePath } from './write-path.ts'

// biome-ignore lint/suspicious/noExplicitAny: abstract-level's generics differ per backend
export type AnyLevel = AbstractLevel<any, string, string>
export type Sub = AbstractSublevel<AnyLevel, string | Buffer | Uint8Array, string, string>

/**
 * Opening a LevelDB by its directory, which only Node can do: the Node entry gives it (persistence/directory.ts,
 * with the mend hook, `level` and the journal), so the platform-neutral entry reaches no `node:` module.
 */
export interface DirectoryStorage {
  /**
   * Holds and locks the directory, refuses one LevelDB would mistreat, checks its logs, mends damaged table files,
   * and makes (not opens) its LevelDB.
   */
  prepare(path: string): Promise<PreparedDirectory>
  /** The write-ahead journal in the directory of an open LevelDB (whose lock makes it ours alone). */
  journal(path: string): Journal
}

export interface PreparedDirectory {
  db: AnyLevel
  mended: MendedTable[]
  logDamage: LogDamage[]
  /** Has LevelDB write its memtable to a table file and start a new log (write-path.ts). */
  forceFlush(): Promise<void>
  /** Gives the directory back (unlocks it); called once its LevelDB is closed, or when the open failed. */
  release(): Promise<void>
}

export interface OpenStorageInit {
  /** Directory of a LevelDB database (opened with `level`). Ignored when `db` is given. */
  path?: string | undefined
  /** Any abstract-level database; opened here. */
  db?: AnyLevel | undefined
  /** How to open `path`; without it (the platform-neutral entry) only `db` can be opened. */
  directory?: DirectoryStorage | undefined
  /** The store's clock, epoch ms: downgraded addresses expire counting from the load. */
  clock: () => number
  /** The longest the load runs before it gives the event loop a turn, in ms (`LOAD_SLICE_MS`; tests lower it). */
  loadSliceMs?: number | undefined
}

export interface OpenedStorage {
  db: AnyLevel
  /** The store's path, or a phrase naming the given database, for messages. */
  location: string
  /** Gives a directory opened by path back, after `db` closed. */
  release: (() => Promise<void>) | undefined
  /** The write-ahead journal; only a database opened by path has one (LevelDB's lock makes it ours alone). */
  journal: Journal | undefined
  /** Where each record kind lives, and batches: what the write path writes to. */
  records: RecordDatabase<Sub>
  quarantine: Sub
  index: PeerIndex
  /**
   * Records the load changed, by peer: downgraded addresses, and the first write time of a peer stored before
   * those times existed. The store writes them once it is open.
   */
  changedOnLoad: Map<string, RecordKind[]>
  report: OpenReport
}

/** The longest the load (decoding a chunk, the pass over the entries) runs before the event loop gets a turn, in ms. */
const LOAD_SLICE_MS = 4

/** The typed error for a LevelDB open failure that means damage (missing table, bad MANIFEST or CURRENT). */
function corruptOnOpen(err: unknown, where: string): PeerStoreError | undefined {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } }
  const cause = e.cause ?? e
  const message = cause.message ?? ''
  // A missing MANIFEST (CURRENT names one that is gone) surfaces as an IO error, not a corruption.
  if (
    cause.code === 'LEVEL_CORRUPTION' ||
    (cause.code === 'LEVEL_IO_ERROR' && /MANIFEST|CURRENT|\.ldb|\.sst/.test(message) && !isStorageFull(err))
  ) {
    return new PeerStoreError(
      'ERR_DB_CORRUPT',
      `peer store at ${where} is damaged (${message}); run \`peerscope repair ${where}\``,
      { cause: err }
    )
  }
  return undefined
}

/** LevelDB's open, with its failures as typed errors. */
async function openLevel(db: AnyLevel, where: string): Promise<void> {
  try {
    await db.open()
  } catch (err) {
    const e = err as { code?: string; cause?: { code?: string } }
    if (e.cause?.code === 'LEVEL_LOCKED' || e.code === 'LEVEL_LOCKED') {
      throw new PeerStoreError('ERR_DB_LOCKED', `peer store at ${where} is locked by another process`, {
        cause: err
      })
    }
    if (isStorageFull(err)) {
      throw new PeerStoreError(
        'ERR_STORAGE_FULL',
        `cannot open peer store at ${where}: its file system is full (LevelDB writes a new log and MANIFEST on ` +
          'open); free space there, then open it again',
        { cause: err }
      )
    }
    const corrupt = corruptOnOpen(err, where)
    if (corrupt != null) throw corrupt
    const e2 = err as { cause?: { message?: string } }
    throw new PeerStoreError(
      'ERR_DB_OPEN',
      `cannot open peer store at ${where}${e2.cause?.message === undefined ? '' : ` (${e2.cause.message})`}`,
      { cause: err }
    )
  }
}

/**
 * Atomic batches on `db`. On a database whose keys and values are utf8 text (LevelDB as the store opens it,
 * memory-level), each op carries its sublevel's prefix itself (the bytes the sublevel would write) and goes to the
 * database as is: a sublevel op is checked, copied and prefixed by abstract-level first, which cost about as much
 * main-thread time as LevelDB's own share of the write.
 */
function recordBatch(db: AnyLevel, chained: boolean): RecordDatabase<Sub>['batch'] {
  if (db.keyEncoding().commonName !== 'utf8' || db.valueEncoding().commonName !== 'utf8') {
    return (ops) => db.batch(ops)
  }
  if (chained) return chainedRecordBatch(db)
  return (ops) => {
    const prefixed: Array<{ type: 'put'; key: string; value: string } | { type: 'del'; key: string }> = []
    for (const op of ops) {
      prefixed.push(
        op.type === 'put'
          ? { type: 'put', key: op.sublevel.prefix + op.key, value: op.value }
          : { type: 'del', key: op.sublevel.prefix + op.key }
      )
    }
    return db.batch(prefixed)
  }
}

/**
 * The prefixed ops of `recordBatch` as a chained batch, for LevelDB opened by path (classic-level): its array batch reads every op's
 * fields through N-API property lookups, a chained batch takes each key and value as call arguments, at about
 * half the main-thread time per op. The same ops reach LevelDB as one atomic WriteBatch.
 */
function chainedRecordBatch(db: AnyLevel): RecordDatabase<Sub>['batch'] {
  return async (ops) => {
    const batch = db.batch()
    try {
      for (const op of ops) {
        if (op.type === 'put') batch.put(op.sublevel.prefix + op.key, op.value)
        else batch.del(op.sublevel.prefix + op.key)
      }
    } catch (err) {
      await batch.close()
      throw err
    }
    await batch.write()
  }
}

function sublevel(db: AnyLevel, name: string): Sub {
  return db.sublevel<string, string>(name, { keyEncoding: 'utf8', valueEncoding: 'utf8' }) as Sub
}

/** Opens the database (and its journal) and loads it; closes what it opened when a step fails. */
export async function openStorage(init: OpenStorageInit): Promise<OpenedStorage> {
  let db = init.db
  let prepared: PreparedDirectory | undefined
  const location = init.db == null && init.path != null ? init.path : 'the given database'
  if (db == null) {
    if (init.path == null) {
      throw new PeerStoreError('ERR_INVALID_ARGUMENT', 'openPeerStore needs `path` or `db`')
    }
    if (init.directory == null) {
      throw new PeerStoreError(
        'ERR_INVALID_ARGUMENT',
        `opening a peer store by \`path\` (${init.path}) needs Node.js: this is the platform-neutral entry of ` +
          `@peerscope/peerstore-level; pass an abstract-level database as \`db\`, or on Node import ` +
          `'@peerscope/peerstore-level' (its Node entry) or '@peerscope/peerstore-level/node'`
      )
    }
    prepared = await init.directory.prepare(init.path)
    db = prepared.db
  }
  const release = prepared?.release
  try {
    await openLevel(db, location)
  } catch (err) {
    await release?.()
    throw err
  }
  let journal: Journal | undefined
  try {
    journal = prepared != null && init.path != null ? init.directory?.journal(init.path) : undefined
  } catch (err) {
    await db.close()
    await release?.()
    throw new PeerStoreError('ERR_DB_OPEN', `cannot open the journal of the peer store at ${init.path}`, {
      cause: err
    })
  }
  const sublevels = {} as Record<RecordKind, Sub>
  for (const kind of RECORD_KINDS) sublevels[kind] = sublevel(db, kind)
  const records: RecordDatabase<Sub> = {
    sublevels,
    batch: recordBatch(db, prepared != null),
    ...(prepared == null ? {} : { forceFlush: prepared.forceFlush })
  }
  const quarantine = sublevel(db, 'quarantine')
  try {
    const now = init.clock()
    const replay = await replayJournal(journal, records, location)
    const loaded = await loadIndex(records, quarantine, db, now, init.loadSliceMs ?? LOAD_SLICE_MS)
    return {
      db,
      location,
      release,
      journal,
      records,
      quarantine,
      index: loaded.index,
      changedOnLoad: loaded.changedOnLoad,
      report: {
        ...loaded.report,
        mended: prepared?.mended ?? [],
        logDamage: prepared?.logDamage ?? [],
        journal: replay
      }
    }
  } catch (err) {
    journal?.close()
    await db.close()
    await release?.()
    throw err
  }
}

/** Ops per LevelDB batch when the journal is replayed (the journal is kept until all of them landed). */
const REPLAY_BATCH = 10_000

/**
 * Writes what the journal holds (writes acknowledged before a crash, or kept while LevelDB failed) into LevelDB,
 * then empties it. Damaged lines are reported and their appends dropped; their files are kept under `lost/`.
 */
async function replayJournal(
  journal: Journal | undefined,
  records: RecordDatabase<Sub>,
  location: string
): Promise<JournalReplay> {
  if (journal == null) return { replayed: 0, damage: [], keptAt: [] }
  const contents = journal.read()
  const ops: Array<RecordOp<Sub>> = contents.records.map(({ kind, key, value }) =>
    value == null
      ? { type: 'del' as const, sublevel: records.sublevels[kind], key }
      : { type: 'put' as const, sublevel: records.sublevels[kind], key, value }
  )
  try {
    // Peers removed whole first: what was journaled for them after their removal is in `ops`, and lands after.
    const perBatch = Math.max(1, Math.floor(REPLAY_BATCH / RECORD_KINDS.length))
    for (let i = 0; i < contents.removed.length; i += perBatch) {
      const dels: Array<RecordOp<Sub>> = []
      for (const key of contents.removed.slice(i, i + perBatch)) {
        for (const kind of RECORD_KINDS) dels.push({ type: 'del', sublevel: records.sublevels[kind], key })
      }
      await records.batch(dels)
    }
    for (let i = 0; i < ops.length; i += REPLAY_BATCH) await records.batch(ops.slice(i, i + REPLAY_BATCH))
  } catch (err) {
    throw new PeerStoreError(
      isStorageFull(err) ? 'ERR_STORAGE_FULL' : 'ERR_STORAGE_WRITE',
      `cannot open peer store at ${location}: writing its journal into LevelDB failed (${(err as Error).message}); ` +
        'the journal is kept; ' +
        (isStorageFull(err)
          ? 'free space on its file system, then open it again'
          : 'check the disk, then open it again'),
      { cause: err }
    )
  }
  const damagedFiles = [...new Set(contents.damage.map((d) => d.file))]
  const keptAt = damagedFiles.length > 0 ? journal.keepDamaged(damagedFiles) : []
  journal.clear()
  return { replayed: contents.records.length + contents.removed.length, damage: contents.damage, keptAt }
}

/**
 * Reads every sublevel into a new index; moves undecodable records to `quarantine`; downgrades Connected addrs;
 * stamps a peer with no write time (a store written before they existed) with `now`.
 */
async function loadIndex(
  records: RecordDatabase<Sub>,
  quarantine: Sub,
  db: AnyLevel,
  now: number,
  sliceMs: number
): Promise<{
  index: PeerIndex
  changedOnLoad: Map<string, RecordKind[]>
  report: Pick<OpenReport, 'peers' | 'quarantined' | 'downgraded' | 'unreadable'>
}> {
  const index = new PeerIndex()
  const quarantined: OpenReport['quarantined'] = []
  const bad: Array<{ kind: RecordKind; key: string; value: string }> = []
  const unreadable: OpenReport['unreadable'] = []
  // The entries the first kind read made, in key order, one array per chunk read: a single array of a million grew
  // by copying every element in one step (5 ms and more at 1M). Every kind is read in key order too, so a later
  // kind finds its peer's entry by walking these alongside: no hash lookup of each key, which cost more than
  // decoding.
  const sortedKeys: string[][] = []
  const sortedEntries: PeerEntry[][] = []
  for (const kind of RECORD_KINDS) {
    const first = index.size === 0
    // Where the walk is: chunk `at`, its element `cursor`.
    let at = 0
    let cursor = 0
    // Read in chunks of 1000; a damaged table file costs only the records LevelDB cannot read.
    const damage = await readAll<string, string>(kind, records.sublevels[kind], async (chunk) => {
      const keysMade: string[] = []
      const entriesMade: PeerEntry[] = []
      if (first) {
        sortedKeys.push(keysMade)
        sortedEntries.push(entriesMade)
      }
      // A chunk is a turn of its own (LevelDB's read completes it); decoding its records (a thousand) is sliced too,
      // on a busy machine it took over 10 ms.
      let sliceStart = performance.now()
      for (let i = 0; i < chunk.length; i++) {
        if ((i & 63) === 63 && performance.now() - sliceStart >= sliceMs) {
          await yieldToLoop()
          sliceStart = performance.now()
        }
        const [key, value] = chunk[i]!
        let entry: PeerEntry | undefined
        if (!first) {
          for (; at < sortedKeys.length; at++, cursor = 0) {
            const keys = sortedKeys[at]!
            while (cursor < keys.length && keys[cursor]! < key) cursor++
            if (cursor < keys.length) break
          }
          entry = sortedKeys[at]?.[cursor] === key ? sortedEntries[at]![cursor] : index.get(key)
        }
        try {
          if (entry === undefined) {
            const made = newEntry(peerIdFromKey(key))
            decodeRecord(kind, value, made)
            index.add(key, made)
            if (first) {
              keysMade.push(key)
              entriesMade.push(made)
            }
          } else decodeRecord(kind, value, entry)
        } catch (err) {
          quarantined.push({ kind, key, reason: (err as Error).message })
          bad.push({ kind, key, value })
        }
      }
    })
    if (damage != null) unreadable.push(damage)
  }
  sortedKeys.length = 0
  sortedEntries.length = 0
  let downgraded = 0
  const recentlyConnected = expiryAfter(now, RecentlyConnectedAddrTTL)
  const changedOnLoad = new Map<string, RecordKind[]>()
  let sliceStart = performance.now()
  let n = 0
  for (const [key, entry] of index.entries()) {
    // A million peers take a while: the event loop gets a turn between slices.
    if ((++n & 127) === 0 && performance.now() - sliceStart >= sliceMs) {
      await yieldToLoop()
      sliceStart = performance.now()
    }
    const kinds: RecordKind[] = []
    // Written before per-peer times were stored: it counts as written at this open, once (the time is saved).
    if (entry.updated === undefined) {
      entry.updated = now
      kinds.push('seen')
    }
    let changed = false
    const addrs = entry.addrs
    for (let i = 0; i < addrs.size; i++) {
      // The connections died with the process that held them.
      if (addrs.ttlAt(i) === ConnectedAddrTTL) {
        addrs.updateAt(i, RecentlyConnectedAddrTTL, recentlyConnected, addrs.certifiedAt(i))
        downgraded++
        changed = true
      }
    }
    index.countAddrsOf(entry)
    if (changed) kinds.push('addrs')
    if (kinds.length > 0) changedOnLoad.set(key, kinds)
  }
  if (bad.length > 0) {
    const ops = bad.flatMap(({ kind, key, value }) => [
      { type: 'put' as const, sublevel: quarantine, key: `${kind}/${key}`, value },
      { type: 'del' as const, sublevel: records.sublevels[kind], key }
    ])
    await db.batch(ops)
  }
  return { index, changedOnLoad, report: { peers: index.size, quarantined, downgraded, unreadable } }
}

/**
 * Closes opened storage once the write path has drained: the journal is emptied when every write reached LevelDB,
 * else kept (and said so) for the next open to write in. A batch that failed was reported when it failed.
 */
export async function closeStorage(
  storage: Pick<OpenedStorage, 'db' | 'journal' | 'release'>,
  writes: WritePath<Sub>,
  log: Logger
): Promise<void> {
  const written = await writes.drain()
  if (storage.journal != null) {
    if (written) storage.journal.clear()
    else
      log.error(
        'closing with %d peer(s) not in LevelDB, or LevelDB failed since its last table file: the journal is ' +
          'kept for the next open, which writes it into LevelDB',
        writes.pendingPeers
      )
    storage.journal.close()
  }
  try {
    await storage.db.close()
  } finally {
    await storage.release?.()
  }
}

/** Closes storage whose store never started (its open failed after `openStorage`). */
export async function abandonStorage(
  storage: Pick<OpenedStorage, 'db' | 'journal' | 'release'>
): Promise<void> {
  storage.journal?.close()
  try {
    await storage.db.close()
  } finally {
    await storage.release?.()
  }
}
