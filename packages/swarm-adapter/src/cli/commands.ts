import { peerIdFromString } from '@libp2p/peer-id'
import {
  type RepairReport,
  repairPeerStore,
  type VerifyReport,
  verifyPeerStore
} from '@peerscope/peerstore-level'
import { offlineView } from '../view/offline-view.ts'
import { type CliIo, json, parse, whole } from './args.ts'
import { CliError, describeError, EXIT, usageError } from './cli-error.ts'

export type { CliIo } from './args.ts'

import { gcText, peersText, peerText, statsText } from './human.ts'
import { serve } from './serve.ts'
import { assertPeerStore, openForReading, openForWriting } from './store-access.ts'
import { exportCommand, importCommand } from './transfer.ts'

export const USAGE = `peerscope: inspect and maintain a peerscope LevelDB peer store while its node is stopped

usage: peerscope <command> --db <path> [options]      (verify and repair also take the path alone)

reading (never create or change the store; a missing one is ERR_NO_PEER_STORE):
  peers [--limit N] [--offset N]          stored peers, the local peer left out
  peer <peer-id>                          addresses with TTL class and expiry, protocols, key, pins, metadata
  stats                                   peers, addresses, pinned peers
  export [--out FILE]                     versioned JSON of the whole store (stdout by default)
  verify <path>                           check table checksums and every record; exit 0 clean, 1 damaged
  serve [--host H] [--port P]             the HTTP API and dashboard over the store (a snapshot taken at start)
        [--token-file FILE] [--allow-unauthenticated]
        the token: --token-file, else $PEERSCOPE_TOKEN; --token T works but shows it to every user in \`ps\`

changing:
  gc                                      remove expired addresses and peers that aged out
                                          (no unexpired address, not written for 6 h, not pinned)
  import <FILE> [--format json|rust]      a peerscope export (json) or a libp2p-rs ds_addr_book.txt (rust);
                                          creates the store if missing (its parent must exist)
  import --libp2p-datastore <DIR>         migrate js-libp2p's default peer store from a datastore-level DB
  repair <path>                           back up to <path>.backup-<time>, recover what LevelDB can read,
                                          quarantine undecodable records; exit 0 when clean after

--json prints JSON (the HTTP API's field names) instead of text, on every command.
Errors print one line, CODE: message, on stderr. Exit codes: 0 ok, 1 failed (or damage found), 2 usage.
`

/** The options each command takes (besides --json and --help). */
const COMMAND_OPTIONS: Record<string, readonly string[]> = {
  peers: ['db', 'limit', 'offset'],
  peer: ['db'],
  stats: ['db'],
  gc: ['db'],
  export: ['db', 'out'],
  import: ['db', 'format', 'libp2p-datastore'],
  serve: ['db', 'host', 'port', 'token', 'token-file', 'allow-unauthenticated'],
  verify: ['db'],
  repair: ['db']
}

/** Positional arguments each command takes after its name. */
const POSITIONALS: Record<string, number> = { peer: 1, import: 1, verify: 1, repair: 1 }

function peerIdArgument(text: string | undefined): ReturnType<typeof peerIdFromString> {
  if (text === undefined) throw usageError('peer needs a peer id: peerscope peer <peer-id> --db <path>')
  try {
    return peerIdFromString(text)
  } catch {
    throw new CliError(
      'ERR_INVALID_PEER_ID',
      `${JSON.stringify(text)} is not a valid peer id (base58 like 12D3KooW… or Qm…, or a CID); ` +
        '`peerscope peers --db <path>` lists the stored ones'
    )
  }
}

/** Runs one command; resolves to the process exit code (see `EXIT`). */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  try {
    return await run(argv, io)
  } catch (err) {
    const { line, exitCode } = describeError(err)
    io.err(`${line}\n`)
    return exitCode
  }
}

