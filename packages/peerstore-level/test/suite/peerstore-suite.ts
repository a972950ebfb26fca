// The go-libp2p peerstore suites (p2p/host/peerstore/test), re-stated for this store, plus restart, pins,
// GC and limits. Runs against any backend: each test opens a fresh storage on a mock clock.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import {
  AddressTTL,
  ConnectedAddrTTL,
  type LevelPeerStore,
  PeerStoreError,
  PermanentAddrTTL,
  RecentlyConnectedAddrTTL,
  TempAddrTTL
} from '../../src/index.ts'
import {
  type Backend,
  MockClock,
  makeAddrs,
  makePeer,
  makePeers,
  type OpenInit,
  type Storage,
  signedRecord,
  strings
} from './helpers.ts'

const s = 1000
const h = 3600 * s

function hasCode(code: string) {
  return (err: unknown): boolean => err instanceof PeerStoreError && err.code === code
}

export function peerStoreSuite(backend: Backend): void {
  describe(`peer store suite on ${backend.name}`, () => {
    const storages: Storage[] = []
    const opened: LevelPeerStore[] = []

    after(async () => {
      for (const store of opened) await store.close()
      for (const storage of storages) await storage.cleanup()
    })

    async function setup(init: OpenInit = {}): Promise<{
      store: LevelPeerStore
      clock: MockClock
      reopen(extra?: OpenInit): Promise<LevelPeerStore>
    }> {
      const clock = new MockClock()
      const storage = await backend.create()
      storages.push(storage)
      const open = async (extra: OpenInit = {}): Promise<LevelPeerStore> => {
        const store = await storage.open({ clock: clock.read, ...init, ...extra })
        opened.push(store)
        return store
      }
      const store = await open()
      return {
        store,
        clock,
        async reopen(extra) {
          await store.close()
          return open(extra)
        }
      }
    }

    describe('AddrBook', () => {
      describe('AddAddress', () => {
        it('add a single address', async () => {
          const { store } = await setup()
          const { id } = await makePeer()
          const addrs = makeAddrs(1)
          await store.addAddrs(id, addrs, h)
          assert.deepEqual(strings(store.addrs(id)), strings(addrs))
        })

        it('idempotent add single address', async () => {
          const { store } = await setup()
          const { id } = await makePeer()
          const addrs = makeAddrs(1)
          await store.addAddrs(id, addrs, h)
          await store.addAddrs(id, addrs, h)
          assert.deepEqual(strings(store.addrs(id)), strings(addrs))
        })

        it('add multiple addresses', async () => {
          const { store } = await setup()
          const { id } = await makePeer()
          const addrs = makeAddrs(3)
          await store.addAddrs(id, addrs, h)
          assert.deepEqual(strings(store.addrs(id)), strings(addrs))
        })

        it('idempotent add multiple addresses', async () => {
          const { store } = await setup()
          const { id } = await makePeer()
          const addrs = makeAddrs(3)
          await store.addAddrs(id, addrs, h)
          await store.addAddrs(id, addrs, h)
          assert.deepEqual(strings(store.addrs(id)), strings(addrs))
        })

        it('adding an existing address with a later expiration extends its ttl', async () => {
          const { store, clock } = await setup()
          const { id } = await makePeer()
          const addrs = makeAddrs(3)
          await store.addAddrs(id, addrs, s)
          await store.addAddrs(id, addrs.slice(2), h)
          clock.advance(1200)
          assert.deepEqual(strings(store.addrs(id)), strings(addrs.slice(2)))
          await store.updateAddrs(id, h, 0)
          assert.deepEqual(store.addrs(id), [])
        })

        it('adding an existing address with an earlier expiration never reduces the expiration', async () => {
          const { store, clock } = await setup()
          const { id } = await makePeer()
          const addrs = makeAddrs(3)
          await store.addAddrs(id, addrs, h)
          await store.addAddrs(id, addrs.slice(2), s)
          clock.advance(2100)
          assert.deepEqual(strings(store.addrs(id)), strings(addrs))
        })

        it('adding an existing address with an earlier expiration never reduces the TTL', async () => {
          const { store } = await setup()
          const { id } = await makePeer()
          const addrs = makeAddrs(1)
          await store.addAddrs(id, addrs, 4 * s)
          await store.addAddrs(id, addrs, 3 * s)
          assert.equal(store.addrInfos(id)[0]?.ttl, 4 * s)
          await store.updateAddrs(id, 4 * s, 0)
          assert.deepEqual(store.addrs(id), [])
        })

        it('accessing an empty peer ID (JS has no empty PeerId: a non-PeerId is rejected)', async () => {
          const { store } = await setup()
          const bad = '' as unknown as Parameters<LevelPeerStore['addrs']>[0]
          assert.throws(() => store.addrs(bad), hasCode('ERR_INVALID_PEER_ID'))
          await assert.rejects(
            async () => store.addAddrs(bad, makeAddrs(1), h),
            hasCode('ERR_INVALID_PEER_ID')
          )
        })

        it('add a /p2p address with valid peerid', async () => {
          const { store } = await setup()
          const { id } = await makePeer()
          const [addr] = makeAddrs(1)
          await store.addAddrs(id, [addr!.encapsulate(`/p2p/${id}`)], h)
          assert.deepEqual(strings(store.addrs(id)), strings([addr!]))
        })

        it('an address that is only /p2p/<the peer> is skipped, not stored as "/" (as go)', async () => {
          const { store } = await setup()
          const { id } = await makePeer()
          const [addr] = makeAddrs(1)
          const ac = new AbortController()
          const stream = store.addrStream(id, { signal: ac.signal })
          const bare = multiaddr(`/p2p/${id}`)
          await store.addAddrs(id, [bare], h)
          await store.setAddrs(id, [bare], h)
          assert.deepEqual(store.addrs(id), [])
          assert.deepEqual(store.peersWithAddrs(), [])
          await store.addAddrs(id, [bare, addr!], h)
          assert.deepEqual(strings(store.addrs(id)), strings([addr!]))
          // The stream saw only the real address: nothing was announced for the bare one.
          const first = await stream.next()
          assert.equal(first.value?.toString(), addr!.toString())
          ac.abort()
        })

        it('add a /p2p address with invalid peerid', async () => {
          const { store } = await setup()
          const [{ id }, { id: other }] = [await makePeer(), await makePeer()]
          const [addr] = makeAddrs(1)
          await store.addAddrs(id, [addr!.encapsulate(`/p2p/${other}`)], h)
          assert.deepEqual(store.addrs(id), [])
          assert.deepEqual(store.peersWithAddrs(), [])
        })
      })

      it('Clear', async () => {
        const { store } = await setup()
        const [a, b] = await makePeers(2)
        await store.addAddrs(a!.id, makeAddrs(3), h)
        const keep = makeAddrs(2)
        await store.addAddrs(b!.id, keep, h)
        await store.clearAddrs(a!.id)
        assert.deepEqual(store.addrs(a!.id), [])
        assert.deepEqual(strings(store.addrs(b!.id)), strings(keep))
      })

      it('SetNegativeTTLClears', async () => {
        const { store } = await setup()
        const { id } = await makePeer()
        const addrs = makeAddrs(10)
        await store.setAddrs(id, addrs, h)
        // A repeated address is deleted once; the others stay.
        const repeated = Array.from({ length: 10 }, () => addrs[0]!)
        await store.setAddrs(id, repeated, -1)
        assert.deepEqual(strings(store.addrs(id)), strings(addrs.slice(1)))
        await store.setAddrs(id, addrs.slice(1), -1)
        assert.deepEqual(store.addrs(id), [])
      })

      describe('UpdateTTLs', () => {
        it('update ttl of peer with no addrs', async () => {
          const { store } = await setup()
          const { id } = await makePeer()
          await store.updateAddrs(id, h, s)
          assert.deepEqual(store.addrs(id), [])
        })

        it('update to 0 clears addrs', async () => {
          const { store } = await setup()
          const { id } = await makePeer()
          await store.setAddrs(id, makeAddrs(2), h)
          await store.updateAddrs(id, h, 0)
          assert.deepEqual(store.addrs(id), [])
        })

        it('update to a negative TTL expires the addrs but keeps them, and the record, until GC (as go)', async () => {
          const { store, reopen } = await setup()
          const { id, key } = await makePeer()
          const [a, b] = makeAddrs(2)
          assert.equal(await store.consumePeerRecord(await signedRecord(key, id, [a!], 3n), h), true)
          await store.updateAddrs(id, h, -1)
          assert.deepEqual(store.addrs(id), [])
          assert.equal(store.peerRecord(id), undefined, 'no live addr: no record is handed out')
          // The newer record is still held: an older one is refused.
          assert.equal(await store.consumePeerRecord(await signedRecord(key, id, [b!], 2n), h), false)
          // Survives a reopen (a negative TTL is a valid stored TTL), and go's UpdateAddrs matches it by that TTL.
          const again = await reopen()
          assert.deepEqual(again.openReport.quarantined, [])
          assert.equal(await again.consumePeerRecord(await signedRecord(key, id, [b!], 2n), h), false)
          await again.updateAddrs(id, -1, h)
          assert.deepEqual(strings(again.addrs(id)), strings([a!]))
          assert.equal(again.peerRecordSeq(id), 3n)
          // GC collects an expired addr; the record goes with the peer's last addr.
          await again.updateAddrs(id, h, -1)
          await again.gc()
          assert.equal(again.peerRecordSeq(id), undefined)
        })

        it('update ttls successfully', async () => {
          const { store, clock } = await setup()
          const [a, b] = await makePeers(2)
          const [a1, a2] = makeAddrs(2)
          const [b1, b2] = makeAddrs(2)
          await store.setAddrs(a!.id, [a1!], h)
          await store.setAddrs(a!.id, [a2!], 2 * h)
          await store.setAddrs(b!.id, [b1!], h)
          await store.setAddrs(b!.id, [b2!], 2 * h)
          await store.updateAddrs(a!.id, h, 100)
          clock.advance(200)
          // Only the address whose TTL was exactly `h` changed, and only for peer a.
          assert.deepEqual(strings(store.addrs(a!.id)), strings([a2!]))
          assert.deepEqual(strings(store.addrs(b!.id)), strings([b1!, b2!]))
          await store.updateAddrs(b!.id, 2 * h, 100)
          clock.advance(200)
          assert.deepEqual(strings(store.addrs(b!.id)), strings([b1!]))
        })
      })

      it('NilAddrsDontBreak', async () => {
        const { store } = await setup()
        const { id } = await makePeer()
        await store.setAddrs(id, [null, undefined], h)
        await store.addAddrs(id, [null], h)
        assert.deepEqual(store.addrs(id), [])
      })

      it('AddressesExpire', async () => {
        const { store, clock } = await setup()
        const [a, b] = await makePeers(2)
        const addrsA = makeAddrs(3)
        const addrsB = makeAddrs(2)
        await store.addAddrs(a!.id, addrsA, h)
        await store.addAddrs(b!.id, addrsB, h)
        // SetAddrs may lower the expiry: 100 µs rounds to 0.1 ms.
        await store.setAddrs(a!.id, [addrsA[0]!], 0.1)
        clock.advance(100)
        assert.deepEqual(strings(store.addrs(a!.id)), strings(addrsA.slice(1)))
        await store.setAddrs(b!.id, addrsB, 0.1)
        clock.advance(100)
        assert.deepEqual(store.addrs(b!.id), [])
        // An address expires at its expiry instant, not after it.
        const [edge] = makeAddrs(1)
        await store.addAddrs(a!.id, [edge!], 50)
        clock.advance(49)
        assert.ok(strings(store.addrs(a!.id)).includes(edge!.toString()))
        clock.advance(1)
        assert.ok(!strings(store.addrs(a!.id)).includes(edge!.toString()))
      })

      it('ClearWithIter', async () => {
        const { store } = await setup()
        const peers = await makePeers(2)
        for (const p of peers) await store.addAddrs(p.id, makeAddrs(50), PermanentAddrTTL)
        assert.equal(store.peersWithAddrs().length, 2)
        for (const p of peers) {
          await store.clearAddrs(p.id)
          assert.deepEqual(store.addrs(p.id), [])
        }
        assert.deepEqual(store.peersWithAddrs(), [])
      })

      describe('PeersWithAddresses', () => {
        it('empty addrbook', async () => {
          const { store } = await setup()
          assert.deepEqual(store.peersWithAddrs(), [])
        })

        it('non-empty addrbook', async () => {
          const { store, clock } = await setup()
          const [a, b, c] = await makePeers(3)
          await store.addAddrs(a!.id, makeAddrs(2), h)
          await store.addAddrs(b!.id, makeAddrs(1), h)
          await store.addAddrs(c!.id, makeAddrs(1), s)
          clock.advance(2 * s)
          // Unlike go, a peer whose addrs all expired is filtered at read, before GC.
          assert.deepEqual(store.peersWithAddrs().map(String).sort(), [a!.id, b!.id].map(String).sort())
        })
      })

      it('CertifiedAddresses', async () => {
        const { store } = await setup()
        const { id, key } = await makePeer()
        const unsigned = makeAddrs(5, '5.5.5.5')
        const certified = makeAddrs(10, '6.6.6.6')
        await store.addAddrs(id, unsigned, h)
        assert.equal(await store.consumePeerRecord(await signedRecord(key, id, certified, 2n), h), true)
        const infos = store.addrInfos(id)
        assert.deepEqual(strings(infos.map((a) => a.multiaddr)), strings([...unsigned, ...certified]))
        assert.deepEqual(
          strings(infos.filter((a) => a.certified).map((a) => a.multiaddr)),
          strings(certified)
        )
        assert.ok(store.peerRecord(id) != null)
        // A lower sequence number is ignored without error.
        assert.equal(await store.consumePeerRecord(await signedRecord(key, id, certified, 1n), h), false)
        // A newer record with a subset drops the previous record's missing addrs (go-libp2p v0.52.0, #3487).
        const subset = certified.slice(0, 8)
        assert.equal(await store.consumePeerRecord(await signedRecord(key, id, subset, 3n), h), true)
        assert.deepEqual(strings(store.addrs(id)), strings([...unsigned, ...subset]))
        // Removing every address drops the record; the same seq is then accepted again.
        await store.setAddrs(id, [...unsigned, ...subset], -1)
        assert.equal(store.peerRecord(id), undefined)
        assert.equal(await store.consumePeerRecord(await signedRecord(key, id, subset, 3n), h), true)
        assert.equal(await store.consumePeerRecord(await signedRecord(key, id, subset, 3n), h), true)
        // A record signed by a key that is not the record's peer is an error.
        const other = await makePeer()
        await assert.rejects(
          store.consumePeerRecord(await signedRecord(other.key, id, subset, 4n), h),
          hasCode('ERR_INVALID_PEER_RECORD')
        )
        await assert.rejects(
          store.consumePeerRecord(new Uint8Array([1, 2, 3]), h),
          hasCode('ERR_INVALID_PEER_RECORD')
        )
      })

      it("a newer record drops the previous record's addrs it lacks, whoever wrote them since (go v0.52.0)", async () => {
        const { store } = await setup()
        const { id, key } = await makePeer()
        const [a, b, c, d] = makeAddrs(4)
        assert.equal(await store.consumePeerRecord(await signedRecord(key, id, [a!, b!], 1n), h), true)
        // a is now also written unsigned: that does not protect it from the next record.
        await store.setAddrs(id, [a!], 2 * h)
        await store.addAddrs(id, [c!], h)
        // A record that carries its addr with our /p2p suffix: stored without it, so a later record keeps it (go
        // compares the records' addrs as they are).
        const suffixed = d!.encapsulate(`/p2p/${id}`)
        assert.equal(await store.consumePeerRecord(await signedRecord(key, id, [b!, suffixed], 2n), h), true)
        assert.deepEqual(strings(store.addrs(id)), strings([b!, c!, d!]))
        assert.equal(await store.consumePeerRecord(await signedRecord(key, id, [c!], 3n), h), true)
        assert.deepEqual(strings(store.addrs(id)), strings([c!, d!]))
        // An equal seq replaces too; a connected addr is kept.
        await store.addAddrs(id, [c!], ConnectedAddrTTL)
        await store.addAddrs(id, [b!], ConnectedAddrTTL)
        assert.equal(await store.consumePeerRecord(await signedRecord(key, id, [b!], 3n), h), true)
        assert.deepEqual(strings(store.addrs(id)), strings([b!, c!, d!]))
        // b is connected now, so the next record keeps it too.
        assert.equal(await store.consumePeerRecord(await signedRecord(key, id, [d!], 4n), h), true)
        assert.deepEqual(strings(store.addrs(id)), strings([b!, c!, d!]))
      })

      it('per-peer cap evicts the nearest expiry; connected addrs are exempt', async () => {
        const { store } = await setup({ limits: { maxAddrsPerPeer: 3 } })
        const { id } = await makePeer()
        const [soon, mid, late, newest] = makeAddrs(4)
        const connected = makeAddrs(5, '9.9.9.9')
        await store.addAddrs(id, connected, ConnectedAddrTTL)
        await store.addAddrs(id, [soon!], TempAddrTTL)
        await store.addAddrs(id, [mid!], RecentlyConnectedAddrTTL)
        await store.addAddrs(id, [late!], h)
        await store.addAddrs(id, [newest!], h)
        assert.deepEqual(strings(store.addrs(id)), strings([...connected, mid!, late!, newest!]))
      })

      it('per-peer cap: expired, uncollected addrs count and go first; the others stay revivable (go v0.52.0)', async () => {
        const { store, clock } = await setup({ limits: { maxAddrsPerPeer: 3 } })
        const { id } = await makePeer()
        const [x, y, z, n1, n2] = makeAddrs(5)
        await store.addAddrs(id, [x!], 10)
        await store.addAddrs(id, [y!], 20)
        await store.addAddrs(id, [z!], h)
        clock.advance(30)
        await store.addAddrs(id, [n1!], h)
        // x (the nearest expiry) made room; y still holds its slot, expired.
        await store.updateAddrs(id, 20, h)
        assert.deepEqual(strings(store.addrs(id)), strings([y!, z!, n1!]))
        // z (expiring at h, before y and n1 at h + 30) makes room for n2.
        await store.addAddrs(id, [n2!], 2 * h)
        assert.deepEqual(strings(store.addrs(id)), strings([y!, n1!, n2!]))
      })

      it('global cap rejects the whole call with ERR_TOO_MANY_ADDRS', async () => {
        const { store } = await setup({ limits: { maxAddrs: 4 } })
        const [a, b] = await makePeers(2)
        await store.addAddrs(a!.id, makeAddrs(3), h)
        await assert.rejects(
          async () => store.addAddrs(b!.id, makeAddrs(2), h),
          hasCode('ERR_TOO_MANY_ADDRS')
        )
        assert.deepEqual(store.addrs(b!.id), [])
        // Never-expiring addrs are exempt from caps.
        await store.addAddrs(b!.id, makeAddrs(2), ConnectedAddrTTL)
        assert.equal(store.addrs(b!.id).length, 2)
      })

      it('rejects a bad multiaddr and a bad TTL with typed errors, storing nothing', async () => {
        const { store } = await setup()
        const { id } = await makePeer()
        const bogus = ['/ip4/1.2.3.4'] as unknown as Parameters<LevelPeerStore['addAddrs']>[1]
        await assert.rejects(async () => store.addAddrs(id, bogus, h), hasCode('ERR_INVALID_MULTIADDR'))
        await assert.rejects(
          async () => store.addAddrs(id, makeAddrs(1), Number.NaN),
          hasCode('ERR_INVALID_TTL')
        )
        await assert.rejects(async () => store.updateAddrs(id, h, Number.NaN), hasCode('ERR_INVALID_TTL'))
        assert.deepEqual(store.peers(), [])
      })
    })

    describe('KeyBook', () => {
      it('AddGetPrivKey (only the local peer has one, and only in memory)', async () => {
        const key = await generateKeyPair('RSA', 2048)
        const self = peerIdFromPrivateKey(key)
        const { store } = await setup({ privateKey: key })
        assert.ok(store.privKey(self)?.equals(key))
        // go-libp2p lists the local peer as soon as its private key is known.
        assert.deepEqual(store.peersWithKeys().map(String), [self.toString()])
        assert.deepEqual(
          store.peers().map(String),
          [self.toString()],
          'a peer with a key is a peer (go Peers)'
        )
        await store.addPubKey(self, key.publicKey)
        assert.deepEqual(store.peersWithKeys().map(String), [self.toString()])
        const other = await makePeer()
        assert.equal(store.privKey(other.id), undefined)
        assert.deepEqual(Object.keys(await store.export()).sort(), ['exportedAt', 'peers', 'version'])
        assert.ok(!JSON.stringify(await store.export()).includes('priv'))
      })

      it('removePeer(self) drops the private key too, as go (until the next open)', async () => {
        const key = await generateKeyPair('Ed25519')
        const self = peerIdFromPrivateKey(key)
        const { store, reopen } = await setup({ privateKey: key })
        await store.addAddrs(self, makeAddrs(1), h)
        await store.removePeer(self)
        assert.equal(store.privKey(self), undefined)
        assert.deepEqual(store.peersWithKeys(), [])
        assert.equal(store.addrs(self).length, 1, 'addrs stay, as for any peer')
        await store.clearAddrs(self)
        assert.deepEqual(store.peers(), [])
        const again = await reopen({ privateKey: key })
        assert.ok(again.privKey(self)?.equals(key))
      })

      it('AddGetPubKey', async () => {
        const { store } = await setup()
        const key = await generateKeyPair('RSA', 2048)
        const id = peerIdFromPrivateKey(key)
        // RSA ids do not inline the key: nothing is known until it is added.
        const bare = peerIdFromString(id.toString())
        assert.equal(store.pubKey(bare), undefined)
        await store.addPubKey(bare, key.publicKey)
        assert.ok(store.pubKey(bare)?.equals(key.publicKey))
        assert.deepEqual(store.peersWithKeys().map(String), [id.toString()])
        const wrong = await makePeer()
        await assert.rejects(
          async () => store.addPubKey(bare, wrong.key.publicKey),
          hasCode('ERR_INVALID_PUBLIC_KEY')
        )
      })

      it('PeersWithKeys', async () => {
        const { store } = await setup()
        const peers = await makePeers(20)
        for (const p of peers) await store.addPubKey(p.id, p.key.publicKey)
        assert.equal(store.peersWithKeys().length, 20)
      })

      it('PubKeyAddedOnRetrieve (identity ids: derived and cached)', async () => {
        const { store } = await setup()
        const { id, key } = await makePeer()
        assert.ok(store.pubKey(id)?.equals(key.publicKey))
        assert.deepEqual(store.peersWithKeys().map(String), [id.toString()])
      })

      it('Delete', async () => {
        const { store } = await setup()
        const { id, key } = await makePeer()
        await store.addPubKey(id, key.publicKey)
        await store.removePeer(id)
        assert.deepEqual(store.peersWithKeys(), [])
      })
    })

    describe('Peerstore', () => {
      it('AddrStream', async () => {
        const { store } = await setup()
        const { id } = await makePeer()
        const addrs = makeAddrs(100)
        await store.addAddrs(id, addrs.slice(0, 20), h)
        const ac = new AbortController()
        const seen: string[] = []
        const done = (async () => {
          for await (const ma of store.addrStream(id, { signal: ac.signal })) {
            seen.push(ma.toString())
            if (seen.length === 100) ac.abort()
          }
        })()
        for (const ma of addrs.slice(20)) await store.addAddrs(id, [ma], h)
        await done
        assert.deepEqual(seen.sort(), strings(addrs))
        // After cancel, adding more does not hang.
        await store.addAddrs(id, makeAddrs(5), h)
      })

      it('GetStreamBeforePeerAdded', async () => {
        const { store } = await setup()
        const { id } = await makePeer()
        const addrs = makeAddrs(10)
        const ac = new AbortController()
        const seen = new Set<string>()
        const done = (async () => {
          for await (const ma of store.addrStream(id, { signal: ac.signal })) {
            assert.ok(!seen.has(ma.toString()))
            seen.add(ma.toString())
            if (seen.size === 10) ac.abort()
          }
        })()
        for (const ma of addrs) await store.addAddrs(id, [ma], h)
        await done
        assert.deepEqual([...seen].sort(), strings(addrs))
      })

      it('addrStream subscribes when called: an addr added (and expired) before the first read is delivered', async () => {
        const { store, clock } = await setup()
        const { id } = await makePeer()
        const [a, b] = makeAddrs(2)
        const ac = new AbortController()
        const stream = store.addrStream(id, { signal: ac.signal })
        await store.addAddrs(id, [a!], 10)
        clock.advance(20)
        assert.deepEqual(store.addrs(id), [], 'a has expired before the stream is read')
        await store.addAddrs(id, [b!], h)
        // Bounded reads: a stream that missed `a` would wait for it forever.
        const within = async (): Promise<string | undefined> => {
          let timer: NodeJS.Timeout | undefined
          const late = new Promise<undefined>((resolve) => {
            timer = setTimeout(() => resolve(undefined), 2000)
          })
          const r = await Promise.race([stream.next(), late])
          clearTimeout(timer)
          return r?.value?.toString()
        }
        const got = [await within(), await within()]
        assert.deepEqual(got, strings([a!, b!]))
        ac.abort()
        assert.equal((await stream.next()).done, true)
        // return() before the first read ends the subscription too.
        const early = store.addrStream(id)
        await early.return(undefined)
        await store.addAddrs(id, makeAddrs(1), h)
        assert.equal((await early.next()).done, true)
      })

      it('AddStreamDuplicates', async () => {
        const { store } = await setup()
        const { id } = await makePeer()
        const addrs = makeAddrs(10)
        const ac = new AbortController()
        const seen: string[] = []
        const done = (async () => {
          for await (const ma of store.addrStream(id, { signal: ac.signal })) {
            seen.push(ma.toString())
            if (seen.length === 10) ac.abort()
          }
        })()
        for (const ma of addrs) {
          await store.addAddrs(id, [ma], h)
          await store.addAddrs(id, [ma], 2 * h)
        }
        await done
        assert.deepEqual(seen.sort(), strings(addrs))
      })

      it('addrStream orders current addrs loopback, non-TCP, then TCP', async () => {
        const { store } = await setup()
        const { id } = await makePeer()
        const tcp = multiaddr('/ip4/8.8.8.8/tcp/1')
        const udp = multiaddr('/ip4/8.8.8.8/udp/1/quic-v1')
        const loop = multiaddr('/ip4/127.0.0.1/tcp/1')
        await store.addAddrs(id, [tcp, udp, loop], h)
        const ac = new AbortController()
        const seen: string[] = []
        for await (const ma of store.addrStream(id, { signal: ac.signal })) {
          seen.push(ma.toString())
          if (seen.length === 3) ac.abort()
        }
        assert.deepEqual(seen, [loop, udp, tcp].map(String))
      })

      describe('PeerstoreProtoStore', () => {
        it('adding and removing protocols', async () => {
          const { store } = await setup()
          const { id } = await makePeer()
          const protos = ['a', 'b', 'c', 'd']
          await store.addProtocols(id, protos)
          assert.deepEqual(store.getProtocols(id).sort(), protos)
          assert.deepEqual(store.supportsProtocols(id, ['q', 'w', 'a', 'y', 'b']), ['a', 'b'])
          assert.deepEqual(store.supportsProtocols(id, ['b', 'a']), ['b', 'a'])
          assert.equal(store.firstSupportedProtocol(id, ['q', 'w', 'a', 'y', 'b']), 'a')
          assert.equal(store.firstSupportedProtocol(id, ['q', 'x', 'z']), undefined)
          await store.setProtocols(id, ['other'])
          assert.deepEqual(store.getProtocols(id), ['other'])
          await store.removeProtocols(id, ['other'])
          assert.deepEqual(store.getProtocols(id), [])
          const unknown = await makePeer()
          assert.deepEqual(store.getProtocols(unknown.id), [])
        })

        it('removing peer', async () => {
          const { store } = await setup()
          const { id } = await makePeer()
          await store.setProtocols(id, ['a', 'b'])
          await store.removePeer(id)
          assert.deepEqual(store.getProtocols(id), [])
        })
      })

      describe('PeerstoreProtoStoreLimits', () => {
        const limit = 10
        it('setting protocols', async () => {
          const { store } = await setup({ limits: { maxProtocols: limit } })
          const { id } = await makePeer()
          const protos = Array.from({ length: limit + 1 }, (_, i) => `/p/${i}`)
          await store.setProtocols(id, protos.slice(0, limit))
          await assert.rejects(async () => store.setProtocols(id, protos), hasCode('ERR_TOO_MANY_PROTOCOLS'))
          assert.equal(store.getProtocols(id).length, limit)
        })

        it('adding protocols', async () => {
          const { store } = await setup({ limits: { maxProtocols: limit } })
          const { id } = await makePeer()
          const protos = Array.from({ length: limit }, (_, i) => `/p/${i}`)
          await store.addProtocols(id, protos.slice(0, limit / 2))
          await store.addProtocols(id, protos.slice(limit / 2))
          await assert.rejects(
            async () => store.addProtocols(id, ['/one/more']),
            hasCode('ERR_TOO_MANY_PROTOCOLS')
          )
          // As go: re-adding a known protocol at the limit fails too.
          await assert.rejects(
            async () => store.addProtocols(id, ['/p/0']),
            hasCode('ERR_TOO_MANY_PROTOCOLS')
          )
        })

        it('default limit is 128', async () => {
          const { store } = await setup()
          const { id } = await makePeer()
          const protos = Array.from({ length: 129 }, (_, i) => `/p/${i}`)
          await store.setProtocols(id, protos.slice(0, 128))
          await assert.rejects(async () => store.setProtocols(id, protos), hasCode('ERR_TOO_MANY_PROTOCOLS'))
        })
      })

      it('BasicPeerstore', async () => {
        const { store } = await setup()
        const peers = await makePeers(10)
        const addrs = makeAddrs(10)
        for (const [i, p] of peers.entries()) await store.addAddrs(p.id, [addrs[i]!], PermanentAddrTTL)
        assert.equal(store.peers().length, 10)
        assert.deepEqual(strings(store.addrs(peers[0]!.id)), strings([addrs[0]!]))
      })

      describe('Metadata', () => {
        it('putting and getting', async () => {
          const { store } = await setup()
          const { id } = await makePeer()
          await store.putMetadata(id, 'AgentVersion', 'string')
          await store.putMetadata(id, 'int', 1)
          await store.putMetadata(id, 'bytes', new Uint8Array([1, 2]))
          assert.equal(store.getMetadata(id, 'AgentVersion'), 'string')
          assert.equal(store.getMetadata(id, 'int'), 1)
          assert.deepEqual(store.getMetadata(id, 'bytes'), new Uint8Array([1, 2]))
          assert.equal(store.getMetadata(id, 'missing'), undefined)
          await store.deleteMetadata(id, 'int')
          assert.equal(store.getMetadata(id, 'int'), undefined)
        })

        it('metadataKeys lists the stored keys, sorted, and survives a reopen', async () => {
          const { store, reopen } = await setup()
          const { id } = await makePeer()
          assert.deepEqual(store.metadataKeys(id), [])
          await store.putMetadata(id, 'z', 1)
          await store.putMetadata(id, 'AgentVersion', 'x/1')
          await store.putMetadata(id, 'bytes', new Uint8Array([1]))
          assert.deepEqual(store.metadataKeys(id), ['AgentVersion', 'bytes', 'z'])
          await store.deleteMetadata(id, 'z')
          assert.deepEqual(store.metadataKeys(id), ['AgentVersion', 'bytes'])
          const again = await reopen()
          assert.deepEqual(again.metadataKeys(id), ['AgentVersion', 'bytes'])
        })

        it('removing a peer', async () => {
          const { store } = await setup()
          const { id } = await makePeer()
          await store.putMetadata(id, 'k', 1)
          await store.removePeer(id)
          assert.equal(store.getMetadata(id, 'k'), undefined)
        })
      })

      it('latency EWMA: first sample as-is, then smoothing 0.1, never persisted', async () => {
        const { store, reopen } = await setup()
        const { id } = await makePeer()
        assert.equal(store.latencyEWMA(id), 0)
        store.recordLatency(id, 100)
        assert.equal(store.latencyEWMA(id), 100)
        store.recordLatency(id, 200)
        assert.equal(store.latencyEWMA(id), 110)
        assert.throws(() => store.recordLatency(id, -1), hasCode('ERR_INVALID_ARGUMENT'))
        await store.addAddrs(id, makeAddrs(1), h)
        const again = await reopen()
        assert.equal(again.latencyEWMA(id), 0)
        assert.deepEqual(again.addrInfos(id)[0]?.ttl, h)
      })
    })

    describe('restart', () => {
      it('keeps exact expiries, downgrades Connected, keeps Permanent', async () => {
        const { store, clock, reopen } = await setup()
        const { id, key } = await makePeer()
        const [temp, hour, conn, perm] = makeAddrs(4)
        await store.addAddrs(id, [temp!], TempAddrTTL)
        await store.addAddrs(id, [hour!], AddressTTL)
        await store.addAddrs(id, [conn!], ConnectedAddrTTL)
        await store.addAddrs(id, [perm!], PermanentAddrTTL)
        await store.setProtocols(id, ['/a', '/b'])
        await store.addPubKey(id, key.publicKey)
        await store.putMetadata(id, 'AgentVersion', 'x/1')
        await store.pin(id, 'kad')
        const before = new Map(store.addrInfos(id).map((a) => [a.multiaddr.toString(), a]))
        clock.advance(60 * s)
        const again = await reopen()
        assert.equal(again.openReport.downgraded, 1)
        const after = new Map(again.addrInfos(id).map((a) => [a.multiaddr.toString(), a]))
        assert.equal(after.get(temp!.toString())?.expiresAt, before.get(temp!.toString())?.expiresAt)
        assert.equal(after.get(hour!.toString())?.expiresAt, before.get(hour!.toString())?.expiresAt)
        assert.equal(after.get(conn!.toString())?.ttl, RecentlyConnectedAddrTTL)
        assert.equal(after.get(conn!.toString())?.expiresAt, clock.now + RecentlyConnectedAddrTTL)
        assert.equal(after.get(perm!.toString())?.ttl, PermanentAddrTTL)
        assert.equal(after.get(perm!.toString())?.expiresAt, Number.POSITIVE_INFINITY)
        assert.deepEqual(again.getProtocols(id), ['/a', '/b'])
        assert.ok(again.pubKey(id)?.equals(key.publicKey))
        assert.equal(again.getMetadata(id, 'AgentVersion'), 'x/1')
        assert.deepEqual(again.pins(id), ['kad'])
        // Expiry keeps running across the restart.
        clock.advance(TempAddrTTL)
        assert.ok(!strings(again.addrs(id)).includes(temp!.toString()))
      })

      it('a write that resolved is in the database, without close()', async () => {
        const { store } = await setup()
        const { id } = await makePeer()
        await store.addAddrs(id, makeAddrs(2), h)
        const exported = await store.export()
        assert.equal(exported.peers.length, 1)
      })
    })

    describe('pins', () => {
      it('owners pin independently by reason; pinning an unknown peer stores it', async () => {
        const { store, reopen } = await setup()
        const { id } = await makePeer()
        await store.pin(id, 'kad')
        await store.pin(id, 'relay')
        await store.pin(id, 'kad')
        assert.deepEqual(store.pins(id), ['kad', 'relay'])
        await store.unpin(id, 'kad')
        assert.deepEqual(store.pins(id), ['relay'])
        await assert.rejects(async () => store.pin(id, ''), hasCode('ERR_INVALID_ARGUMENT'))
        const again = await reopen()
        assert.deepEqual(again.pins(id), ['relay'])
        assert.deepEqual(again.peers().map(String), [id.toString()])
      })
    })

    describe('GC', () => {
      it('removes expired addrs, then peers left with nothing to keep them; pinned peers untouched', async () => {
        const { store, clock, reopen } = await setup()
        const [expiring, pinned, alive, keyOnly, partly] = await makePeers(5)
        await store.addAddrs(expiring!.id, makeAddrs(2), s)
        await store.setProtocols(expiring!.id, ['/x'])
        await store.addAddrs(pinned!.id, makeAddrs(3), s)
        await store.pin(pinned!.id, 'kad')
        await store.addAddrs(alive!.id, makeAddrs(1), h)
        await store.addPubKey(keyOnly!.id, keyOnly!.key.publicKey)
        const [stay] = makeAddrs(1)
        await store.addAddrs(partly!.id, [stay!], h)
        await store.addAddrs(partly!.id, makeAddrs(1), s)
        clock.advance(2 * s)
        const stats = await store.gc()
        assert.equal(stats.peersScanned, 5)
        assert.equal(stats.addrsRemoved, 3)
        assert.equal(stats.peersRemoved, 2)
        assert.deepEqual(
          store.peers().map(String).sort(),
          [pinned!.id, alive!.id, partly!.id].map(String).sort()
        )
        assert.equal(store.addrInfos(pinned!.id).length, 0)
        assert.deepEqual(strings(store.addrs(partly!.id)), strings([stay!]))
        const again = await reopen()
        assert.deepEqual(
          again.peers().map(String).sort(),
          [pinned!.id, alive!.id, partly!.id].map(String).sort()
        )
        assert.deepEqual(again.getProtocols(expiring!.id), [])
      })

      it('collects downgraded Connected addrs like any other', async () => {
        const { store, clock } = await setup()
        const { id } = await makePeer()
        await store.addAddrs(id, makeAddrs(2), ConnectedAddrTTL)
        await store.updateAddrs(id, ConnectedAddrTTL, RecentlyConnectedAddrTTL)
        clock.advance(RecentlyConnectedAddrTTL)
        const stats = await store.gc()
        assert.equal(stats.addrsRemoved, 2)
        assert.deepEqual(store.peers(), [])
      })

      it('removeBarePeers: false touches addresses only', async () => {
        const { store, clock } = await setup({ gc: { interval: 0, removeBarePeers: false } })
        const { id } = await makePeer()
        await store.addAddrs(id, makeAddrs(1), s)
        await store.setProtocols(id, ['/x'])
        clock.advance(s)
        const stats = await store.gc()
        assert.equal(stats.addrsRemoved, 1)
        assert.equal(stats.peersRemoved, 0)
        assert.deepEqual(store.getProtocols(id), ['/x'])
      })

      it('runs in several slices on a large store and keeps the local peer', async () => {
        const self = await makePeer()
        const { store, clock } = await setup({ gc: { interval: 0, sliceMs: 0 }, peerId: self.id })
        await store.setProtocols(self.id, ['/self'])
        const peers = await makePeers(300)
        await Promise.all(peers.map((p) => store.addAddrs(p.id, makeAddrs(1), s)))
        clock.advance(s)
        const stats = await store.gc()
        assert.ok(stats.slices > 1, `expected several slices, got ${stats.slices}`)
        assert.equal(stats.peersRemoved, 300)
        assert.deepEqual(store.peers().map(String), [self.id.toString()])
      })

      it('the periodic GC timer is unref()d and stopped by close()', async () => {
        const { store } = await setup({ gc: { interval: 60_000 } })
        await store.close()
        await assert.rejects(async () => store.gc(), hasCode('ERR_CLOSED'))
      })
    })

    describe('import and export', () => {
      it('round-trips losslessly through versioned JSON', async () => {
        const { store, clock } = await setup()
        const { id, key } = await makePeer()
        const certified = makeAddrs(2)
        await store.consumePeerRecord(await signedRecord(key, id, certified, 7n), h)
        await store.addAddrs(id, makeAddrs(2), TempAddrTTL)
        await store.addAddrs(id, makeAddrs(1), ConnectedAddrTTL)
        await store.addAddrs(id, makeAddrs(1), PermanentAddrTTL)
        await store.setProtocols(id, ['/a'])
        await store.putMetadata(id, 'n', { nested: [1, 'two'] })
        await store.putMetadata(id, 'b', new Uint8Array([9]))
        await store.pin(id, 'kad')
        const json = JSON.stringify(await store.export())
        const { store: target } = await setup()
        clock.advance(0)
        const count = await target.import(JSON.parse(json))
        assert.equal(count, 1)
        // Compared by text: a multiaddr read back from storage is a StoredMultiaddr, not a parsed one.
        const infos = (s: LevelPeerStore) =>
          s.addrInfos(id).map((a) => ({ ...a, multiaddr: a.multiaddr.toString() }))
        assert.deepEqual(infos(target), infos(store))
        assert.deepEqual(target.getProtocols(id), ['/a'])
        assert.deepEqual(target.getMetadata(id, 'n'), { nested: [1, 'two'] })
        assert.deepEqual(target.getMetadata(id, 'b'), new Uint8Array([9]))
        assert.deepEqual(target.pins(id), ['kad'])
        assert.deepEqual(target.peerRecord(id), store.peerRecord(id))
        assert.equal(JSON.stringify(await target.export()), json)
        assert.ok(target.pubKey(id)?.equals(key.publicKey))
      })

      it('rejects a bad import with ERR_INVALID_IMPORT and changes nothing', async () => {
        const { store } = await setup()
        await assert.rejects(store.import({ version: 99, peers: [] }), hasCode('ERR_INVALID_IMPORT'))
        await assert.rejects(
          store.import({ version: 1, peers: [{ id: 'nope', addrs: [] }] }),
          hasCode('ERR_INVALID_IMPORT')
        )
        assert.deepEqual(store.peers(), [])
      })

      it('imports the libp2p-rs ds_addr_book.txt format', async () => {
        const { store, clock } = await setup()
        const [a, b] = await makePeers(2)
        // The u64::MAX TTL is kept as raw JSON text, as libp2p-rs writes it.
        const text = `{
          "${a!.id}": [
            { "addr": "/ip4/1.1.1.1/tcp/4001", "ttl": { "secs": 3600, "nanos": 0 } },
            { "addr": "/ip4/1.1.1.2/tcp/4001", "ttl": { "secs": 0, "nanos": 500000000 } }
          ],
          "${b!.id}": [
            { "addr": "/ip4/2.2.2.2/tcp/4001", "ttl": { "secs": 18446744073709551615, "nanos": 999999999 } }
          ]
        }`
        assert.equal(await store.importRustAddrBook(text), 2)
        const infos = store.addrInfos(a!.id)
        assert.deepEqual(
          infos.map((i) => [i.multiaddr.toString(), i.ttl, i.expiresAt]),
          [
            ['/ip4/1.1.1.1/tcp/4001', h, clock.now + h],
            ['/ip4/1.1.1.2/tcp/4001', 500, clock.now + 500]
          ]
        )
        assert.equal(store.addrInfos(b!.id)[0]?.ttl, PermanentAddrTTL)
        await assert.rejects(store.importRustAddrBook('{"x": 1}'), hasCode('ERR_INVALID_IMPORT'))
      })
    })
  })
}
