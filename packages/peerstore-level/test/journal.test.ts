import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { appendFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import {
  AddressTTL,
  openPeerStore,
  openReportWarnings,
  repairPeerStore,
  verifyPeerStore
} from '@peerscope/peerstore-level'
import { type JournaledRecord, journalFiles, journalText, removedText } from '../src/persistence/journal.ts'
import { seeded } from './fixtures/seeded.ts'
import { failLevelWrites, makeSeededPeers, tempDirs } from './suite/helpers.ts'

const { path: tempPath } = tempDirs('peerscope-journal-')

const journalBytes = (path: string): number =>
  journalFiles(path).reduce((sum, name) => sum + statSync(join(path, name)).size, 0)

/** Appends records to journal segment `n` as one append, as the store writes them. */
const journal = (path: string, n: number, records: JournaledRecord[]): void =>
  appendFileSync(join(path, `peerscope-journal-${String(n).padStart(8, '0')}`), journalText(records))

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

test('a crash in the middle of a GC run: reopened, every write that resolved is there, GC’s removals stay removed, the rest whole', async () => {
  const path = await tempPath()
  const ids = (await makeSeededPeers(400, 21)).map((p) => p.id)
  const half = ids.length / 2
  const child = spawn(
    process.execPath,
    [
      '--conditions=@peerscope/source',
      new URL('./fixtures/gc-crash-writer.ts', import.meta.url).pathname,
      path,
      JSON.stringify(ids.map(String)),
      '4'
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] }
  )
  let stdout = ''
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  const [, signal] = (await once(child, 'exit')) as [number | null, string | null]
  assert.equal(signal, 'SIGKILL', 'the writer killed itself mid-GC')
  const lines = stdout.trim().split('\n')
  const acked = lines
    .filter((l) => l.startsWith('ack '))
    .map((l) => l.split(' ').slice(1) as [string, string])
  const removedLine = lines.find((l) => l.startsWith('removed '))
  assert.ok(removedLine !== undefined, 'the writer listed what GC removed before the kill')
  const removed = new Set(removedLine.slice('removed '.length).split(',').filter(Boolean))
  assert.equal(acked.length, 4)
  assert.ok(removed.size > 0 && removed.size < half, `killed mid-GC (${removed.size} of ${half} removed)`)
  assert.ok(journalBytes(path) > 0, 'the journal holds what LevelDB had not taken')

  const now = 1_700_000_000_000 + 2000
  const store = await openPeerStore({ path, clock: () => now, gc: { interval: 0 } })
  try {
    const written = new Set(acked.map(([id]) => id))
    for (const [id, addr] of acked) {
      assert.ok(store.addrs(peerIdFromString(id)).map(String).includes(addr), `acknowledged ${addr} of ${id}`)
    }
    for (const [i, id] of ids.entries()) {
      const text = id.toString()
      const protocols = store.getProtocols(id)
      const agent = store.getMetadata(id, 'agent')
      if (removed.has(text) && !written.has(text)) {
        assert.deepEqual(protocols, [], `peer ${i}: GC removed it before the crash, it stays removed`)
        assert.equal(agent, undefined, `peer ${i}: its metadata too`)
        assert.equal(store.peers().map(String).includes(text), false, `peer ${i} is not listed`)
      } else if (!removed.has(text)) {
        assert.deepEqual(protocols, [`/crash/${i}`], `peer ${i}: not reached by GC, whole`)
        assert.equal(agent, `agent-${i}`, `peer ${i}: its metadata`)
      } else {
        // Removed, then written again: only what was written after the removal.
        assert.deepEqual(protocols, [], `peer ${i}: written again after its removal, without its old records`)
        assert.equal(agent, undefined)
      }
    }
    assert.ok(store.openReport.journal.replayed > 0)
    assert.deepEqual(store.openReport.journal.damage, [])
  } finally {
    await store.close()
  }
})

