import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { Level } from 'level'
import { openPeerStore, PeerStoreError } from '../src/node.ts'
import { makeAddrs, makePeers, tempDirs } from './suite/helpers.ts'

const { path: tempPath } = tempDirs('peerstore-level-durability-')

describe('corrupt records', () => {
  it('are reported and quarantined; the rest of the store keeps working', async () => {
    const path = await tempPath()
    const [a, b] = await makePeers(2)
    const store = await openPeerStore({ path, gc: { interval: 0 } })
    const addrsB = makeAddrs(2)
    await store.addAddrs(a!.id, makeAddrs(2), 3_600_000)
    await store.setProtocols(a!.id, ['/a'])
    await store.addAddrs(b!.id, addrsB, 3_600_000)
    await store.close()

    const raw = new Level<string, string>(path)
    await raw.sublevel<string, string>('addrs', {}).put(a!.id.toString(), '{"a": [["/ip4/1.2.3.4", "x"')
    await raw.sublevel<string, string>('protos', {}).put(b!.id.toString(), '{"not": "a list"}')
    await raw.sublevel<string, string>('pins', {}).put('not-a-peer-id', '["x"]')
    await raw.close()

    const reopened = await openPeerStore({ path, gc: { interval: 0 } })
    const report = reopened.openReport
    assert.deepEqual(
      report.quarantined.map((q) => `${q.kind}/${q.key}`).sort(),
      [`addrs/${a!.id}`, `protos/${b!.id}`, 'pins/not-a-peer-id'].sort()
    )
    assert.deepEqual(reopened.addrs(a!.id), [])
    assert.deepEqual(reopened.getProtocols(a!.id), ['/a'])
    assert.deepEqual(reopened.addrs(b!.id).map(String).sort(), addrsB.map(String).sort())
    const held = await reopened.quarantined()
    assert.equal(held.length, 3)
    assert.ok(held.some((q) => q.value === '{"not": "a list"}'))
    // Still writable, and the damaged values are no longer in the live sublevels.
    await reopened.addAddrs(a!.id, makeAddrs(1), 60_000)
    await reopened.close()
    const third = await openPeerStore({ path, gc: { interval: 0 } })
    assert.deepEqual(third.openReport.quarantined, [])
    assert.equal(third.addrs(a!.id).length, 1)
    await third.close()
  })
})

describe('locked database', () => {
  it('a second open in this process fails with ERR_DB_LOCKED naming the path', async () => {
    const path = await tempPath()
    const store = await openPeerStore({ path, gc: { interval: 0 } })
    await assert.rejects(openPeerStore({ path }), (err: unknown) => {
      return err instanceof PeerStoreError && err.code === 'ERR_DB_LOCKED' && err.message.includes(path)
    })
    await store.close()
  })

  it('a database held by another process fails with ERR_DB_LOCKED', async () => {
    const path = await tempPath()
    const cwd = fileURLToPath(new URL('..', import.meta.url))
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { Level } from 'level'
         const db = new Level(${JSON.stringify(path)}); await db.open()
         process.stdout.write('open\\n'); process.stdin.resume(); process.stdin.on('end', () => db.close())`
      ],
      { cwd, stdio: ['pipe', 'pipe', 'inherit'] }
    )
    await once(child.stdout, 'data')
    await assert.rejects(openPeerStore({ path }), (err: unknown) => {
      return err instanceof PeerStoreError && err.code === 'ERR_DB_LOCKED'
    })
    child.stdin.end()
    await once(child, 'exit')
    const store = await openPeerStore({ path, gc: { interval: 0 } })
    await store.close()
  })
})
