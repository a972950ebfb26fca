import {
  type Libp2pMetricsComponents,
  type Libp2pMetricsInit,
  libp2pMetrics,
  type PeerscopeMetrics
} from '@peerscope/metrics'
import { validatePeerscopeInit } from './options/peerscope-options.ts'
import {
  type PeerscopeService,
  type PeerscopeServiceComponents,
  type PeerscopeServiceInit,
  peerscopeService
} from './service.ts'

export interface PeerscopeInit extends PeerscopeServiceInit {
  metrics?: Libp2pMetricsInit
}

/** The two halves to hand to `createLibp2p`: libp2p builds `metrics` before services, so they are separate. */
export interface Peerscope {
  metrics: (components: Libp2pMetricsComponents) => PeerscopeMetrics
  service: (components: PeerscopeServiceComponents) => PeerscopeService
}

/**
 * Everything peerscope gives a node, for one node:
 *
 * ```ts
 * const ps = peerscope({ peerStore: { path: './peerstore' }, http: { port: 9102 } })
 * const node = await createLibp2p({ ...transports, metrics: ps.metrics, services: { peerscope: ps.service } })
 * ```
 *
 * Call it once per node: each call makes a fresh configuration (createLibp2p mutates what it is given). Every
 * option is checked now: a misspelled, mistyped or out-of-range one throws `PeerscopeOptionsError`
 * (`ERR_INVALID_OPTIONS`, its `option` names it), as does a missing `peerStore` location.
 */
export function peerscope(init: PeerscopeInit = {}): Peerscope {
  validatePeerscopeInit(init)
  const { metrics, ...service } = init
  return {
    metrics: libp2pMetrics(metrics),
    service: peerscopeService(service)
  }
}
