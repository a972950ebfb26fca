// The write path alone, driven with a fake database: what each batch holds, how writes share batches, how a large
// backlog is cut into batches, what the journal is given, and what happens when a batch fails.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { JournaledRecord } from '../src/persistence/journal.ts'
import {
  type RecordDatabase,
  type RecordOp,
  type WriteJournal,
  WritePath
} from '../src/persistence/write-path.ts'
import {
  type BatchFailure,
  newEntry,
  type PeerEntry,
  RECORD_KIND_BIT,
  type RecordKind
} from '../src/types.ts'
import { makeSeededPeers } from './suite/helpers.ts'

type Op = RecordOp<string>

/** A database that records every batch; a batch can be held (slow disk) or made to fail. */
class FakeDatabase implements RecordDatabase<string> {
  readonly sublevels = {
    addrs: 'addrs',
    keys: 'keys',
    protos: 'protos',
    meta: 'meta',
    tags: 'tags',
    pins: 'pins',
    seen: 'seen'
  }
  readonly batches: Op[][] = []
  failures = 0
  /** Calls of `forceFlush` (LevelDB's memtable to a table file); `forceFailures` of them fail first. */
  forced = 0
  forceFailures = 0

  async forceFlush(): Promise<void> {
    this.forced++
    if (this.forceFailures > 0) {
      this.forceFailures--
      throw new Error('IO error: 000005.ldb: No space left on device')
    }
  }
  #held: PromiseWithResolvers<void> | undefined

  /** Batches from now on wait until `release()`. */
  hold(): void {
    this.#held = Promise.withResolvers<void>()
  }

  release(): void {
    const held = this.#held
    this.#held = undefined
    held?.resolve()
  }

  async batch(ops: Op[]): Promise<void> {
    this.batches.push(ops)
    await this.#held?.promise
    if (this.failures > 0) {
      this.failures--
      throw new Error('disk full')
    }
  }
}

/** A journal that records what it is given; `backlog` is set by the test. */
class FakeJournal implements WriteJournal {
  readonly appended: JournaledRecord[] = []
  appends = 0
  backlog = 0
  rotations = 0
  released = 0
  /** The next append fails, as a full disk makes it. */
  failNext = false

  append(records: readonly JournaledRecord[]): void {
    if (this.failNext) {
      this.failNext = false
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
    }
    this.appends++
    this.appended.push(...records)
  }

  appendGroup(records: readonly JournaledRecord[]): void {
    this.appended.push(...records)
  }

  /** Peers removed whole, one entry per append. */
  readonly removed: string[][] = []

  appendRemoved(keys: readonly string[]): void {
    if (this.failNext) {
      this.failNext = false
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
    }
    this.appends++
    this.removed.push([...keys])
  }

  rotate(): () => void {
    this.rotations++
    return () => {
      this.released++
    }
  }
}

const PROTOS: RecordKind[] = ['protos']

async function entries(n: number): Promise<Map<string, PeerEntry>> {
  const index = new Map<string, PeerEntry>()
  for (const peer of await makeSeededPeers(n, 20)) {
    const entry = newEntry(peer.id)
    entry.protocols = ['/a']
    index.set(peer.id.toString(), entry)
  }
  return index
}

function keysOf(ops: Op[]): string[] {
  return [...new Set(ops.map((op) => op.key))]
}

