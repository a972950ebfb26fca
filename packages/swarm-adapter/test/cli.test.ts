import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmod, cp, mkdir, readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { persistentPeerStore } from '@libp2p/peer-store'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { AddressTTL, ConnectedAddrTTL, openPeerStore, PermanentAddrTTL } from '@peerscope/peerstore-level'
import { LevelDatastore } from 'datastore-level'
import { createLibp2p } from 'libp2p'
import { TypedEventEmitter } from 'main-event'
import { peerscope as peerscopeConfig } from '../src/index.ts'
import { BIN, errorLines, peerscope, serve } from './helpers/cli.ts'
import { dialAndIdentify, plainNode, tempDir } from './helpers/nodes.ts'

const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
const connected = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))

/** A store with an AddressTTL peer, a permanent pinned peer, and one whose address is ConnectedAddrTTL. */
async function makeStore(path: string): Promise<void> {
  const store = await openPeerStore({ path, gc: { interval: 0 } })
  await store.addAddrs(peer, [multiaddr('/ip4/127.0.0.1/tcp/4001')], AddressTTL)
  await store.addAddrs(other, [multiaddr('/ip4/127.0.0.1/tcp/4002')], PermanentAddrTTL)
  // Opening a store downgrades Connected addresses and writes them back: a reader must not.
  await store.addAddrs(connected, [multiaddr('/ip4/127.0.0.1/tcp/4003')], ConnectedAddrTTL)
  await store.setProtocols(peer, ['/ipfs/id/1.0.0', '/ipfs/ping/1.0.0'])
  await store.pin(other, 'kad')
  await store.close()
}

/** Every file under `dir` (recursively) with a hash of its bytes and its mtime. */
async function dirState(dir: string): Promise<Record<string, string>> {
  const state: Record<string, string> = {}
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name)
    const name = path.slice(dir.length + 1)
    if (entry.isDirectory()) {
      state[`${name}/`] = 'dir'
      continue
    }
    const info = await stat(path)
    state[name] = `${createHash('sha256')
      .update(await readFile(path))
      .digest('hex')} ${info.mtimeMs}`
  }
  return state
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false
  )
}

/** Flips bytes in the first data block of the store's table file (after a write command made one). */
async function damageTable(db: string): Promise<string> {
  const table = (await readdir(db)).find((f) => f.endsWith('.ldb'))
  assert.ok(table !== undefined, 'the store has a table file')
  const bytes = await readFile(join(db, table))
  for (let i = 2; i < 10; i++) bytes[i]! ^= 0x5a
  await writeFile(join(db, table), bytes)
  return table
}

/** The HTTP API's answer as JSON. */
async function api(base: string, path: string, token?: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(new URL(path, base), {
    headers: token === undefined ? {} : { Authorization: `Bearer ${token}` }
  })
  return { status: res.status, body: await res.json() }
}

