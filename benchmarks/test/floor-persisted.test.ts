import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { FloorPersistedStore, type FloorRecord, workloadRecords } from '../peerstore/floor-persisted.ts'
import { addrsFor, addrTextsFor, PROTOCOLS, peerIdBytes, peerIdFor } from '../peerstore/workload.ts'

const N = 2000

describe('the persisted JS floor (blocks.ts)', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'floor-persisted-'))
  })
  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('reopens and lists every peer written, with its ids, addresses and protocols', async () => {
    const path = join(dir, 'listed')
    const now = 1_000_000
    await FloorPersistedStore.write(path, workloadRecords(N, now + 60_000))
    // A slice of 0 ms: a turn of the loop every 64 records, so the sliced paths run.
    const store = await FloorPersistedStore.open(path, () => now, 0)
    try {
      assert.equal(store.size, N)
      const byId = new Map((await store.all()).map((p) => [p.id.toString(), p]))
      const library = new Map((await store.allLibrary()).map((p) => [p.id.toString(), p]))
      assert.equal(byId.size, N)
      assert.equal(library.size, N)
      for (let i = 0; i < N; i += 7) {
        const text = peerIdFor(i).toString()
        for (const peer of [byId.get(text), library.get(text)]) {
          assert.ok(peer !== undefined, `peer ${i} listed`)
          assert.deepEqual(
            peer.addresses.map((a) => a.multiaddr.toString()),
            addrsFor(i).map(String)
          )
          assert.deepEqual(peer.protocols, PROTOCOLS)
          // Built on use, the same objects the libraries make.
          assert.deepEqual(peer.id.toMultihash().bytes, peerIdBytes(i))
          assert.equal(peer.id.type, 'Ed25519')
          assert.ok(peer.id.equals(peerIdFor(i)))
          assert.deepEqual(peer.addresses[2]!.multiaddr.bytes, multiaddr(addrTextsFor(i)[2]!).bytes)
        }
      }
    } finally {
      await store.close()
    }
  })

  it('lists live addresses only, and its GC drops the expired ones on disk too', async () => {
    const path = join(dir, 'expiring')
    let now = 1_000_000
    const records: FloorRecord[] = [...workloadRecords(N, 0)].map((r) => ({
      ...r,
      expiresAt: [now + 10, now + 10, now + 20, now + 20]
    }))
    await FloorPersistedStore.write(path, records)
    let store = await FloorPersistedStore.open(path, () => now, 0)
    now += 15
    const listed = await store.all()
    assert.equal(
      listed.reduce((sum, p) => sum + p.addresses.length, 0),
      2 * N
    )
    assert.equal(await store.gc(), 2 * N)
    assert.equal(await store.gc(), 0)
    await store.close()
    store = await FloorPersistedStore.open(path, () => now, 0)
    try {
      assert.equal(store.size, N)
      for (let i = 0; i < N; i += 11) {
        const entry = store.get(peerIdFor(i).toString())
        assert.ok(entry !== undefined)
        assert.deepEqual(entry.addrs, addrsFor(i).map(String).slice(2))
        assert.deepEqual(entry.protocols, PROTOCOLS)
      }
    } finally {
      await store.close()
    }
  })
})
