export type PeerStoreErrorCode =
  | 'ERR_INVALID_PEER_ID'
  | 'ERR_INVALID_MULTIADDR'
  | 'ERR_INVALID_TTL'
  | 'ERR_INVALID_PUBLIC_KEY'
  | 'ERR_INVALID_PEER_RECORD'
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_INVALID_IMPORT'
  | 'ERR_TOO_MANY_PROTOCOLS'
  | 'ERR_PROTOCOL_TOO_LONG'
  | 'ERR_TOO_MANY_METADATA_KEYS'
  | 'ERR_METADATA_TOO_LARGE'
  | 'ERR_KEY_TOO_LONG'
  | 'ERR_TOO_MANY_TAGS'
  | 'ERR_TOO_MANY_ADDRS'
  | 'ERR_PRIVATE_KEY_NOT_ALLOWED'
  | 'ERR_SELF_DELETE'
  | 'ERR_DB_LOCKED'
  | 'ERR_DB_OPEN'
  | 'ERR_DB_CORRUPT'
  | 'ERR_CORRUPT_RECORD'
  | 'ERR_CLOSED'
  /** The file system holding the store is full (ENOSPC, EDQUOT): free space there. */
  | 'ERR_STORAGE_FULL'
  /** Writing the store failed otherwise (EIO, a LevelDB I/O error). */
  | 'ERR_STORAGE_WRITE'

/** Every error this package throws on bad input or a bad database carries a stable `code`. */
export class PeerStoreError extends Error {
  readonly code: PeerStoreErrorCode

  constructor(code: PeerStoreErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'PeerStoreError'
    this.code = code
  }
}
