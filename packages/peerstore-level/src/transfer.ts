// Whole-store export/import (versioned JSON, lossless) and import of the libp2p-rs `ds_addr_book.txt`.
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { PermanentAddrTTL } from './constants.ts'
import { PeerStoreError } from './errors.ts'
import type { AddAddrsAccess, PeerIndexAccess } from './peer-index-access.ts'
import { decodeRecord, encodeRecord } from './persistence/codec.ts'
import { storableAddrText } from './persistence/stored-multiaddr.ts'
import { type JsonValue, newEntry, type PeerEntry, RECORD_KINDS, type RecordKind } from './types.ts'

export const EXPORT_VERSION = 1

/** One peer in an export: each present record kind in its stored (JSON) form. Latency is not exported. */
export type ExportedPeer = { id: string } & Partial<Record<RecordKind, JsonValue>>

export interface PeerStoreExport {
  version: number
  exportedAt: number
  peers: ExportedPeer[]
}

export function exportStore(store: PeerIndexAccess): PeerStoreExport {
  const peers: ExportedPeer[] = []
  for (const entry of store.entries()) {
    const peer: ExportedPeer = { id: entry.id.toString() }
    let any = false
    for (const kind of RECORD_KINDS) {
      const value = encodeRecord(kind, entry)
      if (value != null) {
        peer[kind] = JSON.parse(value) as JsonValue
        any = true
      }
    }
    if (any) peers.push(peer)
  }
  return { version: EXPORT_VERSION, exportedAt: store.now(), peers }
}

function invalid(message: string, cause?: unknown): PeerStoreError {
  return new PeerStoreError('ERR_INVALID_IMPORT', message, cause == null ? undefined : { cause })
}

/** Each address is listed under its own text (`/ip6/0:0:0:0:0:0:0:1` would be a second key for `/ip6/::1`). */
function checkAddrTexts(entry: PeerEntry): void {
  for (const [key, a] of entry.addrs) {
    if (storableAddrText(a.multiaddr) !== key) throw new Error(`addrs: ${key} is not a multiaddr's own text`)
  }
}

/**
 * Validates the whole document first (the store then checks its limits on every peer), then replaces each listed
 * peer in one atomic batch.
 */
export async function importStore(store: PeerIndexAccess, data: unknown): Promise<number> {
  const doc = data as Partial<PeerStoreExport> | null
  if (doc == null || typeof doc !== 'object' || doc.version !== EXPORT_VERSION || !Array.isArray(doc.peers)) {
    throw invalid(`expected a version ${EXPORT_VERSION} peer store export`)
  }
  const entries: PeerEntry[] = []
  for (const peer of doc.peers) {
    let entry: PeerEntry
    try {
      entry = newEntry(peerIdFromString(String(peer?.id)))
      for (const kind of RECORD_KINDS) {
        const value = peer[kind]
        if (value !== undefined) decodeRecord(kind, JSON.stringify(value), entry)
      }
      checkAddrTexts(entry)
    } catch (err) {
      throw invalid(`bad peer ${String(peer?.id)} in import: ${(err as Error).message}`, err)
    }
    entries.push(entry)
  }
  await store.replaceEntries(entries)
  return entries.length
}

interface RustAddr {
  addr: string
  ttl: { secs: number; nanos: number }
}

/**
 * Imports libp2p-rs `ds_addr_book.txt`: `{ "<peer id>": [{ "addr", "ttl": { "secs", "nanos" } }] }`.
 * TTLs count from now (the file holds no expiry); a TTL at or past ConnectedAddrTTL becomes Permanent.
 * Addresses are added with AddAddrs rules. Returns the number of peers read.
 */
export async function importRustAddrBook(store: AddAddrsAccess, text: string): Promise<number> {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw invalid('ds_addr_book is not JSON', err)
  }
  if (doc == null || typeof doc !== 'object' || Array.isArray(doc))
    throw invalid('ds_addr_book: not an object')
  const plan: Array<{
    id: ReturnType<typeof peerIdFromString>
    groups: Map<number, ReturnType<typeof multiaddr>[]>
  }> = []
  for (const [key, list] of Object.entries(doc as Record<string, RustAddr[]>)) {
    try {
      if (!Array.isArray(list)) throw new Error('not a list')
      const groups = new Map<number, ReturnType<typeof multiaddr>[]>()
      for (const item of list) {
        const { secs, nanos } = item.ttl
        if (typeof secs !== 'number' || typeof nanos !== 'number' || secs < 0 || nanos < 0) {
          throw new Error('bad ttl')
        }
        const ms = secs * 1000 + nanos / 1e6
        const ttl = ms >= PermanentAddrTTL - 1 ? PermanentAddrTTL : ms
        const group = groups.get(ttl) ?? []
        group.push(multiaddr(item.addr))
        groups.set(ttl, group)
      }
      plan.push({ id: peerIdFromString(key), groups })
    } catch (err) {
      throw invalid(`ds_addr_book: bad entry for ${key}: ${(err as Error).message}`, err)
    }
  }
  const writes: Promise<void>[] = []
  for (const { id, groups } of plan) {
    for (const [ttl, addrs] of groups) writes.push(store.addAddrs(id, addrs, ttl))
  }
  await Promise.all(writes)
  return plan.length
}
