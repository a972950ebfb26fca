// go's address book suite (AddAddress ... CertifiedAddresses), its address stream tests, plus our limits.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import {
  ConnectedAddrTTL,
  type LevelPeerStore,
  PermanentAddrTTL,
  RecentlyConnectedAddrTTL,
  TempAddrTTL
} from '../../../src/node.ts'
import { type Backend, makeAddrs, makePeer, makePeers, signedRecord, strings } from '../helpers.ts'
import { h, hasCode, s, storeSetup } from './setup.ts'

export function addrBookSuite(backend: Backend): void {
  describe('AddrBook', () => {
    const setup = storeSetup(backend)

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
        await assert.rejects(async () => store.addAddrs(bad, makeAddrs(1), h), hasCode('ERR_INVALID_PEER_ID'))
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
      assert.deepEqual(strings(infos.filter((a) => a.certified).map((a) => a.multiaddr)), strings(certified))
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
      await assert.rejects(async () => store.addAddrs(b!.id, makeAddrs(2), h), hasCode('ERR_TOO_MANY_ADDRS'))
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

  describe('AddrStream', () => {
    const setup = storeSetup(backend)

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
  })

  describe('BasicPeerstore', () => {
    const setup = storeSetup(backend)

    it('BasicPeerstore', async () => {
      const { store } = await setup()
      const peers = await makePeers(10)
      const addrs = makeAddrs(10)
      for (const [i, p] of peers.entries()) await store.addAddrs(p.id, [addrs[i]!], PermanentAddrTTL)
      assert.equal(store.peers().length, 10)
      assert.deepEqual(strings(store.addrs(peers[0]!.id)), strings([addrs[0]!]))
    })
  })
}
