import { readFile, writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { peerIdFromString } from '@libp2p/peer-id'
import {
  DEFAULT_MAX_PEER_AGE,
  type LevelPeerStore,
  migrateFromLibp2pDatastore,
  openPeerStore,
  openReportWarnings,
  type RepairReport,
  repairPeerStore,
  type VerifyReport,
  verifyPeerStore
} from '@peerscope/peerstore-level'
import { importOptional } from '../optional-import.ts'
import { OFFLINE, peerDetail, peerPage, peerStoreStats } from '../view/peer-store-view.ts'

export interface CliIo {
  out(text: string): void
  err(text: string): void
}

const USAGE = `peerscope: inspect and maintain a peerscope LevelDB peer store (the node must not be running)

usage: peerscope <command> --db <path> [options]
       peerscope verify|repair <path> [--json]

commands:
  peers [--limit N] [--offset N] [--json]   list stored peers
  peer <peer-id>                            one peer: addresses with TTL and expiry, protocols, key, pins
  stats                                     peers, addresses, pins
  gc                                        remove expired addresses and peers that aged out
                                            (no unexpired address, not written for 6 h, not pinned)
  export [--out FILE]                       versioned JSON of the whole store (stdout by default)
  import <FILE> [--format json|rust]        a peerscope export (json) or a libp2p-rs ds_addr_book.txt (rust)
  import --libp2p-datastore <DIR>           migrate js-libp2p's default peer store from a datastore-level DB
  serve [--host H] [--port P] [--token T]   the HTTP API and dashboard over the stored database
  verify <path> [--json]                    check table checksums and every record, never writes;
                                            exit 0 when clean, 1 when damaged
  repair <path> [--json]                    back up to <path>.backup-<time>, run LevelDB's repair,
                                            quarantine undecodable records; exit 0 when clean after
`

/** A usage mistake: exit code 2, with the usage text. */
class UsageError extends Error {}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`
}

function count(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--${name} must be a whole number, got ${text}`)
  return n
}

/** Runs one command; resolves to the process exit code (0 ok, 1 failed, 2 usage). */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${USAGE}`)
    return 2
  }
  const { values, positionals } = parsed
  const [command, ...rest] = positionals
  if (values.help === true || command === undefined || command === 'help') {
    io.out(USAGE)
    return command === undefined && values.help !== true ? 2 : 0
  }
  if (command === 'verify' || command === 'repair') {
    return await checkCommand(command, rest[0] ?? values.db, values.json === true, io)
  }
  if (values.db === undefined) {
    io.err(`--db <path> is required\n\n${USAGE}`)
    return 2
  }
  let store: LevelPeerStore | undefined
  try {
    // The node's peer ageing (its default maxPeerAge), so an offline gc removes what the node's own would.
    store = await openPeerStore({ path: values.db, gc: { interval: 0, maxPeerAge: DEFAULT_MAX_PEER_AGE } })
    for (const line of openReportWarnings(store.openReport, values.db)) io.err(`warning: ${line}\n`)
    switch (command) {
      case 'peers': {
        const page = peerPage(
          store,
          { limit: count('limit', values.limit, 100), offset: count('offset', values.offset, 0) },
          OFFLINE
        )
        if (values.json === true) io.out(json(page))
        else {
          for (const p of page.items) {
            io.out(`${p.peerId}  addrs=${p.addresses} protocols=${p.protocols}${p.pinned ? ' pinned' : ''}\n`)
          }
          io.out(`${page.items.length} of ${page.total} peers\n`)
        }
        return 0
      }
      case 'peer': {
        const id = rest[0]
        if (id === undefined) throw new UsageError('peer needs a peer id')
        const detail = peerDetail(store, peerIdFromString(id), OFFLINE)
        if (detail === undefined) {
          io.err(`peer ${id} is not in the store\n`)
          return 1
        }
        io.out(json(detail))
        return 0
      }
      case 'stats':
        io.out(json(peerStoreStats(store, undefined)))
        return 0
      case 'gc':
        io.out(json(await store.gc()))
        return 0
      case 'export': {
        const text = json(await store.export())
        if (values.out === undefined) io.out(text)
        else await writeFile(values.out, text)
        return 0
      }
      case 'import':
        return await importCommand(store, rest[0], values, io)
      case 'serve':
        return await serve(store, values, io).then(() => {
          store = undefined // closed by serve on shutdown
          return 0
        })
      default:
        throw new UsageError(`unknown command: ${command}`)
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`${err.message}\n\n${USAGE}`)
      return 2
    }
    const e = err as Error & { code?: string }
    io.err(`error${e.code === undefined ? '' : ` ${e.code}`}: ${e.message}\n`)
    return 1
  } finally {
    await store?.close()
  }
}

/** `verify` and `repair` work on the directory, not through an open store. */
async function checkCommand(
  command: 'verify' | 'repair',
  path: string | undefined,
  asJson: boolean,
  io: CliIo
): Promise<number> {
  if (path === undefined) {
    io.err(`${command} needs a path\n\n${USAGE}`)
    return 2
  }
  try {
    if (command === 'verify') {
      const report = await verifyPeerStore(path)
      io.out(asJson ? json(report) : describeVerify(report))
      return report.clean ? 0 : 1
    }
    const report = await repairPeerStore(path)
    io.out(asJson ? json(report) : describeRepair(report))
    return report.after.clean ? 0 : 1
  } catch (err) {
    const e = err as Error & { code?: string }
    io.err(`error${e.code === undefined ? '' : ` ${e.code}`}: ${e.message}\n`)
    return 1
  }
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

function parse(argv: string[]) {
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
      help: { type: 'boolean', short: 'h' }
    }
  })
}

type Values = ReturnType<typeof parse>['values']

async function importCommand(
  store: LevelPeerStore,
  file: string | undefined,
  values: Values,
  io: CliIo
): Promise<number> {
  const datastorePath = values['libp2p-datastore']
  if (datastorePath !== undefined) {
    const { LevelDatastore } = await importOptional<typeof import('datastore-level')>(
      'datastore-level',
      'peerscope import --libp2p-datastore'
    )
    const datastore = new LevelDatastore(datastorePath)
    await datastore.open()
    try {
      const report = await migrateFromLibp2pDatastore(store, datastore)
      io.out(json(report))
      return 0
    } finally {
      await datastore.close()
    }
  }
  if (file === undefined) throw new UsageError('import needs a file, or --libp2p-datastore <dir>')
  const text = await readFile(file, 'utf8')
  const format = values.format ?? (file.endsWith('.txt') ? 'rust' : 'json')
  let peers: number
  if (format === 'rust') peers = await store.importRustAddrBook(text)
  else if (format === 'json') peers = await store.import(JSON.parse(text))
  else throw new UsageError(`--format must be json or rust, got ${format}`)
  io.out(json({ imported: peers }))
  return 0
}

/** Serves until SIGINT/SIGTERM, then closes the server and the store. */
async function serve(store: LevelPeerStore, values: Values, io: CliIo): Promise<void> {
  const { startHttpServer } = await import('../http/server.ts')
  const { offlineView } = await import('../view/offline-view.ts')
  const server = await startHttpServer({
    view: offlineView(store),
    host: values.host ?? '127.0.0.1',
    port: count('port', values.port, 9102),
    ...(values.token === undefined ? {} : { token: values.token })
  })
  io.out(`peerscope: serving ${values.db} at ${server.url}\n`)
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  await server.close()
  await store.close()
}
