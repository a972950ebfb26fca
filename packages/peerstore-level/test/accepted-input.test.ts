// Whatever a write accepts reads back the same after a reopen; what could not is refused with a typed error and
// changes nothing. Each case here was a way in which accepted input was lost or quarantined on disk, or a size
// that took the process down (issue 18). The property test (round-trip-property.test.ts) covers sequences.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import type { PeerId } from '@libp2p/interface'
import { peerIdSymbol } from '@libp2p/interface'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import {
  AddressTTL,
  type LevelPeerStore,
  Libp2pPeerStore,
  migrateFromLibp2pDatastore,
  PeerStoreError,
  PermanentAddrTTL
} from '../src/node.ts'
import {
  type Backend,
  levelBackend,
  makePeer,
  memoryBackend,
  type Storage,
  signedRecord
} from './suite/helpers.ts'

const hasCode = (code: string) => (err: unknown) => {
  assert.ok(err instanceof PeerStoreError, `expected a PeerStoreError, got ${String(err)}`)
  assert.equal(err.code, code, err.message)
  return true
}
const named = (code: string, option: string) => (err: unknown) => {
  hasCode(code)(err)
  assert.match((err as Error).message, new RegExp(`limits\\.${option}`))
  return true
}

/** A DNS name holding a `/`, as a remote can send it in bytes: its text reads back as other components. */
function slashedDnsAddr(): Multiaddr {
  const name = new TextEncoder().encode('a/b')
  return multiaddr(Uint8Array.from([0x35, name.length, ...name, 0x06, 0x0f, 0xa1]))
}

/** A PeerId object (it passes `isPeerId`) whose text no reopen can read. */
function forgedPeerId(text: string): PeerId {
  const real = { toString: () => text, equals: () => false, [peerIdSymbol]: true }
  return real as unknown as PeerId
}

