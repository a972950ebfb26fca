import {
  type Libp2pMetricsComponents,
  type Libp2pMetricsInit,
  libp2pMetrics,
  type PeerscopeMetrics
} from '@peerscope/metrics'
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
 * Call it once per node: each call makes a fresh configuration (createLibp2p mutates what it is given).
 */
export function peerscope(init: PeerscopeInit = {}): Peerscope {
  const { metrics, ...service } = init
  return {
    metrics: libp2pMetrics(metrics),
    service: peerscopeService(service)
  }
}