describe('peerscope CLI, run as a command', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let db: string

  before(async () => {
    dir = await tempDir()
    db = join(dir.path, 'db')
    await makeStore(db)
  })
  after(() => dir.remove())

  test('reading commands on a mistyped path: ERR_NO_PEER_STORE naming it, and nothing is created', async () => {
    const typo = join(dir.path, 'typo', 'nested', 'db')
    for (const args of [
      ['peers', '--db', typo],
      ['peer', peer.toString(), '--db', typo],
      ['stats', '--db', typo],
      ['export', '--db', typo],
      ['serve', '--db', typo, '--port', '0'],
      ['gc', '--db', typo],
      ['verify', typo],
      ['repair', typo]
    ]) {
      const r = await peerscope(args)
      assert.equal(r.code, 1, `${args[0]}: ${r.err}`)
      assert.equal(r.out, '', args[0])
      assert.deepEqual(errorLines(r.err), [
        `ERR_NO_PEER_STORE: no peer store at ${typo}: the directory does not exist; check the path (the node's peerStore.path)`
      ])
    }
    assert.equal(await exists(join(dir.path, 'typo')), false, 'no directory was made')
    // An empty directory is no store either, and stays empty.
    const empty = join(dir.path, 'empty')
    await mkdir(empty)
    const r = await peerscope(['stats', '--db', empty])
    assert.equal(r.code, 1)
    assert.match(r.err, /^ERR_NO_PEER_STORE: no peer store at \S+empty: the directory is empty/)
    assert.deepEqual(await readdir(empty), [])
  })

  test('reading commands never write the store: every file keeps its bytes and mtime', async () => {
    const before = await dirState(db)
    for (const args of [
      ['peers', '--db', db],
      ['peers', '--db', db, '--json'],
      ['peer', connected.toString(), '--db', db, '--json'],
      ['stats', '--db', db],
      ['export', '--db', db],
      ['verify', db]
    ]) {
      const r = await peerscope(args)
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`)
    }
    const served = await serve(['--db', db, '--port', '0'])
    assert.equal((await api(served.url, 'api/v1/peers')).status, 200)
    assert.equal(await served.stop(), 0)
    assert.deepEqual(await dirState(db), before)
    // The Connected address was downgraded in the readers' snapshots only: on disk it is still Connected.
    const store = await openPeerStore({ path: db, gc: { interval: 0 } })
    try {
      assert.equal(store.openReport.downgraded, 1)
    } finally {
      await store.close()
    }
    await makeStore(db) // put the Connected address back for the tests after
  })

  test('a damaged store: readers report the damage and point to repair without mending; gc refuses; repair mends', async () => {
    const damaged = join(dir.path, 'damaged')
    await cp(db, damaged, { recursive: true })
    assert.equal((await peerscope(['gc', '--db', damaged])).code, 0) // the log becomes a table file
    const table = await damageTable(damaged)
    const before = await dirState(damaged)

    for (const args of [['peers'], ['stats'], ['export'], ['peer', peer.toString()]]) {
      const r = await peerscope([...args, '--db', damaged])
      assert.match(
        r.err,
        new RegExp(
          `^warning: damaged table file ${table} in ${damaged}: 1 of \\d+ blocks fail their checksum and their records ` +
            `are not shown; the store on disk is unchanged: run \`peerscope repair ${damaged}\` to recover it$`,
          'm'
        ),
        args[0]
      )
    }
    assert.deepEqual(await dirState(damaged), before, 'nothing moved to lost/, nothing rewritten')

    const gc = await peerscope(['gc', '--db', damaged])
    assert.equal(gc.code, 1)
    assert.deepEqual(errorLines(gc.err), [
      `ERR_DB_CORRUPT: peer store at ${damaged} has damaged table files (${table}: 1 of 4 blocks fail their ` +
        `checksum); \`peerscope gc\` does not mend: run \`peerscope repair ${damaged}\` first (it backs the directory up)`
    ])
    assert.deepEqual(await dirState(damaged), before)

    const repaired = await peerscope(['repair', damaged])
    assert.equal(repaired.code, 0, repaired.out + repaired.err)
    assert.equal((await peerscope(['verify', damaged])).code, 0)
  })

  test('a store missing CURRENT: readers fail with ERR_DB_CORRUPT and the repair command; verify reports it', async () => {
    const damaged = join(dir.path, 'no-current')
    await cp(db, damaged, { recursive: true })
    await unlink(join(damaged, 'CURRENT'))
    const before = await dirState(damaged)
    const stats = await peerscope(['stats', '--db', damaged])
    assert.equal(stats.code, 1)
    assert.match(stats.err, new RegExp(`^ERR_DB_CORRUPT: .*run \`peerscope repair ${damaged}\``))
    const verify = await peerscope(['verify', damaged])
    assert.equal(verify.code, 1)
    assert.match(verify.out, /DAMAGED/)
    assert.match(verify.out, /CURRENT is missing/)
    const asJson = await peerscope(['verify', '--db', damaged, '--json'])
    assert.equal(JSON.parse(asJson.out).clean, false)
    assert.deepEqual(await dirState(damaged), before)
    const repaired = await peerscope(['repair', damaged])
    assert.equal(repaired.code, 0, repaired.err)
    const backup = /^backup: (\S+)$/m.exec(repaired.out)?.[1]
    assert.ok(backup?.startsWith(`${damaged}.backup-`), repaired.out)
    assert.match(repaired.out, /after: {2}clean/)
    assert.equal(JSON.parse((await peerscope(['stats', '--db', damaged, '--json'])).out).peers, 3)
  })

  test('a store a running process holds: ERR_DB_LOCKED with the next step', async () => {
    const holder = await openPeerStore({ path: db, gc: { interval: 0 } })
    try {
      for (const command of ['stats', 'gc']) {
        const r = await peerscope([command, '--db', db])
        assert.equal(r.code, 1)
        assert.match(
          r.err,
          /^ERR_DB_LOCKED: peer store at \S+ is in use by a running process; stop the node that holds it first/
        )
      }
    } finally {
      await holder.close()
    }
  })

  test('import: a missing file is named once, a non-JSON file is named, and a failed import leaves nothing', async () => {
    const target = join(dir.path, 'import-target')
    const missing = join(dir.path, 'missing.json')
    const r1 = await peerscope(['import', missing, '--db', target])
    assert.equal(r1.code, 1)
    assert.deepEqual(errorLines(r1.err), [
      `ERR_NO_SUCH_FILE: cannot read the import file: ${missing} does not exist; check the path`
    ])

    const notJson = join(dir.path, 'not.json')
    await writeFile(notJson, 'peers, not JSON\n')
    const r2 = await peerscope(['import', notJson, '--db', target])
    assert.equal(r2.code, 1)
    assert.match(
      r2.err,
      new RegExp(
        `^ERR_INVALID_IMPORT: ${notJson} is not JSON \\(.*\\); give a file written by \`peerscope export\``
      )
    )

    // Valid JSON, wrong content: the store was made for it, and is taken away again.
    const wrong = join(dir.path, 'wrong.json')
    await writeFile(wrong, JSON.stringify({ version: 1, peers: [{ id: 'not a peer' }] }))
    const r3 = await peerscope(['import', wrong, '--db', target])
    assert.equal(r3.code, 1)
    assert.match(r3.err, new RegExp(`^ERR_INVALID_IMPORT: ${wrong}: `))
    assert.equal(await exists(target), false, 'no empty target database left behind')

    // An empty directory made for the store keeps existing, empty.
    await mkdir(target)
    assert.equal((await peerscope(['import', wrong, '--db', target])).code, 1)
    assert.deepEqual(await readdir(target), [])

    // A file, or a directory with other files in it, is never made into a store.
    const full = join(dir.path, 'full')
    await mkdir(full)
    await writeFile(join(full, 'notes.txt'), 'mine')
    const intoFull = await peerscope(['import', wrong, '--db', full])
    assert.match(
      intoFull.err,
      /^ERR_NO_PEER_STORE: no peer store at \S+full: the directory holds no LevelDB database/
    )
    assert.deepEqual(await readdir(full), ['notes.txt'])
    const intoFile = await peerscope(['import', wrong, '--db', join(full, 'notes.txt')])
    assert.match(intoFile.err, /^ERR_NO_PEER_STORE: .*it is a file, not a directory/)

    const r4 = await peerscope(['import', wrong, '--db', join(dir.path, 'no', 'parent')])
    assert.match(
      r4.err,
      /^ERR_NO_SUCH_FILE: cannot create the peer store \S+: its parent directory \S+no does not exist/
    )
    assert.equal(await exists(join(dir.path, 'no')), false)
  })

  test('export then import into a new database round-trips, in text and --json', async () => {
    const file = join(dir.path, 'export.json')
    const exported = await peerscope(['export', '--db', db, '--out', file])
    assert.equal(exported.code, 0, exported.err)
    assert.equal(exported.out, `exported 3 peer record(s) from ${db} to ${file}\n`)
    const nowhere = join(dir.path, 'no-such-dir', 'export.json')
    const refused = await peerscope(['export', '--db', db, '--out', nowhere])
    assert.deepEqual(errorLines(refused.err), [
      `ERR_NO_SUCH_FILE: cannot write the export: the directory of ${nowhere} does not exist; create it first or ` +
        'choose another path'
    ])
    const copy = join(dir.path, 'copy')
    const imported = await peerscope(['import', file, '--db', copy, '--json'])
    assert.equal(imported.code, 0, imported.err)
    assert.deepEqual(JSON.parse(imported.out), { imported: 3, file, db: copy, created: true })
    const a = JSON.parse((await peerscope(['peer', peer.toString(), '--db', db, '--json'])).out)
    const b = JSON.parse((await peerscope(['peer', peer.toString(), '--db', copy, '--json'])).out)
    assert.deepEqual(b, a)
    const again = await peerscope(['import', file, '--db', copy])
    assert.equal(again.out, `imported 3 peer(s) from ${file} into ${copy}\n`)
  })

  test('imports a libp2p-rs ds_addr_book.txt', async () => {
    const file = join(dir.path, 'ds_addr_book.txt')
    const rustPeer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    await writeFile(
      file,
      JSON.stringify({
        [rustPeer.toString()]: [{ addr: '/ip4/10.0.0.1/tcp/4001', ttl: { secs: 3600, nanos: 0 } }]
      })
    )
    const target = join(dir.path, 'rust')
    const result = await peerscope(['import', file, '--db', target])
    assert.equal(result.code, 0, result.err)
    const shown = JSON.parse((await peerscope(['peer', rustPeer.toString(), '--db', target, '--json'])).out)
    assert.equal(shown.addresses[0].multiaddr, '/ip4/10.0.0.1/tcp/4001')
  })

  test("migration: a missing datastore is refused and not created; js-libp2p's store migrates", async () => {
    const missing = join(dir.path, 'no-datastore')
    const target = join(dir.path, 'migrated-nothing')
    const refused = await peerscope(['import', '--libp2p-datastore', missing, '--db', target])
    assert.equal(refused.code, 1)
    assert.deepEqual(errorLines(refused.err), [
      `ERR_NO_DATASTORE: no libp2p datastore at ${missing}: the directory does not exist; give the directory of ` +
        "the node's datastore-level database"
    ])
    assert.equal(await exists(missing), false, 'the source was not created')
    assert.equal(await exists(target), false, 'the target was not created')

    const legacyPath = join(dir.path, 'legacy')
    const datastore = new LevelDatastore(legacyPath)
    await datastore.open()
    const legacyPeer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const legacy = persistentPeerStore({
      peerId: peer,
      datastore,
      events: new TypedEventEmitter(),
      logger: defaultLogger()
    })
    await legacy.save(legacyPeer, {
      multiaddrs: [multiaddr('/ip4/127.0.0.1/tcp/4999')],
      protocols: ['/legacy/1.0.0']
    })
    await datastore.close()
    const migrated = join(dir.path, 'migrated')
    const result = await peerscope(['import', '--libp2p-datastore', legacyPath, '--db', migrated])
    assert.equal(result.code, 0, result.err)
    assert.match(
      result.out,
      new RegExp(`^migrated 1 peer\\(s\\) with 1 address\\(es\\) from ${legacyPath} into ${migrated}$`, 'm')
    )
    const shown = JSON.parse(
      (await peerscope(['peer', legacyPeer.toString(), '--db', migrated, '--json'])).out
    )
    assert.deepEqual(shown.protocols, ['/legacy/1.0.0'])
  })

  test('bad input: ERR_INVALID_PEER_ID as the HTTP API says it, ERR_UNKNOWN_PEER, usage errors exit 2', async () => {
    const bad = await peerscope(['peer', 'not-a-peer-id', '--db', db])
    assert.equal(bad.code, 1)
    assert.match(
      bad.err,
      /^ERR_INVALID_PEER_ID: "not-a-peer-id" is not a valid peer id .*`peerscope peers --db <path>`/
    )
    const served = await serve(['--db', db, '--port', '0'])
    const fromApi = await api(served.url, 'api/v1/peers/not-a-peer-id')
    assert.equal((fromApi.body as { error: { code: string } }).error.code, 'ERR_INVALID_PEER_ID')
    await served.stop()

    const unknown = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const missing = await peerscope(['peer', unknown.toString(), '--db', db])
    assert.equal(missing.code, 1)
    assert.match(missing.err, new RegExp(`^ERR_UNKNOWN_PEER: peer ${unknown} is not in the store at ${db}`))

    for (const args of [
      ['peers'],
      ['frobnicate', '--db', db],
      ['peers', '--db', db, '--limit', '-1'],
      ['peers', '--db', db, '--out', 'x.json'],
      ['stats', '--db', db, 'extra'],
      ['peers', '--db', db, '--bogus'],
      ['import', '--db', db]
    ]) {
      const r = await peerscope(args)
      assert.equal(r.code, 2, args.join(' '))
      assert.match(r.err, /^ERR_USAGE: .*; see `peerscope --help`\n$/, args.join(' '))
    }
    const help = await peerscope(['--help'])
    assert.equal(help.code, 0)
    assert.match(help.out, /Exit codes: 0 ok, 1 failed \(or damage found\), 2 usage/)
  })

  test('permission denied is said at the top, with the path and what to do', async (t) => {
    // As root, an unprivileged user is what a permission check needs; anyone else is unprivileged already.
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {}
    if (process.platform === 'win32') return t.skip('POSIX permissions only')
    // That user must be able to run Node and read the CLI's sources: not so in a checkout under a private directory
    // (e.g. `mktemp -d`, mode 0700).
    const reach = spawnSync(
      process.execPath,
      ['-e', `require('node:fs').accessSync(${JSON.stringify(BIN)})`],
      asUser
    )
    if (reach.error !== undefined || reach.status !== 0) {
      return t.skip(
        `uid ${asUser.uid ?? process.getuid?.()} cannot run ${process.execPath} or read ${BIN} ` +
          `(${
            reach.error?.message ??
            reach.stderr
              .toString()
              .split('\n')
              .find((line) => /Error/.test(line))
          }); run the suite from a checkout other users can traverse`
      )
    }
    const locked = join(dir.path, 'read-only')
    await mkdir(locked)
    const store = join(locked, 'db')
    await cp(db, store, { recursive: true })
    await chmod(dir.path, 0o755)
    for (const path of [locked, store]) await chmod(path, 0o555)
    for (const name of await readdir(store)) await chmod(join(store, name), 0o444)
    try {
      // Reading needs no write permission.
      const stats = await peerscope(['stats', '--db', store, '--json'], asUser)
      assert.equal(stats.code, 0, stats.err)
      assert.equal(JSON.parse(stats.out).peers, 3)

      const gc = await peerscope(['gc', '--db', store], asUser)
      assert.equal(gc.code, 1)
      const [line] = errorLines(gc.err)
      assert.match(
        line!,
        // The store takes LevelDB's lock itself before LevelDB opens (peerstore-level directory-lock.ts).
        new RegExp(`^ERR_DB_OPEN: cannot open peer store at ${store}: .*[Pp]ermission denied`)
      )
      assert.match(line!, /run as a user that may read and write it, or change its owner or mode$/)

      const out = join(locked, 'export.json')
      const exported = await peerscope(['export', '--db', store, '--out', out], asUser)
      assert.deepEqual(errorLines(exported.err), [
        `ERR_PERMISSION_DENIED: cannot write the export: permission denied on ${out} (EACCES); run as a user ` +
          'that may, or change its owner or mode'
      ])
      const imported = await peerscope(
        ['import', join(dir.path, 'export.json'), '--db', join(locked, 'new')],
        asUser
      )
      assert.match(
        imported.err,
        /^ERR_PERMISSION_DENIED: cannot create the peer store: permission denied on \S+new \(EACCES\)/
      )
    } finally {
      await chmod(locked, 0o755)
      await chmod(store, 0o755)
      for (const name of await readdir(store)) await chmod(join(store, name), 0o644)
      await chmod(dir.path, 0o700)
    }
  })

  test('--json on every command, and a human default: TTL class names and readable times', async () => {
    const file = join(dir.path, 'json-export.json')
    const jsonRuns: Array<[string[], (body: Record<string, unknown>) => void]> = [
      [['peers', '--db', db], (b) => assert.equal(b.total, 3)],
      [['peer', peer.toString(), '--db', db], (b) => assert.equal(b.peerId, peer.toString())],
      [['stats', '--db', db], (b) => assert.equal(b.peers, 3)],
      [['export', '--db', db], (b) => assert.equal((b.peers as unknown[]).length, 3)],
      [['export', '--db', db, '--out', file], (b) => assert.equal(b.peers, 3)],
      [['verify', db], (b) => assert.equal(b.clean, true)],
      [['import', file, '--db', join(dir.path, 'json-import')], (b) => assert.equal(b.imported, 3)],
      [
        ['gc', '--db', join(dir.path, 'json-import')],
        (b) => assert.equal((b.lastGc as { addressesRemoved: number }).addressesRemoved, 0)
      ]
    ]
    for (const [args, check] of jsonRuns) {
      const r = await peerscope([...args, '--json'])
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`)
      check(JSON.parse(r.out))
    }
    const served = await serve(['--db', db, '--port', '0', '--json'])
    await served.stop()

    const text = (await peerscope(['peer', peer.toString(), '--db', db])).out
    assert.match(
      text,
      /^ {2}\/ip4\/127\.0\.0\.1\/tcp\/4001 +address \(1h\) +expires \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in (1h|[1-5]?\d+m( \d+s)?)\)$/m
    )
    assert.doesNotMatch(text, /3600000|ttl:/, 'no raw TTL in ms')
    const permanent = (await peerscope(['peer', other.toString(), '--db', db])).out
    assert.match(permanent, /\/tcp\/4002 +permanent +never expires/)
    assert.match(permanent, /^pins +kad$/m)
    const connectedText = (await peerscope(['peer', connected.toString(), '--db', db])).out
    assert.match(connectedText, /\/tcp\/4003 +recently connected \(15m\) +expires .* \(in 1?\d+m( \d+s)?\)/)
    const peers = (await peerscope(['peers', '--db', db])).out
    assert.match(peers, /^PEER +ADDRS +PROTOCOLS +PINS +LATENCY +AGENT$/m)
    assert.match(peers, /^peers 1 to 3 of 3; the local peer is not counted$/m)
    assert.match(
      (await peerscope(['stats', '--db', db])).out,
      /^peers +3 \(the local peer is not counted\)$/m
    )
  })

  test('JSON answers have the HTTP API field names: the same bodies as `serve` gives', async () => {
    const served = await serve(['--db', db, '--port', '0'])
    try {
      const stats = JSON.parse((await peerscope(['stats', '--db', db, '--json'])).out)
      assert.deepEqual(stats, (await api(served.url, 'api/v1/peerstore')).body)
      const peers = JSON.parse((await peerscope(['peers', '--db', db, '--json'])).out)
      assert.deepEqual(peers, (await api(served.url, 'api/v1/peers?limit=100')).body)
      const one = JSON.parse((await peerscope(['peer', other.toString(), '--db', db, '--json'])).out)
      assert.deepEqual(one, (await api(served.url, `api/v1/peers/${other}`)).body)
    } finally {
      await served.stop()
    }
    // gc's figures are the API's lastGc: addressesRemoved, peersRemoved.
    const gcDb = join(dir.path, 'gc-fields')
    await cp(db, gcDb, { recursive: true })
    const gc = JSON.parse((await peerscope(['gc', '--db', gcDb, '--json'])).out)
    assert.deepEqual(Object.keys(gc).sort(), ['addresses', 'lastGc', 'peers', 'pinnedPeers'])
    assert.deepEqual(Object.keys(gc.lastGc).sort(), ['addressesRemoved', 'at', 'durationMs', 'peersRemoved'])
    assert.match(
      (await peerscope(['gc', '--db', gcDb])).out,
      /^gc removed 0 expired address\(es\) and 0 peer\(s\) in [\d.]+ ms; 3 peer\(s\) and 3 address\(es\) remain$/m
    )
  })

  test('serve takes the token from --token-file or PEERSCOPE_TOKEN; --token warns that ps shows it', async () => {
    const tokenFile = join(dir.path, 'token')
    await writeFile(tokenFile, 's3cret-from-file\n', { mode: 0o600 })
    const fromFile = await serve(['--db', db, '--port', '0', '--token-file', tokenFile])
    try {
      assert.equal((await api(fromFile.url, 'api/v1/peerstore')).status, 401)
      assert.equal((await api(fromFile.url, 'api/v1/peerstore', 's3cret-from-file')).status, 200)
      assert.equal(fromFile.stderr(), '')
    } finally {
      await fromFile.stop()
    }
    const fromEnv = await serve(['--db', db, '--port', '0'], { env: { PEERSCOPE_TOKEN: 'from-env' } })
    try {
      assert.equal((await api(fromEnv.url, 'api/v1/peerstore')).status, 401)
      assert.equal((await api(fromEnv.url, 'api/v1/peerstore', 'from-env')).status, 200)
    } finally {
      await fromEnv.stop()
    }
    const onArgv = await serve(['--db', db, '--port', '0', '--token', 'visible'])
    try {
      assert.equal((await api(onArgv.url, 'api/v1/peerstore', 'visible')).status, 200)
      assert.match(
        onArgv.stderr(),
        /^warning: --token puts the token on the command line, where every local user can read it \(ps, \/proc\); use --token-file <path> or the PEERSCOPE_TOKEN environment variable$/m
      )
    } finally {
      await onArgv.stop()
    }
    const shared = join(dir.path, 'shared-token')
    await writeFile(shared, 'tok', { mode: 0o644 })
    await chmod(shared, 0o644)
    const readable = await serve(['--db', db, '--port', '0', '--token-file', shared])
    assert.match(readable.stderr(), /can be read by other users \(mode 644\); `chmod 600 /)
    await readable.stop()

    const emptyFile = join(dir.path, 'empty-token')
    await writeFile(emptyFile, '\n')
    const empty = await peerscope(['serve', '--db', db, '--port', '0', '--token-file', emptyFile])
    assert.match(empty.err, new RegExp(`^ERR_INVALID_TOKEN: ${emptyFile} must hold the token alone`))
    const missing = await peerscope([
      'serve',
      '--db',
      db,
      '--port',
      '0',
      '--token-file',
      join(dir.path, 'nope')
    ])
    assert.match(missing.err, /^ERR_NO_SUCH_FILE: cannot read the token file: \S+nope does not exist/)
  })

  test('serve refuses a non-loopback host without a token, and names --port when the port is taken', async () => {
    const open = await peerscope(['serve', '--db', db, '--host', '0.0.0.0', '--port', '0'])
    assert.equal(open.code, 1)
    assert.deepEqual(errorLines(open.err), [
      'ERR_INVALID_HTTP_OPTIONS: serve will not start: the HTTP API would serve peer data to anyone who can reach ' +
        '0.0.0.0 (not a loopback address) without a token: set --token-file <path> (or PEERSCOPE_TOKEN), or ' +
        '--allow-unauthenticated to serve it unauthenticated on purpose'
    ])
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const port = (taken.address() as { port: number }).port
    try {
      const r = await peerscope(['serve', '--db', db, '--port', String(port)])
      assert.equal(r.code, 1)
      assert.deepEqual(errorLines(r.err), [
        `ERR_HTTP_LISTEN: peerscope's HTTP server cannot listen on 127.0.0.1:${port}: port ${port} is already in ` +
          'use on 127.0.0.1; set --port to a free port (0 picks one) (EADDRINUSE)'
      ])
    } finally {
      taken.close()
    }
  })
})

