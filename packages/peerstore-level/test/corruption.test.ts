// Damage a real LevelDB peer store on disk (table files, MANIFEST, CURRENT, record values) and check what
// open reports, that the undamaged peers stay readable and writable, and what verify and repair do.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { access, cp, open, readdir, readFile, stat, truncate, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { multiaddr } from '@multiformats/multiaddr'
import { checkTableFile, inspectTableFile } from '@peerscope/leveldb-mend'
import { Level } from 'level'
import { compactAll, flipBytes } from '../../leveldb-mend/test/level-files.ts'
import {
  type LevelPeerStore,
  openPeerStore,
  PeerStoreError,
  repairPeerStore,
  verifyPeerStore
} from '../src/node.ts'
import { makePeers, makeSeededPeers, type TestPeer, tempDirs } from './suite/helpers.ts'

const HOUR = 3_600_000
const { dir: tempDir } = tempDirs('peerstore-level-corruption-')

const addrOf = (i: number) => multiaddr(`/ip4/10.${(i >> 8) & 255}.${i & 255}.1/tcp/4001`)

// Group A sits in compacted table files; group B, written later, in its own newer table file.
const A_PEERS = 1500
const B_PEERS = 500
let groupA: TestPeer[]
let groupB: TestPeer[]
let reference: string
let newestTable: string

async function write(store: LevelPeerStore, peers: TestPeer[], offset: number): Promise<void> {
  for (let i = 0; i < peers.length; i += 100) {
    await Promise.all(
      peers
        .slice(i, i + 100)
        .flatMap((p, j) => [
          store.addAddrs(p.id, [addrOf(offset + i + j)], HOUR),
          store.setProtocols(p.id, ['/ipfs/id/1.0.0', `/test/${offset + i + j}`])
        ])
    )
  }
}

async function tables(path: string): Promise<string[]> {
  return (await readdir(path)).filter((f) => /^\d+\.(ldb|sst)$/.test(f)).sort()
}

/** A fresh copy of the reference store to damage. */
async function copy(): Promise<string> {
  const path = join(await tempDir(), 'db')
  await cp(reference, path, { recursive: true })
  return path
}

/** Flips 8 bytes at 9 places spread over the file (inside data blocks; the index is at the end). */
async function flipDataBlocks(file: string): Promise<void> {
  const size = (await stat(file)).size
  for (let k = 1; k < 10; k++) await flipBytes(file, Math.floor((size * k) / 20), 8)
}

/** Every group A peer is there with exactly what was written. */
function assertGroupA(store: LevelPeerStore): void {
  groupA.forEach((p, i) => {
    assert.deepEqual(store.addrs(p.id).map(String), [addrOf(i).toString()], `addrs of A peer ${i}`)
    assert.deepEqual(store.getProtocols(p.id), ['/ipfs/id/1.0.0', `/test/${i}`], `protocols of A peer ${i}`)
  })
}

async function assertWritable(path: string, store: LevelPeerStore): Promise<void> {
  const [fresh] = await makePeers(1)
  await store.addAddrs(fresh!.id, [multiaddr('/ip4/192.0.2.7/tcp/1')], HOUR)
  await store.pin(groupA[0]!.id, 'after-damage')
  await store.close()
  const again = await openPeerStore({ path, gc: { interval: 0 } })
  assert.deepEqual(again.addrs(fresh!.id).map(String), ['/ip4/192.0.2.7/tcp/1'])
  assert.deepEqual(again.pins(groupA[0]!.id), ['after-damage'])
  await again.close()
}

async function digest(path: string): Promise<string> {
  const hash = createHash('sha256')
  for (const name of (await readdir(path)).sort()) {
    hash.update(name)
    hash.update(await readFile(join(path, name)))
  }
  return hash.digest('hex')
}

