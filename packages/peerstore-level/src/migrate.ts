// Migration from js-libp2p's default peer store: `/peers/<base32 CID>` keys holding `Peer` protobufs
// (@libp2p/peer-store 12, pb/peer.proto) in any interface-datastore, e.g. datastore-level.
import { publicKeyFromProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromCID } from '@libp2p/peer-id'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { multiaddr } from '@multiformats/multiaddr'
import { CID } from 'multiformats/cid'
import { reader } from 'protons-runtime'
import { AddressTTL } from './constants.ts'
import { PeerStoreError } from './errors.ts'
import { checkEntryLimits } from './limits.ts'
import { peerKey } from './peer-index.ts'
import type { PeerIndexAccess } from './peer-index-access.ts'
import { storableAddrText } from './persistence/stored-multiaddr.ts'
import { editMetadata, editTags, newEntry, type PeerEntry } from './types.ts'

interface LegacyPair {
  key: { toString(): string }
  value: Uint8Array
}

/** The part of an interface-datastore `Datastore` the migration reads. */
export interface LegacyDatastore {
  query(query: { prefix?: string }): AsyncIterable<LegacyPair> | Iterable<LegacyPair>
}

export interface MigrateOptions {
  /**
   * TTL (ms) of migrated addresses, counted from each address's recorded `observed` time, as the old store
   * would have expired them (default AddressTTL, 1 h). Already-expired addresses are skipped.
   */
  addressTtl?: number
}

export interface MigrateReport {
  peers: number
  addrs: number
  /** Keys that could not be decoded: skipped, never fatal. */
  skipped: Array<{ key: string; reason: string }>
}

const WIRE_LEN = 2

type Reader = ReturnType<typeof reader>

function sub(r: Reader): Reader {
  return reader(r.bytes())
}

function decodeAddress(r: Reader): { bytes: Uint8Array; certified: boolean; observed: number | undefined } {
  const out = { bytes: new Uint8Array(), certified: false, observed: undefined as number | undefined }
  while (r.pos < r.len) {
    const tag = r.uint32()
    if (tag >>> 3 === 1) out.bytes = r.bytes()
    else if (tag >>> 3 === 2) out.certified = r.bool()
    else if (tag >>> 3 === 3) out.observed = r.uint64Number()
    else r.skipType(tag & 7)
  }
  return out
}

function decodeEntry(r: Reader, value: (r: Reader) => void): string {
  let key = ''
  while (r.pos < r.len) {
    const tag = r.uint32()
    if (tag >>> 3 === 1) key = r.string()
    else if (tag >>> 3 === 2 && (tag & 7) === WIRE_LEN) value(r)
    else r.skipType(tag & 7)
  }
  return key
}

function decodePeer(entry: PeerEntry, buf: Uint8Array, now: number, ttl: number): number {
  const r = reader(buf)
  let addrs = 0
  while (r.pos < r.len) {
    const tag = r.uint32()
    switch (tag >>> 3) {
      case 1: {
        const a = decodeAddress(sub(r))
        const ma = multiaddr(a.bytes)
        if (storableAddrText(ma) === undefined) {
          throw new Error(
            `the address ${JSON.stringify(ma.toString())} does not read back as itself from its text`
          )
        }
        const expiresAt = (a.observed ?? now) + ttl
        if (expiresAt > now) {
          entry.addrs.set(ma.toString(), { multiaddr: ma, ttl, expiresAt, certified: a.certified })
          addrs++
        }
        break
      }
      case 2:
        entry.protocols.push(r.string())
        break
      case 4:
        entry.publicKey = publicKeyFromProtobuf(r.bytes())
        break
      case 5: {
        const envelope = new Uint8Array(r.bytes())
        const record = PeerRecord.createFromProtobuf(RecordEnvelope.createFromProtobuf(envelope).payload)
        entry.record = { seq: record.seqNumber, envelope }
        break
      }
      case 6: {
        let value = new Uint8Array()
        const key = decodeEntry(sub(r), (m) => {
          value = new Uint8Array(m.bytes())
        })
        editMetadata(entry).set(key, value)
        break
      }
      case 7: {
        let tagValue = 0
        let expiry: number | undefined
        const key = decodeEntry(sub(r), (m) => {
          const t = sub(m)
          while (t.pos < t.len) {
            const f = t.uint32()
            if (f >>> 3 === 1) tagValue = t.uint32()
            else if (f >>> 3 === 2) expiry = t.uint64Number()
            else t.skipType(f & 7)
          }
        })
        if (expiry == null || expiry > now) {
          editTags(entry).set(key, { value: tagValue, expiresAt: expiry ?? Number.POSITIVE_INFINITY })
        }
        break
      }
      case 8:
        // When the old store last wrote the peer: peer ageing goes on from there.
        entry.updated = r.uint64Number()
        break
      default:
        r.skipType(tag & 7)
    }
  }
  entry.protocols = [...new Set(entry.protocols)]
  entry.addrs.trim()
  return addrs
}

/**
 * Copies every peer of a js-libp2p default peer store into `store` (one atomic batch; migrated peers
 * replace any entries of the same ids). Undecodable records are skipped and listed in the report.
 */
export async function migrateFromLibp2pDatastore(
  store: PeerIndexAccess,
  datastore: LegacyDatastore,
  options: MigrateOptions = {}
): Promise<MigrateReport> {
  const ttl = options.addressTtl ?? AddressTTL
  if (!Number.isFinite(ttl) || ttl <= 0) {
    throw new PeerStoreError('ERR_INVALID_TTL', `addressTtl must be a positive number of ms, got ${ttl}`)
  }
  const now = store.now()
  const entries: PeerEntry[] = []
  const report: MigrateReport = { peers: 0, addrs: 0, skipped: [] }
  for await (const { key, value } of datastore.query({ prefix: '/peers/' })) {
    const name = key.toString()
    try {
      const cid = CID.parse(name.slice(name.lastIndexOf('/') + 1))
      const entry = newEntry(peerIdFromCID(cid))
      peerKey(entry.id)
      const addrs = decodePeer(entry, value, now, ttl)
      if (entry.addrs.size === 0) entry.record = undefined
      // A peer past a limit is skipped and listed; raise the limit and migrate again to keep it.
      checkEntryLimits(entry, store.limits)
      report.addrs += addrs
      entries.push(entry)
    } catch (err) {
      report.skipped.push({ key: name, reason: (err as Error).message })
    }
  }
  await store.replaceEntries(entries)
  report.peers = entries.length
  return report
}
