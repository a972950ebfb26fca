export {
  AddressTTL,
  ConnectedAddrTTL,
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
export {
  type LegacyDatastore,
  type MigrateOptions,
  type MigrateReport,
  migrateFromLibp2pDatastore
} from './migrate.ts'
export { DEFAULT_MAX_PEER_AGE } from './peer-age.ts'
export { type RepairReport, repairPeerStore, type VerifyReport, verifyPeerStore } from './repair.ts'
export {
  type GcOptions,
  LevelPeerStore,
  type OpenPeerStoreInit,
  openPeerStore,
  type PeerStoreLimits
} from './store.ts'
export { checkTableFile, type TableFileCheck } from './table-file.ts'
export { EXPORT_VERSION, type ExportedPeer, type PeerStoreExport } from './transfer.ts'
export type {
  AddrInfo,
  GcStats,
  JsonValue,
  MendedTable,
  MetadataValue,
  OpenReport,
  QuarantinedRecord,
  UnreadableRecords
} from './types.ts'