before(async () => {
  // Fixed keys, so a failure can be replayed (record values still hold the time, so block bounds vary a little).
  const peers = await makeSeededPeers(A_PEERS + B_PEERS, 0xc0ffee)
  groupA = peers.slice(0, A_PEERS)
  groupB = peers.slice(A_PEERS)
  reference = join(await tempDir(), 'db')
  let store = await openPeerStore({ path: reference, gc: { interval: 0 } })
  await write(store, groupA, 0)
  await store.close()
  // Push group A out of the log into compacted table files.
  await compactAll(reference)
  const before = await tables(reference)
  store = await openPeerStore({ path: reference, gc: { interval: 0 } })
  await write(store, groupB, A_PEERS)
  await store.close()
  // An open replays the log into a new level-0 table: group B's own file.
  store = await openPeerStore({ path: reference, gc: { interval: 0 } })
  await store.close()
  const added = (await tables(reference)).filter((t) => !before.includes(t))
  assert.equal(added.length, 1, 'group B landed in one new table file')
  newestTable = added[0]!
  assert.ok(before.length >= 1)
})

describe('no damage', () => {
  it('verifies clean, counts every record, and writes nothing to the directory', async () => {
    const path = await copy()
    const digestBefore = await digest(path)
    const report = await verifyPeerStore(path)
    assert.equal(report.clean, true, report.problems.join('; '))
    assert.deepEqual(report.problems, [])
    assert.equal(report.peers, A_PEERS + B_PEERS)
    // Per peer: its addresses, its protocols and its last write time.
    assert.equal(report.records.good, 3 * (A_PEERS + B_PEERS))
    assert.equal(report.records.undecodable, 0)
    assert.ok(report.tables.length >= 2)
    assert.ok(report.tables.every((t) => t.blocks > 2 && t.badBlocks === 0 && t.error === undefined))
    assert.equal(await digest(path), digestBefore, 'verify left every file as it was')
  })

  it('repair of an undamaged store loses nothing', async () => {
    const path = await copy()
    const report = await repairPeerStore(path)
    assert.equal(report.before.clean, true)
    assert.equal(report.after.clean, true)
    assert.deepEqual(report.recovered, { records: 3 * (A_PEERS + B_PEERS), peers: A_PEERS + B_PEERS })
    assert.deepEqual(report.lost, [])
    const store = await openPeerStore({ path, gc: { interval: 0 } })
    assertGroupA(store)
    assert.equal(store.peers().length, A_PEERS + B_PEERS)
    await store.close()
  })
})

