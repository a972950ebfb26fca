import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { appendFileSync, readFileSync, statSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { AddressTTL, openPeerStore, repairPeerStore } from '@peerscope/peerstore-level'
import { JOURNAL_FILES } from '../src/persistence/journal.ts'
import { tempDirs } from './suite/helpers.ts'

const { path: tempPath } = tempDirs('peerscope-journal-')

const journalBytes = (path: string): number =>
  JOURNAL_FILES.reduce((sum, name) => sum + statSync(join(path, name)).size, 0)

test('writes acknowledged before any LevelDB batch could land come back from the journal after SIGKILL', async () => {
  const path = await tempPath()
  const ids = await Promise.all(
    Array.from({ length: 300 }, async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519')))
  )
  const child = spawn(
    process.execPath,
    [
      '--conditions=@peerscope/source',
      new URL('./fixtures/journal-writer.ts', import.meta.url).pathname,
      path,
      JSON.stringify(ids.map(String))
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] }
  )
  const [, signal] = (await once(child, 'exit')) as [number | null, string | null]
  assert.equal(signal, 'SIGKILL', 'the writer killed itself after its last write resolved')
  assert.ok(journalBytes(path) > 0, 'the acknowledged writes are in the journal')

  const store = await openPeerStore({ path, gc: { interval: 0 } })
  try {
    assert.equal(store.peers().length, ids.length)
    for (const [i, id] of ids.entries()) {
      assert.deepEqual(
        store.addrs(id).map(String),
        [`/ip4/10.0.${i >> 8}.${i & 255}/tcp/4001`],
        `peer ${i} addresses`
      )
      assert.deepEqual(store.getProtocols(id), [`/journal/${i}`], `peer ${i} protocols`)
    }
    assert.equal(journalBytes(path), 0, 'the replayed journal was emptied once its records were in LevelDB')
  } finally {
    await store.close()
  }
})

test('GC’s removals are journaled: a peer written again after GC, then a crash, does not get back what GC removed', async () => {
  const path = await tempPath()
  const [again, gone] = await Promise.all(
    [0, 1].map(async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519')))
  )
  const child = spawn(
    process.execPath,
    [
      '--conditions=@peerscope/source',
      new URL('./fixtures/gc-writer.ts', import.meta.url).pathname,
      path,
      again!.toString(),
      gone!.toString()
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] }
  )
  const [, signal] = (await once(child, 'exit')) as [number | null, string | null]
  assert.equal(signal, 'SIGKILL', 'the writer killed itself after its last write resolved')
  const now = 1_700_000_000_000 + 2000
  const store = await openPeerStore({ path, clock: () => now, gc: { interval: 0 } })
  try {
    assert.deepEqual(store.peers().map(String), [again!.toString()])
    assert.deepEqual(store.addrs(again!).map(String), ['/ip4/10.0.0.2/tcp/2'])
    assert.equal(store.getMetadata(again!, 'agent'), undefined, 'the metadata GC removed stays removed')
  } finally {
    await store.close()
  }
})

test('a line cut short by a crash is ignored; the complete lines before it are replayed', async () => {
  const path = await tempPath()
  const id = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  let store = await openPeerStore({ path, gc: { interval: 0 } })
  await store.close()
  // What a process killed in the middle of appending would leave: a complete line, then a partial one.
  const journal = join(path, JOURNAL_FILES[0])
  appendFileSync(journal, `7\tprotos\t${id.toString()}\t["/whole/1.0.0"]\n`)
  appendFileSync(journal, `8\tprotos\t${id.toString()}\t["/cut`)
  store = await openPeerStore({ path, gc: { interval: 0 } })
  try {
    assert.deepEqual(store.getProtocols(id), ['/whole/1.0.0'])
    assert.deepEqual(store.openReport.quarantined, [])
  } finally {
    await store.close()
  }
})

test('the latest journaled state of a record wins, whichever file holds it; deletes are replayed', async () => {
  const path = await tempPath()
  const a = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const b = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  let store = await openPeerStore({ path, gc: { interval: 0 } })
  await store.setProtocols(b, ['/b/1.0.0'])
  await store.close()
  appendFileSync(join(path, JOURNAL_FILES[1]), `1\tprotos\t${a.toString()}\t["/old/1.0.0"]\n`)
  appendFileSync(join(path, JOURNAL_FILES[0]), `2\tprotos\t${a.toString()}\t["/new/1.0.0"]\n`)
  // Deleting b's last record deletes its write time too (a store with no peer ageing journals both).
  appendFileSync(join(path, JOURNAL_FILES[0]), `3\tprotos\t${b.toString()}\n4\tseen\t${b.toString()}\n`)
  store = await openPeerStore({ path, gc: { interval: 0 } })
  try {
    assert.deepEqual(store.getProtocols(a), ['/new/1.0.0'])
    assert.deepEqual(store.getProtocols(b), [], 'the journaled delete reached LevelDB')
    assert.equal(store.peers().length, 1)
  } finally {
    await store.close()
  }
})

test('close() leaves an empty journal and everything in LevelDB', async () => {
  const path = await tempPath()
  const id = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const store = await openPeerStore({ path, gc: { interval: 0 } })
  for (let i = 0; i < 50; i++) await store.addAddrs(id, [multiaddr(`/ip4/10.1.0.${i}/tcp/1`)], AddressTTL)
  await store.close()
  assert.equal(journalBytes(path), 0)
  // Read LevelDB directly: the records are there without any journal replay.
  const { Level } = await import('level')
  const db = new Level<string, string>(path)
  const addrs = db.sublevel<string, string>('addrs', { valueEncoding: 'utf8' })
  const raw = await addrs.get(id.toString())
  await db.close()
  assert.ok(raw !== undefined)
  assert.equal((JSON.parse(raw) as { a: unknown[] }).a.length, 50)
  assert.match(readFileSync(join(path, 'CURRENT'), 'utf8'), /MANIFEST/)
})

test('repairPeerStore carries the journal over, so writes acknowledged before a crash survive a repair', async () => {
  const path = await tempPath()
  const id = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const store = await openPeerStore({ path, gc: { interval: 0 } })
  await store.close()
  appendFileSync(join(path, JOURNAL_FILES[0]), `1\tprotos\t${id.toString()}\t["/journaled/1.0.0"]\n`)
  const report = await repairPeerStore(path)
  assert.equal(report.after.clean, true)
  const repaired = await openPeerStore({ path, gc: { interval: 0 } })
  try {
    assert.deepEqual(repaired.getProtocols(id), ['/journaled/1.0.0'])
  } finally {
    await repaired.close()
    await rm(report.backup, { recursive: true, force: true })
  }
})

test('a LevelDB batch that fails is written again by the next flush; nothing acknowledged is lost', async () => {
  const path = await tempPath()
  const a = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const b = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const { Level } = await import('level')
  const proto = Level.prototype as unknown as { _batch: (...args: unknown[]) => unknown }
  const batch = proto._batch
  let failures = 0
  const store = await openPeerStore({ path, gc: { interval: 0 } })
  try {
    // The next batch LevelDB is asked for fails, as it does when a compaction met a damaged table.
    proto._batch = function failingOnce() {
      proto._batch = batch
      failures++
      return Promise.reject(Object.assign(new Error('injected'), { code: 'LEVEL_CORRUPTION' }))
    }
    await store.setProtocols(a, ['/a/1.0.0'])
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.equal(failures, 1, 'the flush of a was refused')
    await store.setProtocols(b, ['/b/1.0.0'])
  } finally {
    proto._batch = batch
    await store.close()
  }
  assert.equal(journalBytes(path), 0, 'the retry landed, so close() emptied the journal')
  // Read LevelDB itself: both records are there, with no journal to replay.
  const db = new Level<string, string>(path)
  const protos = db.sublevel<string, string>('protos', { valueEncoding: 'utf8' })
  assert.equal(await protos.get(a.toString()), '["/a/1.0.0"]')
  assert.equal(await protos.get(b.toString()), '["/b/1.0.0"]')
  await db.close()
})

test('a change made after a write was journaled reaches LevelDB, not the journaled encoding', async () => {
  const path = await tempPath()
  let now = 1_800_000_000_000
  const [x, y] = await Promise.all([generateKeyPair('Ed25519'), generateKeyPair('Ed25519')])
  const first = peerIdFromPrivateKey(x)
  const peer = peerIdFromPrivateKey(y)
  const store = await openPeerStore({ path, clock: () => now, gc: { interval: 0 } })
  // The first write starts a flush, whose LevelDB batch completes on a later turn of the event loop; what
  // follows runs before it, so the peer's journaled encoding waits in the dirty set for the next batch.
  await store.addAddrs(first, [multiaddr('/ip4/10.9.0.1/tcp/1')], AddressTTL)
  await store.addAddrs(peer, [multiaddr('/ip4/10.9.0.2/tcp/1')], 1000)
  await store.addAddrs(peer, [multiaddr('/ip4/10.9.0.3/tcp/1')], AddressTTL)
  // The GC then drops the expired address in memory, without a journal entry of its own.
  now += 2000
  await store.gc()
  await store.close()
  const { Level } = await import('level')
  const db = new Level<string, string>(path)
  const raw = await db.sublevel<string, string>('addrs', { valueEncoding: 'utf8' }).get(peer.toString())
  await db.close()
  const stored = (JSON.parse(raw ?? '{"a":[]}') as { a: Array<[string]> }).a.map(([addr]) => addr)
  assert.deepEqual(stored, ['/ip4/10.9.0.3/tcp/1'])
})
