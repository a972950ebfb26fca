// The platform-neutral entry (browsers, any runtime): a peer store on any abstract-level database (`db`); no
// `node:` module, `level` or @peerscope/leveldb-mend is reachable from here. The Node entry (node.ts) opens LevelDB
// directories (`path`) and verifies and repairs them.

export type { AddrList, AddrState } from './addr-list.ts'
export {
  AddressTTL,
  ConnectedAddrTTL,
  DEFAULT_GC_INTERVAL,
  LatencyEWMASmoothing,
  PermanentAddrTTL,
  RecentlyConnectedAddrTTL,
  TempAddrTTL
} from './constants.ts'
export { PeerStoreError, type PeerStoreErrorCode } from './errors.ts'
export {
  type AddressFilter,
  Libp2pPeerStore,
  type Libp2pPeerStoreInit,
  type PeerUpdateEvents
} from './libp2p/peer-store.ts'
export type { StoreLimits } from './limits.ts'
export {
  type LegacyDatastore,
  type MigrateOptions,
  type MigrateReport,
  migrateFromLibp2pDatastore
} from './migrate.ts'
export { openReportWarnings } from './open-report.ts'
export type { GcOptions, OpenPeerStoreInit, PeerStoreLimits } from './options.ts'
export { DEFAULT_MAX_PEER_AGE } from './peer-age.ts'
export type { AddAddrsAccess, Libp2pViewAccess, PeerIndexAccess } from './peer-index-access.ts'
export { LevelPeerStore, openPeerStore } from './store.ts'
export { EXPORT_VERSION, type ExportedPeer, type PeerStoreExport } from './transfer.ts'
export type {
  AddrInfo,
  BatchFailure,
  GcStats,
  JournalDamage,
  JournalReplay,
  JsonValue,
  LastGc,
  LevelPeerStoreEvents,
  LogDamage,
  MendedTable,
  MetadataValue,
  OpenReport,
  PeerEntry,
  QuarantinedRecord,
  RecordKind,
  SignedRecord,
  StorageStatus,
  TagEntry,
  UnreadableRecords
} from './types.ts'
