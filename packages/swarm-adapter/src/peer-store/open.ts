import type { ComponentLogger, PeerId, PrivateKey } from '@libp2p/interface'
import { type LevelPeerStore, openPeerStore, type PeerStoreLimits } from '@peerscope/peerstore-level'
import type { AbstractLevel } from 'abstract-level'

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
  /** Period of the store's address GC in ms; default `DEFAULT_GC_INTERVAL` (10 minutes), 0 disables it. */
  gcInterval?: number
  limits?: PeerStoreLimits
}

/** The directory of the LevelDB the options describe; undefined when the store is not a LevelDB directory. */
export function configuredStorePath(options: PeerStoreOptions): string | undefined {
  if (options.db !== undefined || options.memory === true) return undefined
  return options.path
}

/** Opens the store the options describe. The store runs its own GC timer, every `gcInterval` ms. */
export async function openConfiguredStore(
  options: PeerStoreOptions,
  self: { peerId: PeerId; privateKey: PrivateKey },
  logger?: ComponentLogger
): Promise<LevelPeerStore> {
  const common = {
    peerId: self.peerId,
    privateKey: self.privateKey,
    ...(options.gcInterval === undefined ? {} : { gc: { interval: options.gcInterval } }),
    ...(logger === undefined ? {} : { logger })
  }
  const limits = options.limits === undefined ? {} : { limits: options.limits }
  if (options.db !== undefined) return openPeerStore({ ...common, ...limits, db: options.db })
  if (options.memory === true) {
    const { MemoryLevel } = await import('memory-level')
    return openPeerStore({ ...common, ...limits, db: new MemoryLevel<string, string>() })
  }
  return openPeerStore({ ...common, ...limits, path: options.path })
}
