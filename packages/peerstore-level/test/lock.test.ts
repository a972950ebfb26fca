// One store per directory. A second open of a held directory fails with ERR_DB_LOCKED and leaves the first
// store's lock in place: in the same process (LevelDB would close its own LOCK descriptor and so drop the
// process's POSIX lock) and from another process. Verify, repair and gc never run on a live store, and processes
// racing to open and close one directory only ever see ERR_DB_LOCKED.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { multiaddr } from '@multiformats/multiaddr'
import { lockHeld } from '@peerscope/leveldb-mend'
import { openPeerStore, type PeerStoreError, repairPeerStore, verifyPeerStore } from '../src/node.ts'
import { makePeer, tempDirs } from './suite/helpers.ts'

const run = promisify(execFile)
const opener = fileURLToPath(new URL('./fixtures/lock-opener.ts', import.meta.url))
const hour = 3600_000

/** What another process gets when it opens (or verifies) the store at `path`, once per round. */
async function fromAnotherProcess(
  path: string,
  rounds = 1,
  what: 'open' | 'verify' = 'open'
): Promise<string[]> {
  const { stdout } = await run(process.execPath, [
    '--conditions=@peerscope/source',
    opener,
    path,
    String(rounds),
    what
  ])
  return stdout.trim().split('\n')
}

const code = (err: unknown): string | undefined => (err as PeerStoreError).code

describe('one store per directory', () => {
  const dirs = tempDirs('peerstore-lock-')

  it('a second open in the same process fails with ERR_DB_LOCKED and the first keeps its lock', async () => {
    const path = await dirs.path()
    const store = await openPeerStore({ path, gc: { interval: 0 } })
    try {
      await assert.rejects(openPeerStore({ path, gc: { interval: 0 } }), (err) => {
        assert.equal(code(err), 'ERR_DB_LOCKED')
        assert.match((err as Error).message, /already open in this process/)
        return true
      })
      assert.equal(await lockHeld(path), true, '/proc/locks still lists the lock on LOCK')
      assert.deepEqual(await fromAnotherProcess(path), ['ERR_DB_LOCKED'], 'another process is still kept out')
      const { id } = await makePeer()
      await store.addAddrs(id, [multiaddr('/ip4/10.0.0.1/tcp/1')], hour)
      await store.flush()
    } finally {
      await store.close()
    }
    assert.equal(await lockHeld(path), false, 'close released it')
    const again = await openPeerStore({ path, gc: { interval: 0 } })
    assert.equal(again.peers().length, 1)
    await again.close()
  })

  it('20 concurrent opens in one process: one wins, 19 get ERR_DB_LOCKED, the winner keeps its lock', async () => {
    const path = await dirs.path()
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => openPeerStore({ path, gc: { interval: 0 } }))
    )
    const won = results.filter((r) => r.status === 'fulfilled')
    const lost = results.filter((r) => r.status === 'rejected')
    assert.equal(won.length, 1)
    assert.deepEqual(
      lost.map((r) => code(r.reason)),
      Array(19).fill('ERR_DB_LOCKED')
    )
    const store = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof openPeerStore>>>).value
    try {
      assert.equal(await lockHeld(path), true)
      assert.deepEqual(await fromAnotherProcess(path), ['ERR_DB_LOCKED'])
      const { id } = await makePeer()
      await store.addAddrs(id, [multiaddr('/ip4/10.0.0.2/tcp/1')], hour)
    } finally {
      await store.close()
    }
  })

  it('verify, repair and a second store refuse a live store in this process and in another', async () => {
    const path = await dirs.path()
    const store = await openPeerStore({ path, gc: { interval: 0 } })
    try {
      await assert.rejects(verifyPeerStore(path), (err) => code(err) === 'ERR_DB_LOCKED')
      await assert.rejects(repairPeerStore(path), (err) => code(err) === 'ERR_DB_LOCKED')
      assert.deepEqual(await fromAnotherProcess(path, 1, 'verify'), ['ERR_DB_LOCKED'])
      assert.equal(await lockHeld(path), true, 'none of them released the lock')
    } finally {
      await store.close()
    }
    const report = await verifyPeerStore(path)
    assert.equal(report.clean, true, 'once closed, verify runs')
  })

  it('two processes racing to open and close one directory see only ERR_DB_LOCKED', async () => {
    const path = await dirs.path()
    const rounds = 40
    const [a, b] = await Promise.all([fromAnotherProcess(path, rounds), fromAnotherProcess(path, rounds)])
    const outcomes = [...a, ...b]
    const unexpected = outcomes.filter((o) => o !== 'ok' && o !== 'ERR_DB_LOCKED')
    assert.deepEqual(unexpected, [])
    assert.ok(outcomes.includes('ok'))
    console.log(
      `# racing opens: ${outcomes.filter((o) => o === 'ok').length} opened, ` +
        `${outcomes.filter((o) => o === 'ERR_DB_LOCKED').length} ERR_DB_LOCKED, 0 other`
    )
  })

  it('a missing parent directory is a typed error', async () => {
    const path = await dirs.path()
    await assert.rejects(openPeerStore({ path: `${path}/missing/db` }), (err) => {
      assert.equal(code(err), 'ERR_DB_OPEN')
      assert.match((err as Error).message, /parent directory does not exist/)
      return true
    })
  })
})