test('the local peer is left out the same way by the live API, the CLI and `serve`', async () => {
  const dir = await tempDir()
  const db = join(dir.path, 'peerstore')
  const ps = peerscopeConfig({ peerStore: { path: db }, http: { port: 0 } })
  const node = await createLibp2p({
    privateKey: await generateKeyPair('Ed25519'),
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    metrics: ps.metrics,
    services: { identify: identify(), ping: ping(), peerscope: ps.service }
  })
  const remote = await plainNode()
  try {
    await dialAndIdentify(node, remote)
    const store = await node.services.peerscope.store()
    assert.ok(
      store.peers().some((id) => id.equals(node.peerId)),
      'the store holds an entry for the node itself'
    )
    const live = (await api(node.services.peerscope.httpUrl!, 'api/v1/peerstore')).body as { peers: number }
    const livePeers = (await api(node.services.peerscope.httpUrl!, 'api/v1/peers')).body as { total: number }
    assert.equal(live.peers, 1, 'the remote peer only')
    assert.equal(livePeers.total, 1)
    await node.stop()

    const stats = JSON.parse((await peerscope(['stats', '--db', db, '--json'])).out)
    assert.equal(stats.peers, live.peers)
    const peers = JSON.parse((await peerscope(['peers', '--db', db, '--json'])).out)
    assert.equal(peers.total, livePeers.total)
    assert.deepEqual(
      peers.items.map((p: { peerId: string }) => p.peerId),
      [remote.peerId.toString()]
    )
    const served = await serve(['--db', db, '--port', '0'])
    try {
      assert.equal(((await api(served.url, 'api/v1/peerstore')).body as { peers: number }).peers, live.peers)
    } finally {
      await served.stop()
    }
  } finally {
    await node.stop()
    await remote.stop()
    await dir.remove()
  }
})
