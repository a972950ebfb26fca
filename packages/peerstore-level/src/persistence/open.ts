// Opening a store's storage, in order: the mend hook (a store opened by path has its damaged table files mended
// before LevelDB reads them), LevelDB's open (a locked or damaged database fails with a typed error), the journal
// (what it holds is written into LevelDB first), then every record loaded into a new peer index: undecodable
// records are quarantined, Connected addresses are downgraded (the connections died with the process), and a peer
// stored before write times existed gets one. Closing is here too: the journal is kept if a write missed LevelDB.

import type { Logger } from '@libp2p/interface'
import type { AbstractLevel, AbstractSublevel } from 'abstract-level'
import { ConnectedAddrTTL, RecentlyConnectedAddrTTL } from '../constants.ts'
import { PeerStoreError } from '../errors.ts'
import { expiryAfter } from '../expiry.ts'
import { PeerIndex } from '../peer-index.ts'
import { readAll } from '../read-all.ts'
import { type MendedTable, newEntry, type OpenReport, RECORD_KINDS, type RecordKind } from '../types.ts'
import { decodeRecord } from './codec.ts'
import type { Journal } from './journal.ts'
import { peerIdFromKey } from './peer-key.ts'
import type { RecordDatabase, WritePath } from './write-path.ts'

// biome-ignore lint/suspicious/noExplicitAny: abstract-level's generics differ per backend
export type AnyLevel = AbstractLevel<any, string, string>
export type Sub = AbstractSublevel<AnyLevel, string | Buffer | Uint8Array, string, string>

/**
 * Opening a LevelDB by its directory, which only Node can do: the Node entry gives it (persistence/directory.ts,
 * with the mend hook, `level` and the journal), so the platform-neutral entry reaches no `node:` module.
 */
export interface DirectoryStorage {
  /** Refuses a directory LevelDB would mistreat, mends damaged table files, and makes (not opens) its LevelDB. */
  prepare(path: string): Promise<{ db: AnyLevel; mended: MendedTable[] }>
  /** The write-ahead journal in the directory of an open LevelDB (whose lock makes it ours alone). */
  journal(path: string): Journal
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
}

export interface OpenedStorage {
  db: AnyLevel
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

/** The typed error for a LevelDB open failure that means damage (missing table, bad MANIFEST or CURRENT). */
function corruptOnOpen(err: unknown, where: string): PeerStoreError | undefined {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } }
  const cause = e.cause ?? e
  const message = cause.message ?? ''
  // A missing MANIFEST (CURRENT names one that is gone) surfaces as an IO error, not a corruption.
  if (
    cause.code === 'LEVEL_CORRUPTION' ||
    (cause.code === 'LEVEL_IO_ERROR' && /MANIFEST-\d+/.test(message))
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
    const corrupt = corruptOnOpen(err, where)
    if (corrupt != null) throw corrupt
    throw new PeerStoreError('ERR_DB_OPEN', `cannot open peer store at ${where}`, { cause: err })
  }
}

function sublevel(db: AnyLevel, name: string): Sub {
  return db.sublevel<string, string>(name, { keyEncoding: 'utf8', valueEncoding: 'utf8' }) as Sub
}

/** Opens the database (and its journal) and loads it; closes what it opened when a step fails. */
export async function openStorage(init: OpenStorageInit): Promise<OpenedStorage> {
  let db = init.db
  let mended: MendedTable[] = []
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
    ;({ db, mended } = await init.directory.prepare(init.path))
  }
  await openLevel(db, init.path ?? 'the given database')
  let journal: Journal | undefined
  try {
    journal = init.db == null && init.path != null ? init.directory?.journal(init.path) : undefined
  } catch (err) {
    await db.close()
    throw new PeerStoreError('ERR_DB_OPEN', `cannot open the journal of the peer store at ${init.path}`, {
      cause: err
    })
  }
  const sublevels = {} as Record<RecordKind, Sub>
  for (const kind of RECORD_KINDS) sublevels[kind] = sublevel(db, kind)
  const opened = db
  const records: RecordDatabase<Sub> = { sublevels, batch: (ops) => opened.batch(ops) }
  const quarantine = sublevel(db, 'quarantine')
  try {
    const now = init.clock()
    await replayJournal(journal, records)
    const loaded = await loadIndex(records, quarantine, db, now)
    return {
      db,
      journal,
      records,
      quarantine,
      index: loaded.index,
      changedOnLoad: loaded.changedOnLoad,
      report: { ...loaded.report, mended }
    }
  } catch (err) {
    journal?.close()
    await db.close()
    throw err
  }
}

