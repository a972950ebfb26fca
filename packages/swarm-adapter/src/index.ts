// The package's API (Node only): the one-line service and its parts, the HTTP server over any view, and what the
// README documents. Route tables, the peer-store interposition and other internals stay inside; tests import them
// from their modules.

// The peer store's GC interval and run record, re-exported where the service's options name them.
export { DEFAULT_GC_INTERVAL, type LastGc } from '@peerscope/peerstore-level'
export {
  DEFAULT_HISTORY,
  History,
  type HistoryOptions,
  HistoryOptionsError,
  type HistoryTierOptions
} from './history/history.ts'
export { HttpListenError, InvalidHttpOptionsError } from './http/errors.ts'
export {
  DEFAULT_HTTP_LIMITS,
  type HttpLimits,
  type HttpLogger,
  type HttpServer,
  type HttpServerOptions,
  startHttpServer
} from './http/server.ts'
export type * from './http/view.ts'
export { loadOrCreatePrivateKey } from './identity.ts'
export { PeerscopeOptionsError } from './options/peerscope-options.ts'
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
export { emptyHistory, emptyPeerHistory } from './view/offline-view.ts'
