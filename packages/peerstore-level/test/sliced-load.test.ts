// Opening by path decodes LevelDB's chunks in slices with a turn of the event loop between them: the index it loads
// is the same however small the slices.
import assert from 'node:assert/strict'
import { createHook } from 'node:async_hooks'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { Libp2pPeerStore, openPeerStore } from '../src/node.ts'
import { encodeRecord } from '../src/persistence/codec.ts'
import { levelDirectory } from '../src/persistence/directory.ts'
import { abandonStorage, openStorage } from '../src/persistence/open.ts'
import { RECORD_KINDS } from '../src/types.ts'
import { MockClock, makeSeededPeers } from './suite/helpers.ts'

const PEERS = 1500
const h = 3_600_000

describe('sliced load', () => {
  const dirs: string[] = []
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  })

  it('loads the same index with its chunks decoded in slices as in one piece', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'peerstore-sliced-load-'))
    dirs.push(dir)
    const path = join(dir, 'db')
    const clock = new MockClock()
    const store = await openPeerStore({ path, clock: clock.read, gc: { interval: 0 } })
    const peers = await makeSeededPeers(PEERS, 7)
    for (const [i, p] of peers.entries()) {
      await store.addAddrs(
        p.id,
        [multiaddr(`/ip4/10.1.${i >> 8}.${i & 255}/tcp/4001`), multiaddr(`/dns4/p${i}.example/tcp/443/wss`)],
        h
      )
      await store.setProtocols(p.id, ['/ipfs/id/1.0.0', `/p/${i % 5}`])
      if (i % 4 === 0) await store.pin(p.id, 'kad')
      if (i % 7 === 0) await store.putMetadata(p.id, 'AgentVersion', `agent ${i}`)
    }
    await store.close()

    /** The loaded index as its records encode, and how many turns the load gave the event loop. */
    const load = async (loadSliceMs: number) => {
      let turns = 0
      const hook = createHook({
        init(_id, type) {
          if (type === 'Immediate') turns++
        }
      })
      hook.enable()
      const storage = await openStorage({ path, directory: levelDirectory, clock: clock.read, loadSliceMs })
      hook.disable()
      const records = new Map<string, Array<string | undefined>>()
      for (const [key, entry] of storage.index.entries()) {
        records.set(
          key,
          RECORD_KINDS.map((kind) => encodeRecord(kind, entry))
        )
      }
      const report = storage.report
      await abandonStorage(storage)
      return { records, turns, peers: report.peers, quarantined: report.quarantined }
    }

    // Sliced at every check (each 64 records), then never inside a chunk.
    const sliced = await load(0)
    const whole = await load(Number.POSITIVE_INFINITY)
    assert.equal(whole.peers, PEERS)
    assert.equal(whole.records.size, PEERS)
    assert.deepEqual(whole.quarantined, [])
    assert.deepEqual([...sliced.records], [...whole.records])
    assert.equal(sliced.peers, whole.peers)
    // The address records alone (1500, in chunks of 1000 and 500) give 15 + 7 turns when sliced at every check.
    assert.ok(
      sliced.turns - whole.turns >= 22,
      `expected the sliced load to give the loop 22 turns more, got ${sliced.turns} against ${whole.turns}`
    )
  })

  it('reads back every peer as written across chunks, whichever record kinds each peer holds', async () => {
    // 2600 peers: each kind is read in three chunks (1000, 1000, 600). Peers without addresses are made by a later
    // kind's read, so the walk over the first kind's entries skips keys it does not hold.
    const dir = await mkdtemp(join(tmpdir(), 'peerstore-sliced-load-'))
    dirs.push(dir)
    const path = join(dir, 'db')
    const clock = new MockClock()
    const store = await openPeerStore({ path, clock: clock.read, gc: { interval: 0 } })
    const peers = await makeSeededPeers(2600, 11)
    for (const [i, p] of peers.entries()) {
      if (i % 3 !== 0) await store.addAddrs(p.id, [multiaddr(`/ip4/10.2.${i >> 8}.${i & 255}/tcp/4001`)], h)
      if (i % 2 === 0) await store.setProtocols(p.id, ['/ipfs/id/1.0.0', `/p/${i % 3}`])
      if (i % 5 === 0) await store.pin(p.id, 'kad')
      if (i % 3 === 0 && i % 2 !== 0 && i % 5 !== 0)
        await store.putMetadata(p.id, 'AgentVersion', `agent ${i}`)
    }
    const written = new Map<string, Array<string | undefined>>()
    for (const entry of store.entries()) {
      written.set(
        entry.id.toString(),
        RECORD_KINDS.map((kind) => encodeRecord(kind, entry))
      )
    }
    await store.close()
    assert.equal(written.size, peers.length)

    for (const loadSliceMs of [0, Number.POSITIVE_INFINITY]) {
      const storage = await openStorage({ path, directory: levelDirectory, clock: clock.read, loadSliceMs })
      const read = new Map<string, Array<string | undefined>>()
      for (const [key, entry] of storage.index.entries()) {
        read.set(
          key,
          RECORD_KINDS.map((kind) => encodeRecord(kind, entry))
        )
      }
      assert.deepEqual(storage.report.quarantined, [])
      await abandonStorage(storage)
      assert.equal(read.size, written.size)
      for (const [key, records] of written) assert.deepEqual(read.get(key), records, `peer ${key}`)
    }

    // And the libp2p view lists each peer it shows once (with maxPeerAge 0: those with addresses or a pin), the
    // list cut to the peers listed: fewer than the store holds, so no empty places may be left at its end.
    const shown = peers.filter((_, i) => i % 3 !== 0 || i % 5 === 0).map((p) => p.id.toString())
    const reopened = await openPeerStore({ path, clock: clock.read, gc: { interval: 0 } })
    try {
      const view = new Libp2pPeerStore(reopened, { events: { safeDispatchEvent: () => true }, maxPeerAge: 0 })
      const listed = await view.all()
      assert.equal(listed.length, shown.length)
      assert.equal(Object.keys(listed).length, listed.length)
      assert.deepEqual(listed.map((p) => p.id.toString()).sort(), shown.sort())
      const pinnedOnly = await view.all({ filters: [(p) => p.addresses.length === 0] })
      assert.equal(pinnedOnly.length, peers.filter((_, i) => i % 15 === 0).length)
      assert.equal(Object.keys(pinnedOnly).length, pinnedOnly.length)
      assert.ok(pinnedOnly.every((p) => p.addresses.length === 0))
      const page = await view.all({ offset: shown.length - 7, limit: 20 })
      assert.deepEqual(
        page.map((p) => p.id.toString()),
        listed.slice(shown.length - 7).map((p) => p.id.toString())
      )
    } finally {
      await reopened.close()
    }
  })
})