describe('a damaged table file', () => {
  it('bytes flipped in data blocks: open mends the blocks, keeps the original, loads the rest, stays writable', async () => {
    const path = await copy()
    const file = join(path, newestTable)
    await flipDataBlocks(file)
    const damagedBytes = await readFile(file)
    const verified = await verifyPeerStore(path)
    assert.equal(verified.clean, false)
    const damaged = verified.tables.find((t) => t.file === newestTable)!
    assert.ok(damaged.badBlocks > 0, 'the checksum scan finds the flipped blocks')
    assert.ok(verified.tables.filter((t) => t.file !== newestTable).every((t) => t.badBlocks === 0))
    assert.deepEqual(verified.unreadable, [], 'verify read a mended copy: LevelDB met no damage')

    const store = await openPeerStore({ path, gc: { interval: 0 } })
    const report = store.openReport
    assert.deepEqual(
      report.mended.map(({ original: _, ...m }) => m),
      [
        {
          file: newestTable,
          blocks: damaged.blocks,
          badBlocks: damaged.badBlocks,
          blankedBlocks: damaged.badBlocks,
          emptied: false,
          filterDropped: false
        }
      ]
    )
    assert.deepEqual(
      await readFile(report.mended[0]!.original),
      damagedBytes,
      'the original is kept as it was'
    )
    assert.equal(report.mended[0]!.original, join(path, 'lost', `${newestTable}.damaged`))
    assert.equal(checkTableFile(newestTable, await readFile(file)).badBlocks, 0, 'every checksum matches now')
    assert.deepEqual(report.unreadable, [], 'LevelDB never met a damaged block')
    assert.deepEqual(report.quarantined, [], 'no garbled record reached the decoder')
    assertGroupA(store)
    assert.equal(report.peers, verified.peers, 'open loads every peer verify counted')
    const bPresent = groupB.filter((p) => store.addrs(p.id).length > 0).length
    assert.equal(bPresent, verified.records.byKind.addrs.good - A_PEERS, 'open loads what verify counted')
    assert.ok(
      bPresent > 0 && bPresent < B_PEERS,
      `group B lost the records in the damaged blocks (${bPresent})`
    )
    await assertWritable(path, store)
    const again = await openPeerStore({ path, gc: { interval: 0 } })
    assert.deepEqual(again.openReport.mended, [], 'nothing is left to mend')
    assert.equal(groupB.filter((p) => again.addrs(p.id).length > 0).length, bPresent)
    await again.close()
  })

  it('bytes flipped: repair backs up, keeps every record verify counted, and verifies clean', async () => {
    const path = await copy()
    await flipDataBlocks(join(path, newestTable))
    const damagedDigest = await digest(path)
    const report = await repairPeerStore(path)
    assert.equal(await digest(report.backup), damagedDigest, 'the backup is the directory as it was')
    assert.equal(report.before.clean, false)
    assert.equal(report.after.clean, true, report.after.problems.join('; '))
    assert.equal(report.recovered.records, report.before.records.good)
    assert.equal(report.recovered.peers, report.before.peers)
    assert.ok(report.lost.some((l) => l.includes(newestTable)))
    assert.deepEqual(report.leveldb, [], 'LevelDB could open it, so RepairDB was not needed')
    assert.equal(report.copied, report.recovered.records)
    const store = await openPeerStore({ path, gc: { interval: 0 } })
    assert.deepEqual(store.openReport.unreadable, [])
    assert.deepEqual(store.openReport.quarantined, [])
    assert.deepEqual(store.openReport.mended, [])
    assertGroupA(store)
    assert.equal(store.peers().length, report.recovered.peers)
    await assertWritable(path, store)
  })

  it('a damaged index block: open empties that file (its records are gone), the rest loads', async () => {
    const path = await copy()
    const file = join(path, newestTable)
    const layout = inspectTableFile(newestTable, await readFile(file))
    await flipBytes(file, layout.index!.offset + Math.floor(layout.index!.size / 2), 8)
    const verified = await verifyPeerStore(path)
    assert.match(verified.tables.find((t) => t.file === newestTable)!.error ?? '', /index block/)
    const store = await openPeerStore({ path, gc: { interval: 0 } })
    assert.equal(store.openReport.mended.length, 1)
    assert.equal(store.openReport.mended[0]!.emptied, true)
    assert.deepEqual(store.openReport.unreadable, [])
    assertGroupA(store)
    assert.equal(store.peers().length, A_PEERS, 'group B was only in the emptied file')
    assert.equal(verified.peers, A_PEERS, 'verify counted the same')
    await assertWritable(path, store)
  })

  it('a damaged bloom filter: open drops the filter and loses no record', async () => {
    const path = await copy()
    const file = join(path, newestTable)
    const layout = inspectTableFile(newestTable, await readFile(file))
    assert.equal(layout.metaBlocks.length, 1, 'classic-level writes one bloom filter block per table')
    const filter = layout.metaBlocks[0]!
    await flipBytes(file, filter.offset + Math.floor(filter.size / 2), 8)
    const store = await openPeerStore({ path, gc: { interval: 0 } })
    assert.deepEqual(
      store.openReport.mended.map((m) => [m.file, m.blankedBlocks, m.emptied, m.filterDropped]),
      [[newestTable, 0, false, true]]
    )
    assertGroupA(store)
    assert.equal(store.peers().length, A_PEERS + B_PEERS)
    await assertWritable(path, store)
  })

  it('a garbled key that aborts a plain LevelDB reader: open mends the block first', async () => {
    const path = await copy()
    // Rewrite every table uncompressed, so a changed byte is read back as it is (Snappy might reject it).
    await compactAll(path, { compression: false })
    // The table holding the smallest key: its first data block is where a read of the addrs sublevel seeks.
    let first: { file: string; key: Buffer; offset: number } | undefined
    for (const name of await tables(path)) {
      const buf = await readFile(join(path, name))
      const { offset } = inspectTableFile(name, buf).dataBlocks[0]!
      assert.equal(buf[offset], 0, 'the first entry shares no key bytes')
      const keyLength = buf[offset + 1]!
      assert.ok(keyLength > 8 && keyLength < 128, 'a one-byte key length')
      const key = buf.subarray(offset + 3, offset + 3 + keyLength)
      if (first === undefined || Buffer.compare(key, first.key) < 0) first = { file: name, key, offset }
    }
    assert.ok(first, 'a table file')
    assert.ok(first.key.toString().startsWith('!addrs!'), 'its first key is an address record')
    // Its first key becomes 4 bytes long: shorter than LevelDB's 8-byte key suffix.
    const fh = await open(join(path, first.file), 'r+')
    await fh.write(Buffer.from([4]), 0, 1, first.offset + 1)
    await fh.close()

    const plain = join(await tempDir(), 'db')
    await cp(path, plain, { recursive: true })
    const reader = `
      const { Level } = await import('level')
      const db = new Level(process.argv[1])
      await db.open()
      for await (const _ of db.iterator({ gte: '!addrs!', lt: '!addrs"' })) {}
      await db.close()
      console.log('read without a crash')`
    const child = await new Promise<{ signal: string | null; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--input-type=module', '-e', reader, plain],
        { cwd: fileURLToPath(new URL('..', import.meta.url)) },
        (err, _stdout, stderr) => resolve({ signal: err?.signal ?? null, stderr })
      )
    })
    assert.equal(child.signal, 'SIGABRT', `LevelDB aborts the process that reads it (${child.stderr.trim()})`)
    assert.match(child.stderr, /Assertion/)

    const store = await openPeerStore({ path, gc: { interval: 0 } })
    const { mended } = store.openReport
    assert.deepEqual(
      mended.map((m) => [m.file, m.blankedBlocks]),
      [[first.file, 1]]
    )
    assert.deepEqual(store.openReport.quarantined, [])
    const withAddrs = [...groupA, ...groupB].filter((p) => store.addrs(p.id).length > 0).length
    assert.ok(withAddrs < A_PEERS + B_PEERS && withAddrs > A_PEERS, `only one block was lost (${withAddrs})`)
    await assertWritable(path, store)
  })

  it('truncated: open reports the file as unreadable; the peers in other files are all there', async () => {
    const path = await copy()
    const file = join(path, newestTable)
    await truncate(file, Math.floor((await stat(file)).size / 2))
    const store = await openPeerStore({ path, gc: { interval: 0 } })
    const { unreadable } = store.openReport
    assert.ok(unreadable.some((u) => u.kind === 'addrs' && u.code === 'LEVEL_IO_ERROR'))
    assert.ok(unreadable[0]!.message.includes(newestTable), 'the message names the file')
    assertGroupA(store)
    assert.equal(store.peers().length, A_PEERS, 'group B was only in the truncated file')
    await assertWritable(path, store)

    const verified = await verifyPeerStore(path)
    assert.equal(verified.clean, false)
    assert.match(verified.tables.find((t) => t.file === newestTable)!.error ?? '', /bad magic/)
    const repaired = await repairPeerStore(path)
    assert.equal(repaired.after.clean, true, repaired.after.problems.join('; '))
    assert.ok(repaired.lost.some((l) => l.includes(newestTable) && l.includes('lost')))
    const reopened = await openPeerStore({ path, gc: { interval: 0 } })
    assertGroupA(reopened)
    assert.deepEqual(reopened.openReport.unreadable, [])
    await reopened.close()
  })

  it('removed: open fails with ERR_DB_CORRUPT naming the path and the repair command; repair recovers the rest', async () => {
    const path = await copy()
    await unlink(join(path, newestTable))
    await assert.rejects(openPeerStore({ path, gc: { interval: 0 } }), (err: unknown) => {
      assert.ok(err instanceof PeerStoreError)
      assert.equal(err.code, 'ERR_DB_CORRUPT')
      assert.ok(err.message.includes(path))
      assert.ok(err.message.includes(`peerscope repair ${path}`))
      assert.match(err.message, /missing files/)
      return true
    })
    const verified = await verifyPeerStore(path)
    assert.equal(verified.clean, false)
    assert.match(verified.openError ?? '', /1 missing files/)
    const repaired = await repairPeerStore(path)
    assert.equal(repaired.after.clean, true)
    assert.equal(repaired.recovered.peers, A_PEERS)
    assert.ok(repaired.lost.some((l) => /1 table file\(s\) were missing/.test(l)))
    assert.ok(
      repaired.leveldb.some((l) => l.startsWith('Table #')),
      'RepairDB ran and its log is reported'
    )
    const store = await openPeerStore({ path, gc: { interval: 0 } })
    assertGroupA(store)
    await assertWritable(path, store)
  })
})

