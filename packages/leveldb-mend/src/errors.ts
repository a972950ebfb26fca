export type LevelDbMendErrorCode =
  /** An argument is not what the function takes (the message names it). */
  | 'ERR_INVALID_ARGUMENT'
  /** A running process holds the database's LOCK, so its table files must not be replaced. */
  | 'ERR_DB_LOCKED'

/** Every error this package throws on bad input or a database in use carries a stable `code`. */
export class LevelDbMendError extends Error {
  readonly code: LevelDbMendErrorCode

  constructor(code: LevelDbMendErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'LevelDbMendError'
    this.code = code
  }
}