test('a `gone` line deletes every record of the peers it names; what was journaled for them after it is written', async () => {
  const path = await tempPath()
  const [a, b, c] = (await makeSeededPeers(3, 22)).map((p) => p.id) as [PeerId, PeerId, PeerId]
  let store = await openPeerStore({ path, gc: { interval: 0 } })
  for (const id of [a, b, c]) {
    await store.addAddrs(id, [multiaddr('/ip4/10.3.0.1/tcp/3')], AddressTTL)
    await store.setProtocols(id, ['/old/1.0.0'])
    await store.putMetadata(id, 'agent', 'old')
  }
  await store.close()
  // In LevelDB now; the journal (as a crash would leave it) removes a and b, then writes a's protocols again.
  appendFileSync(join(path, 'peerscope-journal-00000001'), removedText([a.toString(), b.toString()]))
  journal(path, 1, [{ kind: 'protos', key: a.toString(), value: '["/new/1.0.0"]' }])
  store = await openPeerStore({ path, gc: { interval: 0 } })
  try {
    assert.deepEqual(store.getProtocols(a), ['/new/1.0.0'])
    assert.deepEqual(store.addrs(a), [], 'the rest of a went with the removal')
    assert.equal(store.getMetadata(a, 'agent'), undefined)
    assert.deepEqual(store.getProtocols(b), [])
    assert.deepEqual(store.getProtocols(c), ['/old/1.0.0'], 'a peer the line does not name is untouched')
    assert.deepEqual(store.peers().map(String).sort(), [a.toString(), c.toString()].sort())
    assert.equal(store.openReport.journal.replayed, 3, 'one record and two peers removed whole')
    assert.equal(journalBytes(path), 0)
  } finally {
    await store.close()
  }
})

test('a line cut short by a crash is ignored; the complete lines before it are replayed', async () => {
  const path = await tempPath()
  const id = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  let store = await openPeerStore({ path, gc: { interval: 0 } })
  await store.close()
  // What a process killed in the middle of appending would leave: a complete append, then a partial one.
  journal(path, 1, [{ kind: 'protos', key: id.toString(), value: '["/whole/1.0.0"]' }])
  const cut = journalText([{ kind: 'protos', key: id.toString(), value: '["/cut/1.0.0"]' }])
  appendFileSync(join(path, 'peerscope-journal-00000001'), cut.slice(0, -8))
  store = await openPeerStore({ path, gc: { interval: 0 } })
  try {
    assert.deepEqual(store.getProtocols(id), ['/whole/1.0.0'])
    assert.deepEqual(store.openReport.quarantined, [])
  } finally {
    await store.close()
  }
})