describe('damaged MANIFEST or CURRENT', () => {
  it('a damaged MANIFEST fails open with ERR_DB_CORRUPT; repair rebuilds it from the tables, losing nothing', async () => {
    const path = await copy()
    const manifest = (await readdir(path)).find((f) => f.startsWith('MANIFEST-'))!
    await flipBytes(join(path, manifest), 10, 8)
    await assert.rejects(openPeerStore({ path, gc: { interval: 0 } }), { code: 'ERR_DB_CORRUPT' })
    assert.equal((await verifyPeerStore(path)).clean, false)
    const repaired = await repairPeerStore(path)
    assert.equal(repaired.after.clean, true)
    assert.equal(repaired.recovered.peers, A_PEERS + B_PEERS)
    const store = await openPeerStore({ path, gc: { interval: 0 } })
    assertGroupA(store)
    assert.equal(store.peers().length, A_PEERS + B_PEERS)
    await store.close()
  })

  it('a missing CURRENT fails open with ERR_DB_CORRUPT and deletes nothing (LevelDB would start afresh)', async () => {
    const path = await copy()
    await unlink(join(path, 'CURRENT'))
    const files = await tables(path)
    await assert.rejects(openPeerStore({ path, gc: { interval: 0 } }), (err: unknown) => {
      return err instanceof PeerStoreError && err.code === 'ERR_DB_CORRUPT' && err.message.includes(path)
    })
    assert.deepEqual(await tables(path), files, 'the table files are still there')
    assert.match((await verifyPeerStore(path)).openError ?? '', /CURRENT is missing/)
    const repaired = await repairPeerStore(path)
    assert.equal(repaired.after.clean, true)
    assert.equal(repaired.recovered.peers, A_PEERS + B_PEERS)
  })
})