/** Writes what the journal holds (writes acknowledged before a crash) into LevelDB, then empties it. */
async function replayJournal(journal: Journal | undefined, records: RecordDatabase<Sub>): Promise<void> {
  if (journal == null) return
  const ops = journal
    .pending()
    .map(({ kind, key, value }) =>
      value == null
        ? { type: 'del' as const, sublevel: records.sublevels[kind], key }
        : { type: 'put' as const, sublevel: records.sublevels[kind], key, value }
    )
  if (ops.length > 0) await records.batch(ops)
  journal.clear()
}

/**
 * Reads every sublevel into a new index; moves undecodable records to `quarantine`; downgrades Connected addrs;
 * stamps a peer with no write time (a store written before they existed) with `now`.
 */
async function loadIndex(
  records: RecordDatabase<Sub>,
  quarantine: Sub,
  db: AnyLevel,
  now: number
): Promise<{
  index: PeerIndex
  changedOnLoad: Map<string, RecordKind[]>
  report: Omit<OpenReport, 'mended'>
}> {
  const index = new PeerIndex()
  const quarantined: OpenReport['quarantined'] = []
  const bad: Array<{ kind: RecordKind; key: string; value: string }> = []
  const unreadable: OpenReport['unreadable'] = []
  for (const kind of RECORD_KINDS) {
    // Read in chunks of 1000; a damaged table file costs only the records LevelDB cannot read.
    const damage = await readAll<string, string>(kind, records.sublevels[kind], (chunk) => {
      for (const [key, value] of chunk) {
        let entry = index.get(key)
        try {
          if (entry == null) entry = newEntry(peerIdFromKey(key))
          decodeRecord(kind, value, entry)
          index.add(key, entry)
        } catch (err) {
          quarantined.push({ kind, key, reason: (err as Error).message })
          bad.push({ kind, key, value })
        }
      }
    })
    if (damage != null) unreadable.push(damage)
  }
  let downgraded = 0
  const changedOnLoad = new Map<string, RecordKind[]>()
  for (const [key, entry] of index.entries()) {
    const kinds: RecordKind[] = []
    // Written before per-peer times were stored: it counts as written at this open, once (the time is saved).
    if (entry.updated === undefined) {
      entry.updated = now
      kinds.push('seen')
    }
    let changed = false
    for (const a of entry.addrs.values()) {
      // The connections died with the process that held them.
      if (a.ttl === ConnectedAddrTTL) {
        a.ttl = RecentlyConnectedAddrTTL
        const expiry = expiryAfter(now, RecentlyConnectedAddrTTL)
        a.expiresAt = expiry.expiresAt
        if (expiry.expiresAtNs === undefined) delete a.expiresAtNs
        else a.expiresAtNs = expiry.expiresAtNs
        downgraded++
        changed = true
      }
    }
    if (changed) kinds.push('addrs')
    if (kinds.length > 0) changedOnLoad.set(key, kinds)
  }
  index.countLoaded()
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
  storage: Pick<OpenedStorage, 'db' | 'journal'>,
  writes: WritePath<Sub>,
  log: Logger
): Promise<void> {
  const written = await writes.drain()
  if (storage.journal != null) {
    if (written) storage.journal.clear()
    else
      log.error(
        'closing with %d peer(s) not in LevelDB: kept in the journal for the next open',
        writes.pendingPeers
      )
    storage.journal.close()
  }
  await storage.db.close()
}
