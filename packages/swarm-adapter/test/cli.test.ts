import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { cp, readdir, readFile, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { persistentPeerStore } from '@libp2p/peer-store'
import { multiaddr } from '@multiformats/multiaddr'
import { AddressTTL, openPeerStore, PermanentAddrTTL } from '@peerscope/peerstore-level'
import { LevelDatastore } from 'datastore-level'
import { TypedEventEmitter } from 'main-event'
import { runCli } from '../src/cli/commands.ts'
import { tempDir } from './helpers/nodes.ts'

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const code = await runCli(argv, {
    out: (text) => {
      out += text
    },
    err: (text) => {
      err += text
    }
  })
  return { code, out, err }
}

const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))

describe('peerscope CLI', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let db: string

  before(async () => {
    dir = await tempDir()
    db = join(dir.path, 'db')
    const store = await openPeerStore({ path: db, gc: { interval: 0 } })
    await store.addAddrs(peer, [multiaddr('/ip4/127.0.0.1/tcp/4001')], AddressTTL)
    await store.addAddrs(other, [multiaddr('/ip4/127.0.0.1/tcp/4002')], PermanentAddrTTL)
    await store.setProtocols(peer, ['/ipfs/id/1.0.0', '/ipfs/ping/1.0.0'])
    await store.pin(other, 'kad')
    await store.close()
  })
  after(() => dir.remove())

  test('peers lists every stored peer', async () => {
    const { code, out } = await cli('peers', '--db', db, '--json')
    assert.equal(code, 0)
    const page = JSON.parse(out)
    assert.equal(page.total, 2)
    assert.deepEqual(
      page.items.map((p: { peerId: string }) => p.peerId).sort(),
      [peer, other].map(String).sort()
    )
  })

  test('peer shows addresses with TTL, protocols and pins, and names permanent TTLs', async () => {
    const one = JSON.parse((await cli('peer', peer.toString(), '--db', db)).out)
    assert.equal(one.addresses[0].multiaddr, '/ip4/127.0.0.1/tcp/4001')
    assert.equal(one.addresses[0].ttl, AddressTTL)
    assert.deepEqual(one.protocols, ['/ipfs/id/1.0.0', '/ipfs/ping/1.0.0'])
    const two = JSON.parse((await cli('peer', other.toString(), '--db', db)).out)
    assert.equal(two.addresses[0].ttlName, 'permanent')
    assert.equal(two.addresses[0].expiresAt, null)
    assert.deepEqual(two.pins, ['kad'])
  })

  test('export then import into a new database round-trips', async () => {
    const file = join(dir.path, 'export.json')
    assert.equal((await cli('export', '--db', db, '--out', file)).code, 0)
    const copy = join(dir.path, 'copy')
    const imported = await cli('import', file, '--db', copy)
    assert.equal(imported.code, 0, imported.err)
    assert.deepEqual(JSON.parse(imported.out), { imported: 2 })
    const a = JSON.parse((await cli('peer', peer.toString(), '--db', db)).out)
    const b = JSON.parse((await cli('peer', peer.toString(), '--db', copy)).out)
    assert.deepEqual(b, a)
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
    const result = await cli('import', file, '--db', target)
    assert.equal(result.code, 0, result.err)
    const shown = JSON.parse((await cli('peer', rustPeer.toString(), '--db', target)).out)
    assert.equal(shown.addresses[0].multiaddr, '/ip4/10.0.0.1/tcp/4001')
  })

  test("imports js-libp2p's default peer store from a datastore-level database", async () => {
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
    const target = join(dir.path, 'migrated')
    const result = await cli('import', '--libp2p-datastore', legacyPath, '--db', target)
    assert.equal(result.code, 0, result.err)
    const shown = JSON.parse((await cli('peer', legacyPeer.toString(), '--db', target)).out)
    assert.deepEqual(shown.protocols, ['/legacy/1.0.0'])
    assert.equal(shown.addresses[0].multiaddr, '/ip4/127.0.0.1/tcp/4999')
  })

  test('serve answers the HTTP API over the stored database and stops on SIGTERM', async () => {
    const bin = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url))
    const child = spawn(
      process.execPath,
      ['--conditions=@peerscope/source', bin, 'serve', '--db', db, '--port', '0'],
      {
        stdio: ['ignore', 'pipe', 'inherit']
      }
    )
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    const url = await new Promise<string>((resolve, reject) => {
      let out = ''
      child.stdout.setEncoding('utf8')
      child.stdout.on('data', (chunk: string) => {
        out += chunk
        const found = / at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1]
        if (found !== undefined) resolve(found)
      })
      void exited.then(() => reject(new Error(`serve exited early: ${out}`)))
    })
    const peers = (await (await fetch(new URL('api/v1/peers', url))).json()) as { total: number }
    assert.equal(peers.total, 2)
    const node = (await (await fetch(new URL('api/v1/node', url))).json()) as { node: unknown }
    assert.equal(node.node, null, 'no live node behind an offline database')
    child.kill('SIGTERM')
    assert.equal(await exited, 0)
  })

  test('errors: usage mistakes exit 2, a bad peer id exits 1 with its code, a missing peer exits 1', async () => {
    assert.equal((await cli('peers')).code, 2)
    assert.equal((await cli('frobnicate', '--db', db)).code, 2)
    assert.equal((await cli('peers', '--db', db, '--limit', '-1')).code, 2)
    const bad = await cli('peer', 'not-a-peer-id', '--db', db)
    assert.equal(bad.code, 1)
    assert.match(bad.err, /^error/)
    const unknown = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    assert.equal((await cli('peer', unknown.toString(), '--db', db)).code, 1)
  })

  test('the installed bin runs as a process and refuses a locked database with ERR_DB_LOCKED', async () => {
    const bin = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url))
    const ok = spawnSync(process.execPath, ['--conditions=@peerscope/source', bin, 'stats', '--db', db], {
      encoding: 'utf8'
    })
    assert.equal(ok.status, 0, ok.stderr)
    assert.equal(JSON.parse(ok.stdout).peers, 2)

    const holder = await openPeerStore({ path: db, gc: { interval: 0 } })
    try {
      const locked = spawnSync(
        process.execPath,
        ['--conditions=@peerscope/source', bin, 'stats', '--db', db],
        {
          encoding: 'utf8'
        }
      )
      assert.equal(locked.status, 1)
      assert.match(locked.stderr, /ERR_DB_LOCKED/)
    } finally {
      await holder.close()
    }
  })
  test('verify: a clean store exits 0; a store missing CURRENT exits 1 with the damage and --json', async () => {
    const clean = await cli('verify', db)
    assert.equal(clean.code, 0, clean.err)
    assert.match(clean.out, /clean/)
    const damaged = join(dir.path, 'no-current')
    await cp(db, damaged, { recursive: true })
    await unlink(join(damaged, 'CURRENT'))
    const text = await cli('verify', damaged)
    assert.equal(text.code, 1)
    assert.match(text.out, /DAMAGED/)
    assert.match(text.out, /CURRENT is missing/)
    assert.match(text.out, /peerscope repair/)
    const asJson = await cli('verify', '--db', damaged, '--json')
    assert.equal(asJson.code, 1)
    assert.equal(JSON.parse(asJson.out).clean, false)
    // Other commands refuse it with the typed error rather than open it as a new, empty store.
    const stats = await cli('stats', '--db', damaged)
    assert.equal(stats.code, 1)
    assert.match(stats.err, /ERR_DB_CORRUPT/)
  })

  test('repair: backs up, prints the backup path and report, and the store verifies clean after', async () => {
    const damaged = join(dir.path, 'to-repair')
    await cp(db, damaged, { recursive: true })
    await unlink(join(damaged, 'CURRENT'))
    const repaired = await cli('repair', damaged)
    assert.equal(repaired.code, 0, repaired.err)
    const backup = /backup: (\S+)/.exec(repaired.out)?.[1]
    assert.ok(backup !== undefined, repaired.out)
    assert.ok(backup.startsWith(`${damaged}.backup-`))
    assert.ok(!(await readdir(backup)).includes('CURRENT'), 'the backup is the damaged directory as it was')
    assert.match(repaired.out, /after: {2}clean/)
    assert.equal((await cli('verify', damaged)).code, 0)
    const stats = await cli('stats', '--db', damaged)
    assert.equal(JSON.parse(stats.out).peers, 2)
    assert.equal((await cli('repair')).code, 2, 'repair needs a path')
    assert.equal((await cli('verify', join(dir.path, 'nowhere'))).code, 1)
  })

  test('a damaged table block is mended on open, with a warning naming the file and the kept original', async () => {
    const damaged = join(dir.path, 'to-mend')
    await cp(db, damaged, { recursive: true })
    await (await openPeerStore({ path: damaged, gc: { interval: 0 } })).close() // the log becomes a table file
    const table = (await readdir(damaged)).find((f) => f.endsWith('.ldb'))
    assert.ok(table !== undefined)
    // Bytes 2..9 lie in the first data block, which starts the file.
    const file = join(damaged, table)
    const bytes = await readFile(file)
    for (let i = 2; i < 10; i++) bytes[i]! ^= 0x5a
    await writeFile(file, bytes)
    const listed = await cli('peers', '--db', damaged, '--json')
    assert.equal(listed.code, 0, listed.err)
    assert.match(
      listed.err,
      new RegExp(`damaged table file ${table}: 1 of \\d+ blocks failed their checksum`)
    )
    assert.ok(listed.err.includes(join(damaged, 'lost', `${table}.damaged`)), listed.err)
    assert.deepEqual(await readFile(join(damaged, 'lost', `${table}.damaged`)), bytes)
    assert.equal((await cli('verify', damaged)).code, 0, 'the mended store verifies clean')
  })
})