function suite(backend: Backend): void {
  describe(`accepted input round-trips through ${backend.name}`, () => {
    const storages: Storage[] = []
    after(async () => {
      for (const s of storages) await s.cleanup()
    })
    async function fresh(init = {}): Promise<{ storage: Storage; store: LevelPeerStore }> {
      const storage = await backend.create()
      storages.push(storage)
      return { storage, store: await storage.open(init) }
    }
    async function reopen(storage: Storage, store: LevelPeerStore, init = {}): Promise<LevelPeerStore> {
      await store.close()
      const next = await storage.open(init)
      assert.deepEqual(next.openReport.quarantined, [], 'nothing written is quarantined on reopen')
      return next
    }

    it('refuses infinite TTLs with ERR_INVALID_TTL (they were stored as null and quarantined the address record)', async () => {
      const { storage, store } = await fresh()
      const { id, key } = await makePeer()
      const a = multiaddr('/ip4/1.2.3.4/tcp/1')
      await store.addAddrs(id, [a], AddressTTL)
      for (const ttl of [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
        await assert.rejects(
          store.addAddrs(id, [multiaddr('/ip4/1.2.3.5/tcp/1')], ttl),
          hasCode('ERR_INVALID_TTL')
        )
        await assert.rejects(store.setAddrs(id, [a], ttl), hasCode('ERR_INVALID_TTL'))
        await assert.rejects(store.updateAddrs(id, AddressTTL, ttl), hasCode('ERR_INVALID_TTL'))
        await assert.rejects(store.updateAddrs(id, ttl, AddressTTL), hasCode('ERR_INVALID_TTL'))
        await assert.rejects(
          store.consumePeerRecord(await signedRecord(key, id, [a], 1n), ttl),
          hasCode('ERR_INVALID_TTL')
        )
      }
      // The named constant never expires and survives the reopen, as does a huge finite TTL and a negative one.
      await store.addAddrs(id, [multiaddr('/ip4/1.2.3.6/tcp/1')], PermanentAddrTTL)
      await store.addAddrs(id, [multiaddr('/ip4/1.2.3.7/tcp/1')], Number.MAX_VALUE)
      const before = store.addrInfos(id).map((i) => [i.multiaddr.toString(), i.ttl, i.expiresAt])
      const next = await reopen(storage, store)
      assert.deepEqual(
        next.addrInfos(id).map((i) => [i.multiaddr.toString(), i.ttl, i.expiresAt]),
        before
      )
      await next.close()
    })

    it('stores __proto__, constructor and other awkward names as metadata keys and tag names (core, view, import)', async () => {
      const { storage, store } = await fresh()
      const view = new Libp2pPeerStore(store)
      const [p1, p2, p3] = [await makePeer(), await makePeer(), await makePeer()]
      const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '', 'ü\u0000\n\t"\\', '\ud800']
      for (const name of names) await store.putMetadata(p1.id, name, { [name]: [name] })
      await store.putMetadata(p1.id, 'json', JSON.parse('{"__proto__": {"a": 1}}'))
      const bytes = new TextEncoder().encode('v')
      await view.save(p2.id, {
        metadata: new Map(names.map((n) => [n, bytes])),
        tags: new Map(names.map((n, i) => [n, { value: i }]))
      })
      const exported = await store.export()
      const doc = structuredClone(exported)
      const peer2 = doc.peers.find((p) => p.id === p2.id.toString())!
      doc.peers = [{ ...peer2, id: p3.id.toString() }]
      await store.import(doc)

      const memory = {
        meta1: store.metadataKeys(p1.id).map((k) => [k, store.getMetadata(p1.id, k)]),
        meta3: store.metadataKeys(p3.id),
        tags3: [...store.getTags(p3.id).keys()].sort()
      }
      assert.deepEqual(memory.meta1.length, names.length + 1)
      assert.deepEqual(memory.meta3, [...names].sort())
      assert.deepEqual(memory.tags3, [...names].sort())
      const proto = store.getMetadata(p1.id, '__proto__') as Record<string, unknown>
      assert.ok(Object.hasOwn(proto, '__proto__'), 'a nested __proto__ key is an own key')

      const next = await reopen(storage, store)
      assert.deepEqual(
        {
          meta1: next.metadataKeys(p1.id).map((k) => [k, next.getMetadata(p1.id, k)]),
          meta3: next.metadataKeys(p3.id),
          tags3: [...next.getTags(p3.id).keys()].sort()
        },
        memory
      )
      await next.close()
    })

    it('refuses a PeerId whose text a reopen cannot read (control characters), with ERR_INVALID_PEER_ID', async () => {
      const { storage, store } = await fresh()
      const view = new Libp2pPeerStore(store)
      const real = (await makePeer()).id.toString()
      for (const text of [`${real}\u0001`, `${real}\n`, 'not a peer id', '', `${real.slice(0, -1)}0`]) {
        const forged = forgedPeerId(text)
        await assert.rejects(
          store.addAddrs(forged, [multiaddr('/ip4/1.2.3.4/tcp/1')], AddressTTL),
          hasCode('ERR_INVALID_PEER_ID')
        )
        await assert.rejects(store.putMetadata(forged, 'k', 1), hasCode('ERR_INVALID_PEER_ID'))
        await assert.rejects(store.pin(forged, 'r'), hasCode('ERR_INVALID_PEER_ID'))
        await assert.rejects(view.save(forged, { protocols: ['/a'] }), hasCode('ERR_INVALID_PEER_ID'))
      }
      assert.deepEqual(store.peers(), [])
      const next = await reopen(storage, store)
      assert.deepEqual(next.peers(), [])
      await next.close()
    })

    it('checks an id on reads too unless the store already holds its text (reads, then writes of a known peer)', async () => {
      const { storage, store } = await fresh()
      const { id } = await makePeer()
      await store.addAddrs(id, [multiaddr('/ip4/1.2.3.4/tcp/1')], AddressTTL)
      for (const text of [`${id.toString()}\u0001`, 'not a peer id', '']) {
        const forged = forgedPeerId(text)
        assert.throws(() => store.addrs(forged), hasCode('ERR_INVALID_PEER_ID'))
        assert.throws(() => store.getProtocols(forged), hasCode('ERR_INVALID_PEER_ID'))
        assert.throws(() => store.getMetadata(forged, 'k'), hasCode('ERR_INVALID_PEER_ID'))
      }
      // Another object with the text of a held peer reaches that peer, for reads and writes alike.
      const same = forgedPeerId(id.toString())
      assert.deepEqual(
        store.addrs(same).map((a) => a.toString()),
        ['/ip4/1.2.3.4/tcp/1']
      )
      await store.addProtocols(same, ['/a'])
      assert.deepEqual(store.getProtocols(id), ['/a'])
      const next = await reopen(storage, store)
      assert.deepEqual(next.getProtocols(id), ['/a'])
      await next.close()
    })

    it('refuses an address whose text reads back as another multiaddr (core, view, signed record)', async () => {
      const { store } = await fresh()
      const view = new Libp2pPeerStore(store)
      const { id, key } = await makePeer()
      const bad = slashedDnsAddr()
      assert.equal(bad.toString(), '/dns/a/b/tcp/4001')
      await assert.rejects(store.addAddrs(id, [bad], AddressTTL), hasCode('ERR_INVALID_MULTIADDR'))
      await assert.rejects(view.save(id, { multiaddrs: [bad] }), /does not read back/)
      await assert.rejects(
        // The view takes an address's bytes too, as libp2p's identify hands them over.
        view.save(id, { addresses: [{ multiaddr: bad.bytes as never, isCertified: false }] }),
        /does not read back/
      )
      await assert.rejects(
        store.consumePeerRecord(await signedRecord(key, id, [bad], 1n), AddressTTL),
        hasCode('ERR_INVALID_MULTIADDR')
      )
      assert.deepEqual(store.peers(), [], 'a refused call leaves no entry behind')
      // A DNS name that reads back is stored.
      await store.addAddrs(id, [multiaddr('/dns/example.com/tcp/1')], AddressTTL)
      assert.equal(store.addrs(id).length, 1)
      await store.close()
    })

    it('keeps its own copy of bytes: a caller changing its Buffer afterwards changes neither memory nor disk', async () => {
      const { storage, store } = await fresh()
      const view = new Libp2pPeerStore(store)
      const [a, b] = [await makePeer(), await makePeer()]
      const buf = Buffer.from('hello')
      await store.putMetadata(a.id, 'k', buf)
      const viewBuf = Buffer.from('world')
      await view.save(b.id, { metadata: { k: viewBuf } })
      buf[0] = 0x41
      viewBuf[0] = 0x41
      assert.equal(Buffer.from(store.getMetadata(a.id, 'k') as Uint8Array).toString(), 'hello')
      assert.equal(Buffer.from(store.getMetadata(b.id, 'k') as Uint8Array).toString(), 'world')
      await store.putMetadata(a.id, 'other', 1) // the next write re-encodes the peer's metadata
      const next = await reopen(storage, store)
      assert.equal(Buffer.from(next.getMetadata(a.id, 'k') as Uint8Array).toString(), 'hello')
      assert.equal(Buffer.from(next.getMetadata(b.id, 'k') as Uint8Array).toString(), 'world')
      await next.close()
    })
  })

  describe(`size limits through every path (${backend.name})`, () => {
    const storages: Storage[] = []
    after(async () => {
      for (const s of storages) await s.cleanup()
    })
    async function fresh(init = {}): Promise<LevelPeerStore> {
      const storage = await backend.create()
      storages.push(storage)
      return storage.open(init)
    }

    it('a metadata value past maxMetadataValueBytes is refused before it is copied (100 MiB took the process down)', async () => {
      const store = await fresh()
      const view = new Libp2pPeerStore(store)
      const { id } = await makePeer()
      const huge = new Uint8Array(100 * 2 ** 20)
      await assert.rejects(
        store.putMetadata(id, 'k', huge),
        named('ERR_METADATA_TOO_LARGE', 'maxMetadataValueBytes')
      )
      await assert.rejects(
        view.save(id, { metadata: { k: huge } }),
        named('ERR_METADATA_TOO_LARGE', 'maxMetadataValueBytes')
      )
      await assert.rejects(
        store.putMetadata(id, 'k', 'x'.repeat(100 * 2 ** 20)),
        named('ERR_METADATA_TOO_LARGE', 'maxMetadataValueBytes')
      )
      // JSON is measured by its UTF-8 text: 64 KiB of 'é' is 128 KiB.
      await assert.rejects(
        store.putMetadata(id, 'k', 'é'.repeat(40_000)),
        named('ERR_METADATA_TOO_LARGE', 'maxMetadataValueBytes')
      )
      await assert.rejects(
        store.putMetadata(id, 'k', JSON.parse('['.repeat(101) + ']'.repeat(101))),
        hasCode('ERR_INVALID_ARGUMENT')
      )
      await store.putMetadata(id, 'k', new Uint8Array(64 * 1024))
      await store.putMetadata(id, 'j', JSON.parse('['.repeat(100) + ']'.repeat(100)))
      assert.deepEqual(store.metadataKeys(id), ['j', 'k'])
      await store.close()
    })

    it('protocol count and length are limited in the core, the view, import and migration (the view stored 10,001, one of 1 MiB)', async () => {
      const store = await fresh()
      const view = new Libp2pPeerStore(store)
      const { id } = await makePeer()
      const many = Array.from({ length: 10_001 }, (_, i) => `/p/${i}`)
      const long = `/${'x'.repeat(2 ** 20)}`
      await assert.rejects(
        view.save(id, { protocols: many }),
        named('ERR_TOO_MANY_PROTOCOLS', 'maxProtocols')
      )
      await assert.rejects(
        view.merge(id, { protocols: [long] }),
        named('ERR_PROTOCOL_TOO_LONG', 'maxProtocolLength')
      )
      await assert.rejects(store.setProtocols(id, many), named('ERR_TOO_MANY_PROTOCOLS', 'maxProtocols'))
      await assert.rejects(
        store.addProtocols(id, [long]),
        named('ERR_PROTOCOL_TOO_LONG', 'maxProtocolLength')
      )
      await assert.rejects(view.save(id, { protocols: [1 as unknown as string] }), /strings/)
      // merge counts what is stored already.
      await view.save(id, { protocols: many.slice(0, 100) })
      await assert.rejects(
        view.merge(id, { protocols: many.slice(100, 129) }),
        named('ERR_TOO_MANY_PROTOCOLS', 'maxProtocols')
      )
      await view.merge(id, { protocols: many.slice(100, 128) })
      assert.equal(store.getProtocols(id).length, 128)

      const doc = await store.export()
      const other = (await makePeer()).id.toString()
      const tooMany = { ...doc, peers: [{ id: other, protos: many }] }
      await assert.rejects(store.import(tooMany), named('ERR_TOO_MANY_PROTOCOLS', 'maxProtocols'))
      await assert.rejects(
        store.import({ ...doc, peers: [{ id: other, protos: [long] }] }),
        named('ERR_PROTOCOL_TOO_LONG', 'maxProtocolLength')
      )
      assert.equal(store.peers().length, 1, 'a refused import replaces nothing')
      await store.close()
    })

    it('metadata keys, tags and pins per peer and their name lengths are limited', async () => {
      const store = await fresh({ limits: { maxMetadataKeys: 3, maxTags: 2, maxKeyLength: 8 } })
      const view = new Libp2pPeerStore(store)
      const { id } = await makePeer()
      for (const k of ['a', 'b', 'c']) await store.putMetadata(id, k, 1)
      await store.putMetadata(id, 'a', 2) // replacing a key adds none
      await assert.rejects(
        store.putMetadata(id, 'd', 1),
        named('ERR_TOO_MANY_METADATA_KEYS', 'maxMetadataKeys')
      )
      await assert.rejects(store.putMetadata(id, 'x'.repeat(9), 1), named('ERR_KEY_TOO_LONG', 'maxKeyLength'))
      const v = new Uint8Array(1)
      await assert.rejects(
        view.merge(id, { metadata: { d: v } }),
        named('ERR_TOO_MANY_METADATA_KEYS', 'maxMetadataKeys')
      )
      await view.merge(id, { metadata: { a: undefined, d: v } }) // one deleted, one added
      await assert.rejects(
        view.save(id, { tags: { a: {}, b: {}, c: {} } }),
        named('ERR_TOO_MANY_TAGS', 'maxTags')
      )
      await assert.rejects(
        view.save(id, { tags: { ['t'.repeat(9)]: {} } }),
        named('ERR_KEY_TOO_LONG', 'maxKeyLength')
      )
      await store.pin(id, 'one')
      await store.pin(id, 'two')
      await assert.rejects(store.pin(id, 'three'), named('ERR_TOO_MANY_TAGS', 'maxTags'))
      await assert.rejects(store.pin(id, 'p'.repeat(9)), named('ERR_KEY_TOO_LONG', 'maxKeyLength'))
      // A tag refused as a whole call changed nothing else of the write.
      await assert.rejects(view.patch(id, { protocols: ['/x'], tags: { a: { value: 1000 } } }), /Tag value/)
      assert.deepEqual(store.getProtocols(id), [])
      await store.close()
    })

    it('a bad limit is refused at open, naming the option', async () => {
      const storage = await backend.create()
      storages.push(storage)
      for (const limits of [
        { maxProtocols: -1 },
        { maxMetadataValueBytes: 1.5 },
        { maxTags: Number.NaN },
        { maxKeyLen: 3 }
      ]) {
        await assert.rejects(storage.open({ limits: limits as never }), (err: unknown) => {
          hasCode('ERR_INVALID_ARGUMENT')(err)
          assert.match((err as Error).message, /limits\.max/)
          return true
        })
      }
    })

    it('migration skips a peer past a limit and lists it in the report', async () => {
      const store = await fresh({ limits: { maxProtocols: 1 } })
      const { id } = await makePeer()
      // A @libp2p/peer-store Peer protobuf: two protocols (field 2).
      const proto = (s: string) => [0x12, s.length, ...new TextEncoder().encode(s)]
      const value = Uint8Array.from([...proto('/a'), ...proto('/b')])
      const datastore = {
        *query() {
          yield { key: { toString: () => `/peers/${id.toCID().toString()}` }, value }
        }
      }
      const report = await migrateFromLibp2pDatastore(store, datastore)
      assert.equal(report.peers, 0)
      assert.equal(report.skipped.length, 1)
      assert.match(report.skipped[0]!.reason, /limits\.maxProtocols/)
      await store.close()
    })
  })
}

suite(levelBackend)
suite(memoryBackend)
