// The narrow interface below the books: the live index entries and atomic edits of them. The libp2p view, import and
// export, and migration work at this level (they translate whole records, not single book calls); `LevelPeerStore`
// implements it. Entries handed out are live: a caller reads them, and changes them only inside `mutate`.

import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { StoreLimits } from './limits.ts'
import type { PeerEntry, RecordKind } from './types.ts'

export interface PeerIndexAccess {
  /** The local peer, when the store was given it. */
  readonly selfId: PeerId | undefined
  /** The size limits every write checks before it changes anything (limits.ts). */
  readonly limits: StoreLimits
  /** The store's clock, epoch ms. */
  now(): number
  /** The live entry of one peer (not a copy). */
  entryFor(peer: PeerId): PeerEntry | undefined
  /** Every live entry. */
  entries(): IterableIterator<PeerEntry>
  /**
   * How many entries `entries()` would give now. Optional: the libp2p view's `all()` sizes its list by it (without
   * it, the list grows as it fills).
   */
  readonly entryCount?: number
  /**
   * Calls `fn` with an entry whenever one of its persisted records changes (before the write resolves); a read
   * cache drops what it built from the entry then. Returns the unsubscribe function.
   */
  onEntryChange(fn: (entry: PeerEntry) => void): () => void
  /**
   * Edits one entry (made if missing) in one atomic write: `mutate` runs synchronously on the live entry and
   * returns the record kinds it touched. Address counts, order and streams are taken care of afterwards.
   */
  mutate(peer: PeerId, mutate: (entry: PeerEntry, now: number) => RecordKind[]): Promise<void>
  /**
   * Replaces whole entries (an import) in one atomic batch; latency is kept. Entries past a limit, or that cannot
   * be stored and read back, are refused (nothing is replaced then).
   */
  replaceEntries(entries: PeerEntry[]): Promise<void>
}

/**
 * What the libp2p `PeerStore` view uses: index access (it edits whole entries itself, signed records and keys
 * included), `deletePeer`, and peer ageing: the view asks the store to keep peers as long as it shows them.
 */
export interface Libp2pViewAccess extends PeerIndexAccess {
  deletePeer(peer: PeerId): Promise<void>
  /** Raises the store's `maxPeerAge` to `ms` at least (never lowers it) and exempts `localPeer` from GC. */
  retainPeersFor(ms: number, localPeer?: PeerId): void
}

/** What an import of a libp2p-rs address book uses: go's `AddAddrs` rules. */
export interface AddAddrsAccess {
  addAddrs(peer: PeerId, addrs: ReadonlyArray<Multiaddr | null | undefined>, ttl: number): Promise<void>
}
