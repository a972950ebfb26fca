// The Node entry: everything of the platform-neutral entry (index.ts), with an `openPeerStore` that also opens a
// LevelDB directory (`path`: table files mended first, a write-ahead journal), and verify and repair of one.
// `@peerscope/peerstore-level` resolves here under the `node` export condition; `@peerscope/peerstore-level/node`
// names it explicitly.
export type { TableFileCheck } from '@peerscope/leveldb-mend'
export * from './index.ts'
export { openPeerStore } from './node-open.ts'
export { type RepairReport, repairPeerStore, type VerifyReport, verifyPeerStore } from './repair.ts'
