// The CLI's command line and output channel, shared by the commands.

import { parseArgs } from 'node:util'
import { usageError } from './cli-error.ts'

export interface CliIo {
  out(text: string): void
  err(text: string): void
  /** The environment (`PEERSCOPE_TOKEN`); `process.env` when not given. */
  env?: Readonly<Record<string, string | undefined>>
}

export function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      db: { type: 'string' },
      json: { type: 'boolean' },
      limit: { type: 'string' },
      offset: { type: 'string' },
      out: { type: 'string' },
      format: { type: 'string' },
      'libp2p-datastore': { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      token: { type: 'string' },
      'token-file': { type: 'string' },
      'allow-unauthenticated': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' }
    }
  })
}

export type Values = ReturnType<typeof parse>['values']

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`
}

/** A whole number from `--name`, within `max`. */
export function whole(
  name: string,
  text: string | undefined,
  fallback: number,
  max = Number.MAX_SAFE_INTEGER
): number {
  if (text === undefined) return fallback
  const n = Number(text)
  if (text.trim() === '' || !Number.isSafeInteger(n) || n < 0 || n > max) {
    throw usageError(
      `--${name} must be a whole number${max < Number.MAX_SAFE_INTEGER ? ` up to ${max}` : ''}, got ${JSON.stringify(text)}`
    )
  }
  return n
}
