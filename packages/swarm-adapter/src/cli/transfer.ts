// `export`, `import` and `import --libp2p-datastore`: moving a store's peers in and out as files.

import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { lockHeld } from '@peerscope/leveldb-mend'
import { type LevelPeerStore, migrateFromLibp2pDatastore, PeerStoreError } from '@peerscope/peerstore-level'
import { importOptional } from '../optional-import.ts'
import { type CliIo, json, type Values } from './args.ts'
import { CliError, fileError, usageError } from './cli-error.ts'
import { migrateText } from './human.ts'
import { openForWriting } from './store-access.ts'

export async function exportCommand(
  store: LevelPeerStore,
  db: string,
  out: string | undefined,
  asJson: boolean,
  io: CliIo
): Promise<number> {
  const exported = await store.export()
  const text = json(exported)
  if (out === undefined) {
    io.out(text) // the export is JSON already
    return 0
  }
  try {
    await writeFile(out, text)
  } catch (err) {
    throw fileError(err, 'write the export', out)
  }
  const summary = { file: out, db, peers: exported.peers.length }
  io.out(asJson ? json(summary) : `exported ${summary.peers} peer record(s) from ${db} to ${out}\n`)
  return 0
}

const IMPORT_FORMATS =
  'give a file written by `peerscope export`, or a libp2p-rs ds_addr_book.txt (--format rust)'

/** An import file's problem, said about the file. */
function invalidFile(file: string, err: unknown): unknown {
  const reason = (err as Error).message?.replace(/\s+/g, ' ')
  if (err instanceof SyntaxError) {
    return new CliError('ERR_INVALID_IMPORT', `${file} is not JSON (${reason}); ${IMPORT_FORMATS}`, {
      cause: err
    })
  }
  if (err instanceof PeerStoreError && err.code === 'ERR_INVALID_IMPORT') {
    return new CliError('ERR_INVALID_IMPORT', `${file}: ${reason}; ${IMPORT_FORMATS}`, { cause: err })
  }
  return err
}

export async function importCommand(
  db: string,
  file: string | undefined,
  values: Values,
  asJson: boolean,
  io: CliIo
): Promise<number> {
  const datastore = values['libp2p-datastore']
  if (datastore !== undefined) {
    if (file !== undefined || values.format !== undefined) {
      throw usageError('import takes either a FILE [--format] or --libp2p-datastore <DIR>, not both')
    }
    return await migrate(db, datastore, asJson, io)
  }
  if (file === undefined) throw usageError('import needs a FILE, or --libp2p-datastore <DIR>')
  const format = values.format ?? (file.endsWith('.txt') ? 'rust' : 'json')
  if (format !== 'json' && format !== 'rust')
    throw usageError(`--format must be json or rust, got ${JSON.stringify(format)}`)
  // Everything about the file is checked before the target store is touched.
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw fileError(err, 'read the import file', file)
  }
  let doc: unknown
  if (format === 'json') {
    try {
      doc = JSON.parse(text)
    } catch (err) {
      throw invalidFile(file, err)
    }
  }
  const target = await openForWriting(db, 'import', { create: true })
  let peers: number
  try {
    for (const line of target.warnings) io.err(`warning: ${line}\n`)
    peers =
      format === 'rust'
        ? await target.store.importRustAddrBook(text)
        : await target.store.import(doc as never)
  } catch (err) {
    await target.close()
    await target.discard()
    throw invalidFile(file, err)
  }
  await target.close()
  const summary = { imported: peers, file, db, created: target.created }
  io.out(
    asJson
      ? json(summary)
      : `imported ${peers} peer(s) from ${file} into ${db}${target.created ? ' (a new store)' : ''}\n`
  )
  return 0
}

/** `ERR_NO_DATASTORE` unless `dir` holds a LevelDB database (the migration must never create its source). */
async function assertDatastore(dir: string): Promise<void> {
  const next = "give the directory of the node's datastore-level database"
  let names: string[]
  try {
    if (!(await stat(dir)).isDirectory()) {
      throw new CliError('ERR_NO_DATASTORE', `no libp2p datastore at ${dir}: it is a file; ${next}`)
    }
    names = await readdir(dir)
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') {
      throw new CliError(
        'ERR_NO_DATASTORE',
        `no libp2p datastore at ${dir}: the directory does not exist; ${next}`
      )
    }
    throw fileError(err, 'read the libp2p datastore', dir)
  }
  if (!names.includes('CURRENT')) {
    throw new CliError(
      'ERR_NO_DATASTORE',
      `no libp2p datastore at ${dir}: it holds no LevelDB database; ${next}`
    )
  }
}

async function migrate(db: string, dir: string, asJson: boolean, io: CliIo): Promise<number> {
  await assertDatastore(dir)
  if ((await lockHeld(dir)) === true) {
    throw new CliError(
      'ERR_DB_LOCKED',
      `the libp2p datastore at ${dir} is in use by a running process; stop the node first`
    )
  }
  // Made only now: an abstract-level database starts opening (and takes LevelDB's lock) when it is constructed.
  const { LevelDatastore } = await importOptional<typeof import('datastore-level')>(
    'datastore-level',
    'peerscope import --libp2p-datastore'
  )
  const datastore = new LevelDatastore(dir, { createIfMissing: false })
  try {
    await datastore.open()
  } catch (err) {
    throw new CliError(
      'ERR_DB_OPEN',
      `cannot open the libp2p datastore at ${dir}: ${(err as Error).message}`,
      { cause: err }
    )
  }
  try {
    const target = await openForWriting(db, 'import', { create: true })
    let report: Awaited<ReturnType<typeof migrateFromLibp2pDatastore>>
    try {
      report = await migrateFromLibp2pDatastore(target.store, datastore)
    } catch (err) {
      await target.close()
      await target.discard()
      throw err
    }
    await target.close()
    io.out(
      asJson ? json({ ...report, from: dir, db, created: target.created }) : migrateText(report, dir, db)
    )
    return 0
  } finally {
    await datastore.close()
  }
}
