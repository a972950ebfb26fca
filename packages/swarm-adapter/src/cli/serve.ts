// `peerscope serve`: the HTTP API and dashboard over a snapshot of a stored database, until SIGINT or SIGTERM.

import { readFile, stat } from 'node:fs/promises'
import { exposureProblem } from '../http/hosts.ts'
import { startHttpServer } from '../http/server.ts'
import { offlineView } from '../view/offline-view.ts'
import { type CliIo, type Values, whole } from './args.ts'
import { CliError, fileError, usageError } from './cli-error.ts'
import { openForReading } from './store-access.ts'

/** The environment variable `serve` reads the token from when no flag gives one. */
export const TOKEN_ENV = 'PEERSCOPE_TOKEN'
export const DEFAULT_SERVE_PORT = 9102

/** The bearer token: `--token-file`, else `$PEERSCOPE_TOKEN`, else `--token` (with a warning), else none. */
async function resolveToken(values: Values, io: CliIo): Promise<string | undefined> {
  const file = values['token-file']
  if (file !== undefined && values.token !== undefined)
    throw usageError('give --token-file or --token, not both')
  if (file !== undefined) {
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (err) {
      throw fileError(err, 'read the token file', file)
    }
    const token = text.trim()
    if (token === '' || /\s/.test(token)) {
      throw new CliError(
        'ERR_INVALID_TOKEN',
        `${file} must hold the token alone, one word without spaces (it ${token === '' ? 'is empty' : 'has several words'})`
      )
    }
    const mode = (await stat(file)).mode
    if ((mode & 0o077) !== 0) {
      io.err(
        `warning: ${file} can be read by other users (mode ${(mode & 0o777).toString(8)}); \`chmod 600 ${file}\`\n`
      )
    }
    return token
  }
  if (values.token !== undefined) {
    io.err(
      'warning: --token puts the token on the command line, where every local user can read it (ps, /proc); ' +
        `use --token-file <path> or the ${TOKEN_ENV} environment variable\n`
    )
    if (values.token === '') throw usageError('--token must not be empty')
    return values.token
  }
  const fromEnv = (io.env ?? process.env)[TOKEN_ENV]
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv.trim()
  return undefined
}

/** Serves until SIGINT/SIGTERM, then closes the server and the store; resolves to the exit code. */
export async function serve(db: string, values: Values, asJson: boolean, io: CliIo): Promise<number> {
  const host = values.host ?? '127.0.0.1'
  const port = whole('port', values.port, DEFAULT_SERVE_PORT, 65_535)
  const token = await resolveToken(values, io)
  const allowUnauthenticated = values['allow-unauthenticated'] === true
  const exposure = exposureProblem(host, token, allowUnauthenticated, {
    token: `--token-file <path> (or ${TOKEN_ENV})`,
    allow: '--allow-unauthenticated'
  })
  if (exposure !== undefined)
    throw new CliError('ERR_INVALID_HTTP_OPTIONS', `serve will not start: ${exposure}`)

  const opened = await openForReading(db)
  try {
    for (const line of opened.warnings) io.err(`warning: ${line}\n`)
    const server = await startHttpServer(
      {
        view: offlineView(opened.store),
        host,
        port,
        allowUnauthenticated,
        ...(token === undefined ? {} : { token })
      },
      { host: '--host', port: '--port' }
    )
    const stopped = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
    io.out(
      asJson
        ? `${JSON.stringify({ url: server.url, db, auth: token !== undefined })}\n`
        : `peerscope: serving ${db} (as it was at start) at ${server.url}${token === undefined ? '' : ' (bearer token required)'}\n`
    )
    await stopped
    await server.close()
    return 0
  } finally {
    await opened.close()
  }
}
