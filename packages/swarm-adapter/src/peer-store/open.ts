import type { ComponentLogger, PeerId, PrivateKey } from '@libp2p/interface'
import {
  type AddressFilter,
  DEFAULT_MAX_PEER_AGE,
  type LevelPeerStore,
  openPeerStore,
  type PeerStoreLimits
} from '@peerscope/peerstore-level'
import type { AbstractLevel } from 'abstract-level'
import { importOptional } from '../optional-import.ts'

/** Where the peer store lives: exactly one of `path`, `db` or `memory: true` (there is no default directory). */
export interface PeerStoreOptions {
  /** The LevelDB database's directory (created on first use). */
  path?: string
  /** Any abstract-level database (e.g. `new MemoryLevel()`); it replaces LevelDB. */
  // biome-ignore lint/suspicious/noExplicitAny: abstract-level is generic over the format of the caller's database
  db?: AbstractLevel<any, string, string>
  /** Keep the peer store in memory only (memory-level): nothing survives the process. */
  memory?: boolean
  /** TTL in ms of addresses written through libp2p's PeerStore API (discovery, routing); default 1 h. */
  addressTtl?: number
  /**
   * A peer with no unexpired address is forgotten this long (ms) after its last write: reads miss it and GC
   * deletes it. Same name and default as @libp2p/peer-store's: 6 h. Pinned peers and the local peer never age.
   */
  maxPeerAge?: number
  /**
   * Addresses it refuses are not stored through libp2p's PeerStore API. Default: the node's connection gater's
   * `filterMultiaddrForPeer`, which is what libp2p gives its built-in store.
   */
  addressFilter?: AddressFilter
  /** Period of the store's address GC in ms; default `DEFAULT_GC_INTERVAL` (10 minutes), 0 disables it. */
  gcInterval?: number
  /**
   * A GC run also starts once the store holds this many more expiring addresses than after the last run, so memory
   * between runs does not grow with the arrival rate of new peers; default 100,000, 0 = by `gcInterval` only.
   */
  gcRunAfterAddrs?: number
  limits?: PeerStoreLimits
}

/** The directory of the LevelDB the options describe; undefined when the store is not a LevelDB directory. */
export function configuredStorePath(options: PeerStoreOptions): string | undefined {
  if (options.db !== undefined || options.memory === true) return undefined
  return options.path
}

/**
 * Opens the store the options describe. The store runs its own GC timer, every `gcInterval` ms; peer ageing is on
 * from the open (the libp2p view the service puts on it asks for the same `maxPeerAge`).
 */
export async function openConfiguredStore(
  options: PeerStoreOptions,
  self: { peerId: PeerId; privateKey: PrivateKey },
  logger?: ComponentLogger
): Promise<LevelPeerStore> {
  const common = {
    peerId: self.peerId,
    privateKey: self.privateKey,
    gc: {
      maxPeerAge: options.maxPeerAge ?? DEFAULT_MAX_PEER_AGE,
      ...(options.gcInterval === undefined ? {} : { interval: options.gcInterval }),
      ...(options.gcRunAfterAddrs === undefined ? {} : { runAfterAddrs: options.gcRunAfterAddrs })
    },
    ...(logger === undefined ? {} : { logger })
  }
  const limits = options.limits === undefined ? {} : { limits: options.limits }
  if (options.db !== undefined) return openPeerStore({ ...common, ...limits, db: options.db })
  if (options.memory === true) {
    const { MemoryLevel } = await importOptional<typeof import('memory-level')>(
      'memory-level',
      'peerStore: { memory: true }'
    )
    return openPeerStore({ ...common, ...limits, db: new MemoryLevel<string, string>() })
  }
  return openPeerStore({ ...common, ...limits, path: options.path })
}