describe('write path (fake database)', () => {
  it('without a journal a write resolves once its batch is written; a missing entry is a delete', async () => {
    const index = await entries(2)
    const [a, b] = [...index.keys()] as [string, string]
    const db = new FakeDatabase()
    const writes = new WritePath({ db, index })
    db.hold()
    let resolved = false
    const written = writes.commit(a, PROTOS).then(() => {
      resolved = true
    })
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(resolved, false, 'not before the batch is written')
    db.release()
    await written
    assert.deepEqual(db.batches, [[{ type: 'put', sublevel: 'protos', key: a, value: '["/a"]' }]])
    index.delete(b)
    await writes.commit(b, ['protos', 'keys'])
    assert.deepEqual(db.batches[1], [
      { type: 'del', sublevel: 'keys', key: b },
      { type: 'del', sublevel: 'protos', key: b }
    ])
    assert.equal(writes.pendingPeers, 0)
  })

  it('writes made while a batch is in flight share the next batch, and all of them resolve', async () => {
    const index = await entries(5)
    const keys = [...index.keys()]
    const db = new FakeDatabase()
    const writes = new WritePath({ db, index })
    db.hold()
    const first = writes.commit(keys[0]!, PROTOS)
    await new Promise((resolve) => setImmediate(resolve))
    const rest = keys.slice(1).map((key) => writes.commit(key, PROTOS))
    // The same peer twice: one op in the batch.
    rest.push(writes.commit(keys[1]!, PROTOS))
    db.release()
    await Promise.all([first, ...rest])
    assert.equal(db.batches.length, 2)
    assert.deepEqual(keysOf(db.batches[0]!), [keys[0]])
    assert.deepEqual(keysOf(db.batches[1]!).sort(), keys.slice(1).sort())
    assert.equal(db.batches[1]!.length, 4)
  })

  it('a backlog is written in batches of at most peersPerBatch peers, one peer never split', async () => {
    const index = await entries(25)
    const db = new FakeDatabase()
    const writes = new WritePath({ db, index, peersPerBatch: 10 })
    for (const key of index.keys()) writes.markDirty(key, ['protos', 'addrs'])
    await writes.flush()
    assert.deepEqual(
      db.batches.map((ops) => keysOf(ops).length),
      [10, 10, 5]
    )
    const seen = db.batches.flatMap((ops) => keysOf(ops))
    assert.equal(new Set(seen).size, 25, 'each peer in exactly one batch')
    for (const ops of db.batches) assert.equal(ops.length, 2 * keysOf(ops).length)
  })

  it('with a journal a write resolves at once, the journal gets the new values, and LevelDB follows in a later turn', async () => {
    const index = await entries(1)
    const [key] = [...index.keys()] as [string]
    const db = new FakeDatabase()
    const journal = new FakeJournal()
    const writes = new WritePath({ db, journal, index })
    db.hold()
    await writes.commit(key, PROTOS)
    assert.deepEqual(journal.appended, [{ kind: 'protos', key, value: '["/a"]' }])
    assert.equal(db.batches.length, 0, 'no batch is encoded in the turn of the write')
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(db.batches.length, 1, 'the batch is under way')
    db.release()
    assert.equal(await writes.drain(), true)
    assert.deepEqual(db.batches[0], [{ type: 'put', sublevel: 'protos', key, value: '["/a"]' }])
    assert.equal(journal.rotations, 1)
    assert.equal(journal.released, 1, 'the journal file the batch covered is emptied once it landed')
  })

  it('settleMarked lets LevelDB follow in the background with a journal, and waits for it without one', async () => {
    const index = await entries(2)
    const [a, b] = [...index.keys()] as [string, string]
    const db = new FakeDatabase()
    const journaled = new WritePath({ db, journal: new FakeJournal(), index })
    db.hold()
    journaled.markDirty(a, PROTOS)
    await journaled.settleMarked()
    assert.equal(journaled.pendingPeers, 1, 'resolved before LevelDB has it')
    db.release()
    assert.equal(await journaled.drain(), true)
    const plainDb = new FakeDatabase()
    const plain = new WritePath({ db: plainDb, index })
    plain.markDirty(b, PROTOS)
    await plain.settleMarked()
    assert.equal(plain.pendingPeers, 0, 'resolved once LevelDB has it')
    assert.deepEqual(plainDb.batches, [[{ type: 'put', sublevel: 'protos', key: b, value: '["/a"]' }]])
  })

  it('past the backlog limit a journaled write waits for LevelDB again', async () => {
    const index = await entries(1)
    const [key] = [...index.keys()] as [string]
    const db = new FakeDatabase()
    const journal = new FakeJournal()
    const writes = new WritePath({ db, journal, index, backlogLimit: 100 })
    journal.backlog = 101
    db.hold()
    let resolved = false
    const written = writes.commit(key, PROTOS).then(() => {
      resolved = true
    })
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(resolved, false)
    db.release()
    await written
  })

  it('a failed batch with a journal is reported at once, kept dirty, and written by the next flush', async () => {
    const index = await entries(3)
    const keys = [...index.keys()]
    const db = new FakeDatabase()
    const journal = new FakeJournal()
    const failures: BatchFailure[] = []
    const writes = new WritePath({ db, journal, index, onBatchError: (f) => failures.push(f) })
    for (const key of keys) writes.markDirty(key, PROTOS)
    db.failures = 1
    await assert.rejects(writes.flush(), /disk full/)
    assert.deepEqual(
      failures.map((f) => [f.peers, f.retried]),
      [[3, true]]
    )
    assert.equal(writes.pendingPeers, 3, 'every record not written is dirty again')
    assert.equal(journal.released, 0, 'the journal keeps what did not land')
    await writes.flush()
    assert.equal(writes.pendingPeers, 0)
    assert.deepEqual(keysOf(db.batches.at(-1)!).sort(), [...keys].sort())
    assert.ok(journal.released >= 1)
    assert.equal(await writes.drain(), true)
  })

  it('removed peers: one journal append naming them, deletes of the kinds each held, in batches of removedPerBatch', async () => {
    const index = await entries(5)
    const keys = [...index.keys()]
    for (const key of keys) index.delete(key)
    const db = new FakeDatabase()
    const journal = new FakeJournal()
    const writes = new WritePath({ db, journal, index, removedPerBatch: 2 })
    const protosAndSeen = RECORD_KIND_BIT.protos | RECORD_KIND_BIT.seen
    writes.journalRemoved(keys, [protosAndSeen, RECORD_KIND_BIT.addrs, protosAndSeen, protosAndSeen, 0])
    assert.deepEqual(journal.removed, [keys], 'one append, every key')
    assert.deepEqual(journal.appended, [], 'no record lines')
    assert.equal(writes.pendingPeers, 5)
    await writes.settleMarked()
    await writes.flush()
    assert.deepEqual(
      db.batches.map((ops) => ops.map((op) => `${op.type} ${op.sublevel} ${keys.indexOf(op.key)}`)),
      [
        ['del protos 0', 'del seen 0', 'del addrs 1'],
        ['del protos 2', 'del seen 2', 'del protos 3', 'del seen 3']
      ],
      'a peer holding nothing costs no op; a batch with no op is not written'
    )
    assert.equal(writes.pendingPeers, 0)
  })

  it('a peer removed and written again before LevelDB takes either ends as written; removed again, it ends removed', async () => {
    const index = await entries(2)
    const [a, b] = [...index.keys()] as [string, string]
    const entryA = index.get(a)!
    const db = new FakeDatabase()
    const writes = new WritePath({ db, journal: new FakeJournal(), index })
    db.hold()
    index.delete(a)
    index.delete(b)
    writes.journalRemoved([a, b], [RECORD_KIND_BIT.protos, RECORD_KIND_BIT.protos])
    index.set(a, entryA)
    await writes.commit(a, PROTOS)
    // b: written again, then removed again.
    const entryB = newEntry(entryA.id)
    entryB.protocols = ['/b']
    index.set(b, entryB)
    await writes.commit(b, PROTOS)
    index.delete(b)
    writes.journalRemoved([b], [RECORD_KIND_BIT.protos])
    db.release()
    await writes.flush()
    // Replaying every op in order gives the final state of each record.
    const state = new Map<string, string | undefined>()
    for (const op of db.batches.flat())
      state.set(`${op.sublevel} ${op.key}`, op.type === 'put' ? op.value : undefined)
    assert.equal(state.get(`protos ${a}`), '["/a"]', 'a ends as written again')
    assert.equal(state.get(`protos ${b}`), undefined, 'b ends removed')
    assert.equal(writes.pendingPeers, 0)
  })

  it('a failed batch of removals is written again by the retry, before removals queued since', async () => {
    const index = await entries(4)
    const keys = [...index.keys()]
    for (const key of keys) index.delete(key)
    const db = new FakeDatabase()
    const failures: BatchFailure[] = []
    const writes = new WritePath({
      db,
      journal: new FakeJournal(),
      index,
      removedPerBatch: 1,
      onBatchError: (f) => failures.push(f)
    })
    const protos = RECORD_KIND_BIT.protos
    writes.journalRemoved(keys.slice(0, 3), [protos, protos, protos])
    // The first batch lands, the second fails.
    let calls = 0
    const batch = db.batch.bind(db)
    db.batch = async (ops) => {
      if (++calls === 2) db.failures = 1
      return batch(ops)
    }
    await assert.rejects(writes.flush(), (err: { code?: string }) => err.code === 'ERR_STORAGE_WRITE')
    assert.deepEqual(
      failures.map((f) => [f.peers, f.retried]),
      [[1, true]]
    )
    assert.equal(writes.pendingPeers, 2, 'the failed removal and the one after it are queued again')
    writes.journalRemoved([keys[3]!], [protos])
    await writes.flush()
    assert.deepEqual(
      db.batches.map((ops) => keys.indexOf(ops[0]!.key)),
      [0, 1, 1, 2, 3],
      'in the order removed'
    )
    assert.equal(writes.pendingPeers, 0)
  })

  it('without a journal, removals wait for LevelDB in settleMarked', async () => {
    const index = await entries(1)
    const [key] = [...index.keys()] as [string]
    index.delete(key)
    const db = new FakeDatabase()
    const writes = new WritePath({ db, index })
    writes.journalRemoved([key], [RECORD_KIND_BIT.protos])
    db.hold()
    let settled = false
    const done = writes.settleMarked().then(() => {
      settled = true
    })
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(settled, false)
    db.release()
    await done
    assert.deepEqual(db.batches, [[{ type: 'del', sublevel: 'protos', key }]])
  })

  it('a failed batch without a journal rejects the waiting writes, is reported, and is not retried', async () => {
    const index = await entries(1)
    const [key] = [...index.keys()] as [string]
    const db = new FakeDatabase()
    const failures: BatchFailure[] = []
    const writes = new WritePath({ db, index, onBatchError: (f) => failures.push(f) })
    db.failures = 1
    await assert.rejects(writes.commit(key, PROTOS), /disk full/)
    assert.deepEqual(
      failures.map((f) => [f.peers, f.retried]),
      [[1, false]]
    )
    assert.equal(writes.pendingPeers, 0)
  })

  it('drain() says whether anything is left unwritten (with a journal, a last failed batch leaves it dirty)', async () => {
    const index = await entries(2)
    const keys = [...index.keys()]
    const db = new FakeDatabase()
    const journal = new FakeJournal()
    const writes = new WritePath({ db, journal, index, onBatchError: () => {} })
    for (const key of keys) writes.markDirty(key, PROTOS)
    db.failures = 1
    assert.equal(await writes.drain(), false)
    assert.equal(writes.pendingPeers, 2)
    assert.equal(await writes.drain(), true)
  })

  it('every mark is announced, so read caches can drop the entry', async () => {
    const index = await entries(1)
    const [key] = [...index.keys()] as [string]
    const marked: string[] = []
    const writes = new WritePath({ db: new FakeDatabase(), index, onMarked: (k) => marked.push(k) })
    await writes.commit(key, PROTOS)
    writes.markDirty(key, ['addrs'])
    assert.deepEqual(marked, [key, key])
    await writes.drain()
  })

  it('after a failed batch the journal is kept until LevelDB wrote its memtable to a table file', async () => {
    const index = await entries(2)
    const keys = [...index.keys()]
    const db = new FakeDatabase()
    const journal = new FakeJournal()
    const writes = new WritePath({ db, journal, index, onBatchError: () => {}, location: '/store' })
    await writes.commit(keys[0]!, PROTOS)
    await writes.flush()
    assert.equal(db.forced, 0, 'no failure yet: LevelDB is trusted, nothing is forced')
    const releasedBefore = journal.released
    db.failures = 1
    writes.markDirty(keys[1]!, PROTOS)
    await assert.rejects(writes.flush(), (err: { code?: string }) => err.code === 'ERR_STORAGE_WRITE')
    assert.equal(writes.logTrusted, false)
    // The retry writes the batch, then forcing the memtable out fails: the journal stays whole.
    db.forceFailures = 1
    await assert.rejects(writes.flush(), (err: { code?: string }) => err.code === 'ERR_STORAGE_FULL')
    assert.equal(writes.pendingPeers, 0, 'the batch itself landed')
    assert.equal(journal.released, releasedBefore, 'but nothing of the journal was dropped')
    assert.equal(await writes.drain(), true, 'drain forces it again, and it succeeds')
    assert.equal(db.forced, 2)
    assert.equal(writes.logTrusted, true)
    assert.ok(journal.released > releasedBefore)
  })

  it('drain() is false while the memtable cannot be written out: the journal must outlive the close', async () => {
    const index = await entries(1)
    const [key] = [...index.keys()] as [string]
    const db = new FakeDatabase()
    const journal = new FakeJournal()
    const writes = new WritePath({ db, journal, index, onBatchError: () => {} })
    db.failures = 1
    db.forceFailures = 5
    await writes.commit(key, PROTOS)
    await writes.flush().catch(() => {})
    assert.equal(await writes.drain(), false)
    assert.equal(writes.pendingPeers, 0)
  })

  it('a journal append that fails rejects typed, tells the store, and leaves nothing dirty', async () => {
    const index = await entries(1)
    const [key] = [...index.keys()] as [string]
    const db = new FakeDatabase()
    const journal = new FakeJournal()
    const failed: string[] = []
    const writes = new WritePath({
      db,
      journal,
      index,
      onCommitFailed: (k) => failed.push(k),
      location: '/store'
    })
    journal.failNext = true
    await assert.rejects(writes.commit(key, PROTOS), (err: { code?: string; message?: string }) => {
      assert.equal(err.code, 'ERR_STORAGE_FULL')
      assert.match(err.message ?? '', /\/store .*not applied.*free space/)
      return true
    })
    assert.deepEqual(failed, [key])
    assert.equal(writes.pendingPeers, 0)
    assert.deepEqual(journal.appended, [])
    await writes.commit(key, PROTOS)
    assert.equal(journal.appended.length, 1, 'the next append goes through')
    assert.equal(await writes.drain(), true)
  })

  it('while LevelDB fails and the journal is past its limit, writes are refused before they change anything', async () => {
    const index = await entries(1)
    const [key] = [...index.keys()] as [string]
    const db = new FakeDatabase()
    const journal = new FakeJournal()
    const writes = new WritePath({ db, journal, index, backlogLimit: 100, onBatchError: () => {} })
    writes.assertWritable()
    journal.backlog = 101
    writes.assertWritable() // LevelDB works: past the limit a write only waits
    db.failures = 1
    writes.markDirty(key, PROTOS)
    await writes.flush().catch(() => {})
    assert.throws(
      () => writes.assertWritable(),
      (err: { code?: string; message?: string }) =>
        err.code === 'ERR_STORAGE_WRITE' && /refuses writes/.test(err.message ?? '')
    )
    await writes.flush()
    writes.assertWritable()
    await writes.drain()
  })
})
