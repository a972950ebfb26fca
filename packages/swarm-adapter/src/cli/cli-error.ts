// The CLI's errors: every failure is printed as one `CODE: message` line that names the file or path involved and
// the next step. Errors of the packages below (the peer store, the HTTP server, Node's fs) are put in those terms.

/** Exit codes; documented in the README and `peerscope --help`. */
export const EXIT = {
  ok: 0,
  /** A command failed (or `verify`/`repair` found damage they did not clear): the printed code says why. */
  failed: 1,
  /** The command line itself is wrong. */
  usage: 2
} as const

export class CliError extends Error {
  readonly code: string
  readonly exitCode: number

  constructor(code: string, message: string, options?: ErrorOptions & { exitCode?: number }) {
    super(message, options)
    this.name = 'CliError'
    this.code = code
    this.exitCode = options?.exitCode ?? EXIT.failed
  }
}

export function usageError(message: string): CliError {
  return new CliError('ERR_USAGE', `${message}; see \`peerscope --help\``, { exitCode: EXIT.usage })
}

interface ErrnoLike {
  code?: unknown
  message?: unknown
  cause?: unknown
}

/**
 * Node's fs errors about `path`, as `CODE: message` with the next step. `doing` says what the CLI tried
 * ("read the import file", "write the export": a missing file is then its missing directory); anything that is
 * not an fs error is returned as is.
 */
export function fileError(err: unknown, doing: string, path: string): unknown {
  const code = (err as ErrnoLike | null)?.code
  switch (code) {
    case 'ENOENT':
      return new CliError(
        'ERR_NO_SUCH_FILE',
        doing.startsWith('write')
          ? `cannot ${doing}: the directory of ${path} does not exist; create it first or choose another path`
          : `cannot ${doing}: ${path} does not exist; check the path`,
        { cause: err }
      )
    case 'EACCES':
    case 'EPERM':
      return new CliError(
        'ERR_PERMISSION_DENIED',
        `cannot ${doing}: permission denied on ${path} (${code}); run as a user that may, or change its owner or mode`,
        { cause: err }
      )
    case 'EISDIR':
      return new CliError('ERR_IS_A_DIRECTORY', `cannot ${doing}: ${path} is a directory; give a file`, {
        cause: err
      })
    case 'ENOTDIR':
      return new CliError(
        'ERR_NOT_A_DIRECTORY',
        `cannot ${doing}: a part of ${path} is a file, not a directory`,
        {
          cause: err
        }
      )
    case 'ENOSPC':
      return new CliError(
        'ERR_NO_SPACE',
        `cannot ${doing}: no space left on the device of ${path}; free some`,
        {
          cause: err
        }
      )
    case 'EROFS':
      return new CliError('ERR_READ_ONLY_FS', `cannot ${doing}: ${path} is on a read-only file system`, {
        cause: err
      })
    default:
      return err
  }
}

/** The deepest message of an error's `cause` chain (where LevelDB and the OS say what really happened). */
function rootMessage(err: unknown): string | undefined {
  let current = err as ErrnoLike | null | undefined
  let message: string | undefined
  for (let depth = 0; current != null && depth < 8; depth++) {
    if (typeof current.message === 'string' && current.message !== '') message = current.message
    current = current.cause as ErrnoLike | undefined
  }
  return message
}

/** What to do next, for the codes of the packages below whose messages do not say it. */
const NEXT_STEP: Record<string, string> = {
  ERR_DB_LOCKED: 'stop the node that holds it first (while it runs, its HTTP API serves the same figures)',
  ERR_DB_OPEN: 'check that the path is a peer store directory you may read and write',
  ERR_INVALID_IMPORT:
    'give a file written by `peerscope export`, or a libp2p-rs ds_addr_book.txt with --format rust'
}

/** Any thrown value as the one line the CLI prints: `CODE: message`, the root cause and next step included. */
export function describeError(err: unknown): { line: string; exitCode: number } {
  if (err instanceof CliError) return { line: `${err.code}: ${err.message}`, exitCode: err.exitCode }
  // A Node fs error not caught where it happened: its own message repeats its code, so say it once.
  const errno = err as ErrnoLike & { path?: unknown; syscall?: unknown }
  if (typeof errno?.code === 'string' && /^E[A-Z]+$/.test(errno.code) && typeof errno.path === 'string') {
    const known = fileError(err, `${typeof errno.syscall === 'string' ? errno.syscall : 'use'}`, errno.path)
    if (known instanceof CliError) return describeError(known)
    return {
      line: `ERR_IO: cannot ${String(errno.syscall ?? 'use')} ${errno.path}: ${errno.code}`,
      exitCode: EXIT.failed
    }
  }
  const e = (err ?? {}) as ErrnoLike
  const code = typeof e.code === 'string' && e.code !== '' ? e.code : 'ERR_UNEXPECTED'
  let message = typeof e.message === 'string' && e.message !== '' ? e.message : String(err)
  // LevelDB's reason (e.g. "IO error: <path>/LOCK: Permission denied") sits causes deep under a general
  // "cannot open": bring it up. Errors that say their cause themselves are left as they are.
  const root = rootMessage(err)
  const permission = /permission denied|EACCES/i
  const general =
    code === 'ERR_DB_OPEN' ||
    code === 'ERR_UNEXPECTED' ||
    (permission.test(root ?? '') && !permission.test(message))
  if (general && root !== undefined && !message.includes(root)) message += `: ${root}`
  const next = permission.test(message)
    ? 'run as a user that may read and write it, or change its owner or mode'
    : NEXT_STEP[code]
  if (next !== undefined && !message.includes(next)) message += `; ${next}`
  if (code === 'ERR_UNEXPECTED') message += ' (this is a bug: please report it with the command you ran)'
  return { line: `${code}: ${message}`, exitCode: EXIT.failed }
}