async function run(argv: string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (err) {
    // parseArgs explains over several sentences; the first says what is wrong.
    throw usageError((err as Error).message.split(/\.(\s|$)/)[0]!)
  }
  const { values, positionals } = parsed
  const [command, ...rest] = positionals
  if (values.help === true || command === 'help') {
    io.out(USAGE)
    return EXIT.ok
  }
  if (command === undefined) {
    io.err(USAGE)
    return EXIT.usage
  }
  const allowed = COMMAND_OPTIONS[command]
  if (allowed === undefined) throw usageError(`unknown command ${JSON.stringify(command)}`)
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined && name !== 'json' && !allowed.includes(name)) {
      throw usageError(`--${name} does not apply to ${command}`)
    }
  }
  if (rest.length > (POSITIONALS[command] ?? 0)) {
    throw usageError(
      `${command} takes ${POSITIONALS[command] ?? 'no'} argument(s), got ${JSON.stringify(rest.join(' '))}`
    )
  }
  const asJson = values.json === true
  if (command === 'verify' || command === 'repair') {
    const path = rest[0] ?? values.db
    if (path === undefined) throw usageError(`${command} needs the store's path: peerscope ${command} <path>`)
    if (rest[0] !== undefined && values.db !== undefined) throw usageError(`give ${command} the path once`)
    return await checkCommand(command, path, asJson, io)
  }
  const db = values.db
  if (db === undefined) throw usageError(`${command} needs --db <path>, the store's directory`)
  const warn = (lines: string[]): void => {
    for (const line of lines) io.err(`warning: ${line}\n`)
  }

  switch (command) {
    case 'gc': {
      const opened = await openForWriting(db, 'gc')
      try {
        warn(opened.warnings)
        await opened.store.gc()
        const stats = await offlineView(opened.store, () => opened.store.lastGc).peerStoreStats()
        io.out(asJson ? json(stats) : gcText(stats))
        return EXIT.ok
      } finally {
        await opened.close()
      }
    }
    case 'import':
      return await importCommand(db, rest[0], values, asJson, io)
    case 'serve':
      return await serve(db, values, asJson, io)
  }

  // The reading commands.
  // The command line is checked before the store is opened.
  const peerId = command === 'peer' ? peerIdArgument(rest[0]) : undefined
  const page = { limit: whole('limit', values.limit, 100), offset: whole('offset', values.offset, 0) }
  const opened = await openForReading(db)
  try {
    warn(opened.warnings)
    const view = offlineView(opened.store)
    switch (command) {
      case 'peers': {
        const peers = await view.peers(page)
        io.out(asJson ? json(peers) : peersText(peers))
        return EXIT.ok
      }
      case 'peer': {
        const detail = await view.peer(peerId!.toString())
        if (detail === undefined) {
          throw new CliError(
            'ERR_UNKNOWN_PEER',
            `peer ${peerId} is not in the store at ${db}; \`peerscope peers --db ${db}\` lists the stored ones`
          )
        }
        io.out(asJson ? json(detail) : peerText(detail, Date.now()))
        return EXIT.ok
      }
      case 'stats': {
        const stats = await view.peerStoreStats()
        io.out(asJson ? json(stats) : statsText(stats))
        return EXIT.ok
      }
      default:
        return await exportCommand(opened.store, db, values.out, asJson, io)
    }
  } finally {
    await opened.close()
  }
}

/** `verify` and `repair` work on the directory itself (verify on a copy; repair backs it up first). */
async function checkCommand(
  command: 'verify' | 'repair',
  path: string,
  asJson: boolean,
  io: CliIo
): Promise<number> {
  await assertPeerStore(path).catch((err: unknown) => {
    // A store whose CURRENT is gone is exactly what these two are for.
    if ((err as { code?: string }).code !== 'ERR_DB_CORRUPT') throw err
  })
  if (command === 'verify') {
    const report = await verifyPeerStore(path)
    io.out(asJson ? json(report) : describeVerify(report))
    return report.clean ? EXIT.ok : EXIT.failed
  }
  const report = await repairPeerStore(path)
  io.out(asJson ? json(report) : describeRepair(report))
  return report.after.clean ? EXIT.ok : EXIT.failed
}

function describeVerify(r: VerifyReport): string {
  const lines = [
    `${r.path}: ${r.clean ? 'clean' : 'DAMAGED'}`,
    `  tables: ${r.tables.length} file(s), ${r.tables.reduce((n, t) => n + t.blocks, 0)} block checksums checked`,
    `  records: ${r.records.good} good, ${r.records.undecodable} undecodable; ${r.peers} peers` +
      (r.quarantined > 0 ? `; ${r.quarantined} held in quarantine from earlier opens` : '')
  ]
  for (const p of r.problems) lines.push(`  problem: ${p}`)
  if (!r.clean) lines.push(`run \`peerscope repair ${r.path}\` (it backs the directory up first)`)
  return `${lines.join('\n')}\n`
}

function describeRepair(r: RepairReport): string {
  const lines = [
    `backup: ${r.backup}`,
    `before: ${r.before.clean ? 'clean' : `${r.before.problems.length} problem(s)`}, ${r.before.records.good} good records, ${r.before.peers} peers`,
    `after:  ${r.after.clean ? 'clean' : 'STILL DAMAGED'}, ${r.recovered.records} good records, ${r.recovered.peers} peers`
  ]
  for (const l of r.lost) lines.push(`  lost: ${l}`)
  for (const p of r.after.problems) lines.push(`  still: ${p}`)
  for (const l of r.leveldb) lines.push(`  leveldb: ${l}`)
  return `${lines.join('\n')}\n`
}