describe('damaged record values', () => {
  it('verify counts them, open and repair quarantine them, and verify is clean afterwards', async () => {
    const path = await copy()
    const raw = new Level<string, string>(path)
    await raw
      .sublevel<string, string>('addrs', {})
      .put(groupA[1]!.id.toString(), '{"a": [["/ip4/1.2.3.4", "x"')
    await raw.sublevel<string, string>('protos', {}).put(groupA[2]!.id.toString(), '{"not": "a list"}')
    await raw.close()
    const verified = await verifyPeerStore(path)
    assert.equal(verified.clean, false)
    assert.equal(verified.records.undecodable, 2)
    assert.deepEqual(verified.undecodable.map((u) => u.kind).sort(), ['addrs', 'protos'])
    assert.ok(
      verified.tables.every((t) => t.badBlocks === 0),
      'the tables themselves are intact'
    )

    const repaired = await repairPeerStore(path)
    assert.equal(repaired.quarantined.length, 2)
    assert.equal(repaired.after.clean, true)
    assert.equal(repaired.after.quarantined, 2, 'the raw values are kept in the quarantine')
    const store = await openPeerStore({ path, gc: { interval: 0 } })
    assert.deepEqual(store.addrs(groupA[1]!.id), [])
    assert.deepEqual(store.getProtocols(groupA[1]!.id), ['/ipfs/id/1.0.0', '/test/1'])
    assert.equal((await store.quarantined()).length, 2)
    await store.close()
  })
})

describe('verify and repair refuse', () => {
  it('a path with no database (ERR_DB_OPEN) and create nothing there', async () => {
    const path = join(await tempDir(), 'nothing')
    await assert.rejects(verifyPeerStore(path), { code: 'ERR_DB_OPEN' })
    await assert.rejects(repairPeerStore(path), { code: 'ERR_DB_OPEN' })
    await assert.rejects(access(path))
  })

  it('a store held open by a running process (ERR_DB_LOCKED, Linux /proc/locks)', async (t) => {
    if (
      !(await access('/proc/locks').then(
        () => true,
        () => false
      ))
    ) {
      t.skip('no /proc/locks')
      return
    }
    const path = await copy()
    const store = await openPeerStore({ path, gc: { interval: 0 } })
    try {
      await assert.rejects(verifyPeerStore(path), { code: 'ERR_DB_LOCKED' })
      await assert.rejects(repairPeerStore(path), { code: 'ERR_DB_LOCKED' })
    } finally {
      await store.close()
    }
    assert.equal((await readdir(join(path, '..'))).length, 1, 'no backup was made')
  })
})
