import type {
  ComponentLogger,
  Connection,
  ConnectionGater,
  IdentifyResult,
  Libp2pEvents,
  Logger,
  PeerId,
  PeerStore,
  PeerUpdate,
  PrivateKey,
  Startable,
  TypedEventTarget
} from '@libp2p/interface'
import { serviceCapabilities } from '@libp2p/interface'
import type { AddressManager, ConnectionManager } from '@libp2p/interface-internal'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PeerscopeMetrics } from '@peerscope/metrics'
import {
  type GcStats,
  type LastGc,
  type LevelPeerStore,
  Libp2pPeerStore,
  openReportWarnings,
  PeerStoreError
} from '@peerscope/peerstore-level'
import { History, type HistoryOptions } from './history/history.ts'
import { HistorySampler } from './history/sampler.ts'
import { type HttpServer, type HttpServerOptions, startHttpServer } from './http/server.ts'
import { validateServiceInit } from './options/peerscope-options.ts'
import { deferredPeerStore } from './peer-store/deferred.ts'
import { interposePeerStore } from './peer-store/interpose.ts'
import { markLocalPeer } from './peer-store/local-peer.ts'
import { configuredStorePath, openConfiguredStore, type PeerStoreOptions } from './peer-store/open.ts'
import { AddressTtlRules } from './swarm/address-ttl.ts'
import { syncKadPin } from './swarm/kad-pins.ts'
import { LatencySampler } from './swarm/latency.ts'
import { KeyedSerialQueue } from './swarm/serial.ts'
import { StreamTally } from './swarm/stream-tally.ts'
import { liveView } from './view/live-view.ts'

/** Registered by libp2p's built-in peer store, which peerscope's replaces: not exported. */
const REPLACED_STORE_METRIC = 'libp2p_peer_store_locks'
export const DEFAULT_LATENCY_SAMPLE_INTERVAL = 10_000

/** The HTTP API and dashboard; off unless given. */
export type HttpOptions = Omit<HttpServerOptions, 'view'>

export interface PeerscopeServiceInit {
  /** Where the peer store lives (`path`, `db` or `memory: true`: required, there is no default) and its knobs. */
  peerStore?: PeerStoreOptions
  http?: HttpOptions | false
  /** How often ping RTTs measured by libp2p's connection monitor are read into the store (ms, default 10 s; 0 off). */
  latencySampleInterval?: number
  /** The samples the dashboard charts (kept only with `http` on); `false` keeps none. See `HistoryOptions`. */
  history?: HistoryOptions | false
}

export interface PeerscopeServiceComponents {
  peerId: PeerId
  privateKey: PrivateKey
  peerStore: PeerStore
  events: TypedEventTarget<Libp2pEvents>
  connectionManager: ConnectionManager
  addressManager: AddressManager
  nodeInfo: { userAgent: string }
  logger: ComponentLogger
  connectionGater?: ConnectionGater
  metrics?: unknown
}

/** What a running node exposes to the HTTP view and to users: `node.services.peerscope`. */
export interface PeerscopeService {
  /** The persistent TTL peer store behind `node.peerStore`; rejects while it cannot be opened. */
  store(): Promise<LevelPeerStore>
  /** Runs the address GC now (the store also runs it every `peerStore.gcInterval` ms). */
  gc(): Promise<GcStats>
  /** The store's last completed GC run, by its timer or by `gc()`. */
  readonly lastGc: LastGc | undefined
  /** Resolves when every swarm event received so far has been applied to the store (for tests and tools). */
  settled(): Promise<void>
  /** Base URL of the HTTP API and dashboard while the node runs with `http` on, else `undefined`. */
  readonly httpUrl: string | undefined
}

function isPeerscopeMetrics(metrics: unknown): metrics is PeerscopeMetrics {
  return (
    typeof metrics === 'object' &&
    metrics !== null &&
    (metrics as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] === '@peerscope/metrics'
  )
}

class PeerscopeServiceImpl implements PeerscopeService, Startable {
  readonly [Symbol.toStringTag] = '@peerscope/swarm-adapter'
  readonly [serviceCapabilities] = ['@peerscope/peer-store']

  readonly #components: PeerscopeServiceComponents
  readonly #init: PeerscopeServiceInit
  readonly #log: Logger
  readonly #queue: KeyedSerialQueue
  #opening: Promise<{ store: LevelPeerStore; api: Libp2pPeerStore }> | undefined
  /** The store opened last (still readable after it closed: its last GC run). */
  #store: LevelPeerStore | undefined
  #rules: AddressTtlRules | undefined
  #latency: LatencySampler | undefined
  #http: HttpServer | undefined
  /** Dashboard history and stream counts: only with `http` on. */
  readonly #history: History | undefined
  readonly #streams: StreamTally | undefined
  #sampler: HistorySampler | undefined
  #running = false
  /** Set once the store is closed at stop, until the next start: nothing may reopen it in between. */
  #closed = false

