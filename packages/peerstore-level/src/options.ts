// The options of `openPeerStore`.

import type { ComponentLogger, PeerId, PrivateKey } from '@libp2p/interface'
import type { AnyLevel } from './persistence/open.ts'

/**
 * Size limits, enforced on every path that writes (the core API, the libp2p view, import, migration), each with
 * its own error code naming the option. Every value is an integer >= 0.
 */
export interface PeerStoreLimits {
  /** Distinct protocols per peer (default 128; the core's `addProtocols` counts duplicates, as go). */
  maxProtocols?: number
  /** Characters (UTF-16 code units) of one protocol id (default 1024). */
  maxProtocolLength?: number
  /** Unconnected addresses per peer; the nearest expiry is evicted (default 64, 0 = off). */
  maxAddrsPerPeer?: number
  /** Unconnected addresses in the whole store; past it `addAddrs` throws `ERR_TOO_MANY_ADDRS` (default 1e6). */
  maxAddrs?: number
  /** Metadata keys per peer (default 64). */
  maxMetadataKeys?: number
  /** Bytes of one metadata value: its length, or the UTF-8 length of a JSON value's text (default 64 KiB). */
  maxMetadataValueBytes?: number
  /** Characters of a metadata key, a tag name or a pin reason (default 1024). */
  maxKeyLength?: number
  /** Tags per peer, and pin reasons per peer (default 64). */
  maxTags?: number
}

export interface GcOptions {
  /** Period of the background GC in ms (default 10 min, 0 = no background GC). */
  interval?: number
  /**
   * A run also starts once the store holds this many more expiring (not Connected or Permanent) addresses than
   * after the last run, whatever the timer: memory between runs is bounded by the addresses live after a run
   * plus this many, not by the arrival rate of new peers (default 100,000; 0 = by the timer and `gc()` only).
   */
  runAfterAddrs?: number
  /** Longest synchronous slice in ms before GC yields to the event loop (default 4). */
  sliceMs?: number
  /** Remove peers that have nothing left to keep them (default true); see README "GC rule". */
  removeBarePeers?: boolean
  /**
   * A peer with no unexpired address (not pinned, not the local peer) is kept this long (ms) after its last
   * write; 0 (the default) = no ageing, it goes with its last address. A `Libp2pPeerStore` raises it to its own
   * `maxPeerAge` (6 h by default). The rule: src/peer-age.ts.
   */
  maxPeerAge?: number
}

export interface OpenPeerStoreInit {
  /** Directory of a LevelDB database (opened with `level`). Ignored when `db` is given. */
  path?: string
  /** Any abstract-level database, e.g. `new MemoryLevel()`. The store opens it and closes it on `close()`. */
  db?: AnyLevel
  /** Epoch ms; injectable for tests. */
  clock?: () => number
  peerId?: PeerId
  privateKey?: PrivateKey
  limits?: PeerStoreLimits
  gc?: GcOptions
  /** libp2p's component logger (a node passes `components.logger`); default `defaultLogger()` of @libp2p/logger. */
  logger?: ComponentLogger
}
