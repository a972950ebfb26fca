// The peer store's GC interval and run record, re-exported where the service's options name them.
export { DEFAULT_GC_INTERVAL, type LastGc } from '@peerscope/peerstore-level'
export {
  DEFAULT_HISTORY,
  History,
  type HistoryOptions,
  HistoryOptionsError,
  type HistoryTierOptions
} from './history/history.ts'
export * from './http/index.ts'
export { loadOrCreatePrivateKey } from './identity.ts'
export { PeerscopeOptionsError } from './options/peerscope-options.ts'
export { interposedStore, interposePeerStore, PEER_STORE_METHODS } from './peer-store/interpose.ts'
export { LOCAL_PEER_KEY } from './peer-store/local-peer.ts'
export type { PeerStoreOptions } from './peer-store/open.ts'
export { type Peerscope, type PeerscopeInit, peerscope } from './peerscope.ts'
export type { HttpOptions } from './service.ts'
export {
  DEFAULT_LATENCY_SAMPLE_INTERVAL,
  FOREIGN_METRICS_WARNING,
  type PeerscopeService,
  type PeerscopeServiceComponents,
  type PeerscopeServiceInit,
  peerscopeService
} from './service.ts'
export { KAD_PEER_TAG, KAD_PIN_REASON } from './swarm/kad-pins.ts'
export { emptyHistory, emptyPeerHistory, offlineView } from './view/offline-view.ts'