  constructor(components: PeerscopeServiceComponents, init: PeerscopeServiceInit = {}) {
    this.#components = components
    this.#init = init
    this.#log = components.logger.forComponent('peerscope:service')
    this.#queue = new KeyedSerialQueue((err) => this.#log.error('applying a swarm event failed - %e', err))
    // libp2p builds its own store and shares that one object with every component; route it to ours now,
    // before anything starts, so no component ever writes to the built-in one.
    interposePeerStore(
      components.peerStore,
      deferredPeerStore(async () => (await this.#open()).api)
    )
    // libp2p's built-in store registered its per-peer lock count; that store is never used now (ours has no
    // per-peer locks), so the gauge would read 0 for ever.
    if (isPeerscopeMetrics(components.metrics)) components.metrics.removeMetric(REPLACED_STORE_METRIC)
    // Start opening at once so early calls wait on a store that is already on its way; a failure (e.g. the
    // database is locked) is thrown by start(), and logged here in case the node is never started.
    this.#open().catch((err) => this.#log('opening the peer store failed; start() reports it - %e', err))
    const dashboard = init.http !== undefined && init.http !== false
    this.#history = dashboard && init.history !== false ? new History(init.history) : undefined
    this.#streams = dashboard
      ? StreamTally.install(components.metrics, () => components.connectionManager.getConnections())
      : undefined
  }

  get lastGc(): LastGc | undefined {
    return this.#store?.lastGc
  }

  async store(): Promise<LevelPeerStore> {
    return (await this.#open()).store
  }

  #open(): Promise<{ store: LevelPeerStore; api: Libp2pPeerStore }> {
    // libp2p components can still call the store after the node stopped (the address manager's debounced
    // self-address update fires late); reopening here would leave a database open that nothing closes.
    if (this.#closed) {
      return Promise.reject(
        new PeerStoreError('ERR_CLOSED', 'the peerscope peer store is closed: the node is stopped')
      )
    }
    this.#opening ??= (async () => {
      const { peerId, privateKey, events } = this.#components
      const options = this.#init.peerStore ?? {}
      const store = await openConfiguredStore(options, { peerId, privateKey }, this.#components.logger)
      this.#store = store
      for (const line of openReportWarnings(store.openReport, configuredStorePath(options))) {
        this.#log.error('peer store: %s', line)
      }
      // Offline readers (the CLI, `peerscope serve`) leave the same peer out of their counts as this node does.
      await markLocalPeer(store, peerId)
      // As libp2p configures its built-in store: the gater's address filter, unless the options give one.
      const gater = this.#components.connectionGater
      const addressFilter =
        options.addressFilter ??
        (gater?.filterMultiaddrForPeer == null
          ? undefined
          : (peer: PeerId, ma: Multiaddr) => gater.filterMultiaddrForPeer?.(peer, ma) ?? true)
      const api = new Libp2pPeerStore(store, {
        peerId,
        events,
        ...(options.addressTtl === undefined ? {} : { addressTtl: options.addressTtl }),
        ...(options.maxPeerAge === undefined ? {} : { maxPeerAge: options.maxPeerAge }),
        ...(addressFilter === undefined ? {} : { addressFilter })
      })
      return { store, api }
    })()
    return this.#opening
  }

  async beforeStart(): Promise<void> {
    this.#closed = false
    const { store } = await this.#open()
    this.#rules = new AddressTtlRules(store)
    this.#latency = new LatencySampler(store, () => this.#components.connectionManager.getConnections())
  }

  async start(): Promise<void> {
    const { events } = this.#components
    events.addEventListener('connection:open', this.#onConnectionOpen)
    events.addEventListener('peer:identify', this.#onIdentify)
    events.addEventListener('peer:disconnect', this.#onDisconnect)
    events.addEventListener('peer:update', this.#onPeerUpdate)
    const latencyInterval = this.#init.latencySampleInterval ?? DEFAULT_LATENCY_SAMPLE_INTERVAL
    if (latencyInterval > 0) this.#latency?.start(latencyInterval)
    this.#running = true
  }

  /** The HTTP server starts once the transports listen, so the node's addresses are known. */
  async afterStart(): Promise<void> {
    const http = this.#init.http
    if (http === undefined || http === false) return
    const { peerId, addressManager, nodeInfo, connectionManager, metrics } = this.#components
    const peerscopeMetrics = isPeerscopeMetrics(metrics) ? metrics : undefined
    if (peerscopeMetrics === undefined) warnForeignMetrics(metrics, this.#log)
    if (this.#history !== undefined) {
      this.#sampler = new HistorySampler({
        history: this.#history,
        bandwidth: peerscopeMetrics?.bandwidth,
        connections: () => connectionManager.getConnections(),
        store: await this.store(),
        lastGc: () => this.lastGc,
        streams: this.#streams
      })
      this.#sampler.start()
    }
    const view = liveView({
      peerId,
      addresses: () => addressManager.getAddresses().map(String),
      agent: nodeInfo.userAgent,
      connections: () => connectionManager.getConnections(),
      store: () => this.store(),
      metrics: peerscopeMetrics,
      lastGc: () => this.lastGc,
      history: this.#history,
      streams: this.#streams
    })
    this.#http = await startHttpServer(
      { ...http, view, logger: this.#log },
      { host: 'http.host', port: 'http.port' }
    )
    this.#log('HTTP API and dashboard at %s', this.#http.url)
  }

  get httpUrl(): string | undefined {
    return this.#http?.url
  }

  async stop(): Promise<void> {
    // The node is about to close every connection, after this service stopped listening for disconnects:
    // apply go's last-disconnect rule now (at most 20 addrs down to RecentlyConnectedAddrTTL), as on any
    // disconnect, rather than leave ConnectedAddrTTL on disk for the next open's blanket downgrade.
    const connected = new Map<string, PeerId>()
    for (const connection of this.#components.connectionManager.getConnections()) {
      connected.set(connection.remotePeer.toString(), connection.remotePeer)
    }
    for (const peer of connected.values()) this.#apply(peer, (rules) => rules.onLastDisconnect(peer))
    this.#running = false
    this.#sampler?.stop()
    await this.#http?.close()
    this.#http = undefined
    const { events } = this.#components
    events.removeEventListener('connection:open', this.#onConnectionOpen)
    events.removeEventListener('peer:identify', this.#onIdentify)
    events.removeEventListener('peer:disconnect', this.#onDisconnect)
    events.removeEventListener('peer:update', this.#onPeerUpdate)
    this.#latency?.stop()
  }

  /** Other components may still write while they stop, so the store closes only after every one has. */
  async afterStop(): Promise<void> {
    await this.#queue.idle()
    this.#closed = true
    const opening = this.#opening
    this.#opening = undefined
    if (opening !== undefined) await (await opening).store.close()
  }

  async gc(): Promise<GcStats> {
    const { store } = await this.#open()
    return store.gc()
  }

  settled(): Promise<void> {
    return this.#queue.idle()
  }

  readonly #onConnectionOpen = (evt: CustomEvent<Connection>): void => {
    const connection = evt.detail
    this.#apply(connection.remotePeer, (rules) => rules.onConnectionOpen(connection))
  }

  readonly #onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    const result = evt.detail
    this.#apply(result.peerId, (rules) => {
      const connected = this.#components.connectionManager.getConnections(result.peerId).length > 0
      return rules.onIdentify(result, connected)
    })
  }

  readonly #onDisconnect = (evt: CustomEvent<PeerId>): void => {
    this.#apply(evt.detail, (rules) => rules.onLastDisconnect(evt.detail))
  }

  readonly #onPeerUpdate = (evt: CustomEvent<PeerUpdate>): void => {
    const update = evt.detail
    void this.#queue.run(`pin:${update.peer.id.toString()}`, async () => {
      await syncKadPin((await this.#open()).store, update)
    })
  }

  #apply(peer: PeerId, task: (rules: AddressTtlRules) => Promise<void>): void {
    const rules = this.#rules
    if (!this.#running || rules === undefined) return
    void this.#queue.run(peer.toString(), () => task(rules))
  }
}

/** Code of the warning emitted when the node's metrics are not peerscope's (`process.on('warning')` sees it). */
export const FOREIGN_METRICS_WARNING = 'PEERSCOPE_FOREIGN_METRICS'

/**
 * Without peerscope's metrics the HTTP API and dashboard have no bandwidth to show and would serve zeros as if
 * the node were idle: say so where an operator sees it (a process warning on stderr), once per node start.
 */
function warnForeignMetrics(metrics: unknown, log: Logger): void {
  const found =
    metrics === undefined
      ? 'the node has no metrics'
      : `the node's metrics are ${(metrics as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] ?? 'another implementation'}, not peerscope's`
  const message =
    `peerscope: ${found}, so the HTTP API and dashboard show zero bandwidth; pass the metrics half to ` +
    'createLibp2p: `const ps = peerscope({...}); createLibp2p({ metrics: ps.metrics, services: { peerscope: ps.service } })`'
  log.error('%s', message)
  process.emitWarning(message, { type: 'PeerscopeWarning', code: FOREIGN_METRICS_WARNING })
}

/**
 * The service factory for `createLibp2p`'s `services`. Options are checked now: a bad one throws
 * `PeerscopeOptionsError` (`ERR_INVALID_OPTIONS`) naming it.
 */
export function peerscopeService(
  init: PeerscopeServiceInit = {}
): (components: PeerscopeServiceComponents) => PeerscopeService {
  validateServiceInit(init)
  return (components) => new PeerscopeServiceImpl(components, init)
}