test('the latest journaled state of a record wins (segments in number order); deletes are replayed', async () => {
  const path = await tempPath()
  const a = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const b = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  let store = await openPeerStore({ path, gc: { interval: 0 } })
  await store.setProtocols(b, ['/b/1.0.0'])
  await store.close()
  journal(path, 3, [{ kind: 'protos', key: a.toString(), value: '["/old/1.0.0"]' }])
  journal(path, 12, [{ kind: 'protos', key: a.toString(), value: '["/new/1.0.0"]' }])
  // Deleting b's last record deletes its write time too (a store with no peer ageing journals both).
  journal(path, 12, [
    { kind: 'protos', key: b.toString(), value: undefined },
    { kind: 'seen', key: b.toString(), value: undefined }
  ])
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
  journal(path, 1, [{ kind: 'protos', key: id.toString(), value: '["/journaled/1.0.0"]' }])
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
  let failures = 0
  let restore = (): void => {}
  const store = await openPeerStore({ path, gc: { interval: 0 } })
  try {
    // The next batch LevelDB is asked for fails, as it does when a compaction met a damaged table.
    restore = failLevelWrites(Level, {
      times: 1,
      error: () => Object.assign(new Error('injected'), { code: 'LEVEL_CORRUPTION' }),
      onFail: () => failures++
    })
    await store.setProtocols(a, ['/a/1.0.0'])
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.equal(failures, 1, 'the flush of a was refused')
    await store.setProtocols(b, ['/b/1.0.0'])
  } finally {
    restore()
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

/** Flips bit `bit` of byte `at` of `file`. */
function flipBit(file: string, at: number, bit: number): void {
  const bytes = readFileSync(file)
  bytes[at] = (bytes[at] as number) ^ (1 << bit)
  writeFileSync(file, bytes)
}

test('a damaged journal line is reported by verify and by the open, never replayed (no phantom peers)', async () => {
  const ids = await Promise.all(
    Array.from({ length: 5 }, async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString())
  )
  const random = seeded(18)
  const flips = 20
  let reported = 0
  for (let flip = 0; flip < flips; flip++) {
    const path = await tempPath()
    const store = await openPeerStore({ path, gc: { interval: 0 } })
    await store.close()
    // Five appends, one per peer: protocols and a write time.
    for (const [i, key] of ids.entries()) {
      journal(path, 1, [
        { kind: 'protos', key, value: `["/journal/${i}"]` },
        { kind: 'seen', key, value: String(1_800_000_000_000 + i) }
      ])
    }
    const file = join(path, 'peerscope-journal-00000001')
    const size = statSync(file).size
    // Any byte but the file's last newline (without it the last append reads as cut short by a crash).
    flipBit(file, Math.floor(random() * (size - 1)), Math.floor(random() * 8))
    const verified = await verifyPeerStore(path)
    assert.equal(verified.clean, false, `flip ${flip}: verify finds the damage`)
    assert.ok(verified.journal.damage.length >= 1)
    assert.match(
      verified.problems.join('\n'),
      /journal peerscope-journal-00000001 line \d+: .* will not be replayed/
    )
    const reopened = await openPeerStore({ path, gc: { interval: 0 } })
    try {
      const { journal: replay } = reopened.openReport
      assert.equal(replay.damage.length, 1, `flip ${flip}: the open reports it`)
      assert.equal(replay.keptAt.length, 1, 'the damaged file is kept under lost/')
      assert.match(openReportWarnings(reopened.openReport).join('\n'), /journal had 1 damaged line/)
      // Exactly the other four appends are back, each whole; nothing else.
      const peers = reopened.peers().map(String)
      assert.ok(
        peers.every((p) => ids.includes(p)),
        `flip ${flip}: no phantom peer (${peers})`
      )
      assert.equal(peers.length, 4, `flip ${flip}: only the damaged append is dropped`)
      for (const p of peers) {
        const i = ids.indexOf(p)
        assert.deepEqual(reopened.getProtocols(peerIdFromString(p)), [`/journal/${i}`])
      }
      reported++
    } finally {
      await reopened.close()
    }
  }
  console.log(
    `# journal damage: ${flips} one-bit flips, ${reported} reported by verify and the open, 0 replayed`
  )
})

test('an append with records missing (a crash mid-append, or an import cut short) is not replayed', async () => {
  const path = await tempPath()
  const [a, b] = await Promise.all([generateKeyPair('Ed25519'), generateKeyPair('Ed25519')])
  const [ka, kb] = [peerIdFromPrivateKey(a).toString(), peerIdFromPrivateKey(b).toString()]
  const store = await openPeerStore({ path, gc: { interval: 0 } })
  await store.close()
  const whole = journalText([
    { kind: 'protos', key: ka, value: '["/a/1.0.0"]' },
    { kind: 'protos', key: kb, value: '["/b/1.0.0"]' }
  ])
  // The first line of the append only: complete, checksummed, but not the end of its append.
  writeFileSync(join(path, 'peerscope-journal-00000001'), whole.slice(0, whole.indexOf('\n') + 1))
  const reopened = await openPeerStore({ path, gc: { interval: 0 } })
  try {
    assert.deepEqual(reopened.peers(), [])
    assert.deepEqual(reopened.openReport.journal, { replayed: 0, damage: [], keptAt: [] })
  } finally {
    await reopened.close()
  }
})

test('after a failed LevelDB write the journal outlives a close until LevelDB wrote a table file; the reopen replays it', async () => {
  const path = await tempPath()
  const { Level } = await import('level')
  const proto = Level.prototype as unknown as { compactRange: (...args: unknown[]) => Promise<void> }
  const compactRange = proto.compactRange
  let restore = (): void => {}
  const a = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const b = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const store = await openPeerStore({ path, gc: { interval: 0 } })
  store.addEventListener('flush-error', () => {})
  try {
    restore = failLevelWrites(Level, {
      times: 1,
      error: () =>
        Object.assign(new Error('IO error: 000003.log: No space left on device'), { code: 'LEVEL_IO_ERROR' })
    })
    // LevelDB's memtable cannot be written out: the old log stays in use.
    proto.compactRange = async () => {}
    await store.setProtocols(a, ['/a/1.0.0'])
    await assert.rejects(
      store.flush(),
      (err: { code?: string }) => err.code === 'ERR_STORAGE_FULL' || err.code === 'ERR_STORAGE_WRITE'
    )
    await store.setProtocols(b, ['/b/1.0.0'])
    await assert.rejects(store.flush(), (err: { code?: string; message?: string }) =>
      /memtable/.test(err.message ?? '')
    )
    assert.equal(store.storageStatus.degraded, true)
    assert.ok(store.storageStatus.journalBytes > 0)
  } finally {
    restore()
    await store.close()
    proto.compactRange = compactRange
  }
  assert.ok(
    journalBytes(path) > 0,
    'the close kept the journal: LevelDB took the writes, but only into its log'
  )
  const reopened = await openPeerStore({ path, gc: { interval: 0 } })
  try {
    assert.ok(reopened.openReport.journal.replayed >= 2)
    assert.deepEqual(reopened.getProtocols(a), ['/a/1.0.0'])
    assert.deepEqual(reopened.getProtocols(b), ['/b/1.0.0'])
    assert.equal(reopened.storageStatus.degraded, false)
  } finally {
    await reopened.close()
  }
  assert.equal(journalBytes(path), 0)
})

test('every one-bit flip of CURRENT fails the open with ERR_DB_CORRUPT naming peerscope repair; verify says so too', async () => {
  const path = await tempPath()
  const id = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const store = await openPeerStore({ path, gc: { interval: 0 } })
  await store.setProtocols(id, ['/current/1.0.0'])
  await store.close()
  const current = join(path, 'CURRENT')
  const original = readFileSync(current)
  const random = seeded(48)
  const flips = 48
  const codes = new Map<string, number>()
  for (let flip = 0; flip < flips; flip++) {
    writeFileSync(current, original)
    flipBit(current, Math.floor(random() * original.length), Math.floor(random() * 8))
    await assert.rejects(
      openPeerStore({ path, gc: { interval: 0 } }),
      (err: { code?: string; message?: string }) => {
        codes.set(err.code ?? 'untyped', (codes.get(err.code ?? 'untyped') ?? 0) + 1)
        assert.equal(err.code, 'ERR_DB_CORRUPT', `flip ${flip}: ${err.message}`)
        assert.match(err.message ?? '', new RegExp(`run \`peerscope repair ${path}\``))
        return true
      }
    )
    const verified = await verifyPeerStore(path)
    assert.equal(verified.clean, false)
    assert.match(verified.problems[0] ?? '', /CURRENT.*peerscope repair/)
  }
  const report = await repairPeerStore(path)
  await rm(report.backup, { recursive: true, force: true })
  const repaired = await openPeerStore({ path, gc: { interval: 0 } })
  try {
    assert.deepEqual(repaired.getProtocols(id), ['/current/1.0.0'], 'repair rebuilt it')
  } finally {
    await repaired.close()
  }
  console.log(
    `# CURRENT damage: ${flips} one-bit flips, ${codes.get('ERR_DB_CORRUPT') ?? 0} ERR_DB_CORRUPT naming repair`
  )
})

test('verify reports a LevelDB log whose tail LevelDB will drop, and the open says what it dropped', async () => {
  const path = await tempPath()
  const ids = await Promise.all(
    Array.from({ length: 300 }, async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519')))
  )
  const store = await openPeerStore({ path, gc: { interval: 0 } })
  for (const [i, id] of ids.entries()) {
    await store.setProtocols(id, [`/log/${i}/a-protocol-name`, `/log/${i}/another-protocol-name`])
  }
  await store.close()
  // A clean close leaves the writes in LevelDB's log (its memtable is not written out).
  const log = readdirSync(path).find((name) => /^\d+\.log$/.test(name)) as string
  const size = statSync(join(path, log)).size
  assert.ok(size > 32 * 1024, 'the log spans more than one block')
  flipBit(join(path, log), Math.floor(size / 3), 2)
  const verified = await verifyPeerStore(path)
  const damaged = verified.logs.find((l) => l.file === log)
  assert.ok(damaged?.damageAt !== undefined)
  assert.ok(damaged.droppedBytes > 0)
  assert.match(verified.problems.join('\n'), new RegExp(`LevelDB log ${log} is damaged at byte \\d+`))
  const reopened = await openPeerStore({ path, gc: { interval: 0 } })
  try {
    assert.equal(reopened.openReport.logDamage[0]?.file, log)
    assert.match(openReportWarnings(reopened.openReport).join('\n'), /LevelDB dropped \d+ bytes of writes/)
    assert.ok(reopened.peers().length < ids.length, 'LevelDB did drop writes (they were not in the journal)')
  } finally {
    await reopened.close()
  }
})

test('a journal in the first format (two files, no checksums) is replayed once, then removed', async () => {
  const path = await tempPath()
  const id = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const store = await openPeerStore({ path, gc: { interval: 0 } })
  await store.close()
  appendFileSync(join(path, 'peerscope-journal-b'), `1\tprotos\t${id.toString()}\t["/old/1.0.0"]\n`)
  appendFileSync(join(path, 'peerscope-journal-a'), `2\tprotos\t${id.toString()}\t["/new/1.0.0"]\n`)
  const reopened = await openPeerStore({ path, gc: { interval: 0 } })
  try {
    assert.deepEqual(reopened.getProtocols(id), ['/new/1.0.0'])
    assert.deepEqual(journalFiles(path), [])
  } finally {
    await reopened.close()
  }
})
