// The index's packed, sorted address list (src/addr-list.ts) against a plain Map as the model, its stored records
// against the JSON the previous encoder wrote, and what a store keeps of the objects a caller gives it.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import fc from 'fast-check'
import { toString as bytesToString } from 'uint8arrays'
import { AddrList } from '../src/addr-list.ts'
import { isLive } from '../src/expiry.ts'
import { ConnectedAddrTTL, openPeerStore, PermanentAddrTTL } from '../src/node.ts'
import { decodeRecord, encodeRecord } from '../src/persistence/codec.ts'
import { StoredEd25519PeerId } from '../src/persistence/lazy-peer-id.ts'
import { StoredMultiaddr } from '../src/persistence/stored-multiaddr.ts'
import { newEntry } from '../src/types.ts'
import { makePeers, tempDirs } from './suite/helpers.ts'

interface State {
  ttl: number
  expiresAt: number
  expiresAtNs: number | undefined
  certified: boolean
}

const texts = fc.constantFrom(
  ...Array.from({ length: 12 }, (_, i) => `/ip4/10.0.0.${i}/tcp/${4000 + (i % 3)}`),
  '/ip6/fd00::1/udp/1/quic-v1',
  '/dns4/a.example.com/tcp/443/wss',
  '/ip4/1.2.3.4/tcp/1/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA/p2p-circuit'
)
const state: fc.Arbitrary<State> = fc.record({
  ttl: fc.oneof(
    fc.constantFrom(60_000, ConnectedAddrTTL, PermanentAddrTTL, -1),
    fc.double({ min: 0.000001, max: 10, noNaN: true })
  ),
  expiresAt: fc.integer({ min: 1_700_000_000_000, max: 1_700_000_100_000 }),
  expiresAtNs: fc.option(fc.integer({ min: 1, max: 999_999 }), { nil: undefined }),
  certified: fc.boolean()
})
const op = fc.oneof(
  fc.record({ kind: fc.constant('put' as const), key: texts, state }),
  fc.record({ kind: fc.constant('append' as const), key: texts, state }),
  fc.record({ kind: fc.constant('delete' as const), key: texts }),
  fc.record({ kind: fc.constant('update' as const), at: fc.nat(20), state }),
  fc.record({ kind: fc.constant('trim' as const) })
)

function contents(list: AddrList): Array<[string, State]> {
  const out: Array<[string, State]> = []
  for (let i = 0; i < list.size; i++) {
    out.push([
      list.keyAt(i),
      {
        ttl: list.ttlAt(i),
        expiresAt: list.expiresAt(i),
        expiresAtNs: list.expiresAtNs(i),
        certified: list.certifiedAt(i)
      }
    ])
  }
  return out
}

function sortedModel(model: Map<string, State>): Array<[string, State]> {
  return [...model].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}

describe('AddrList', () => {
  it('holds what a Map would, always in code-unit order of the texts', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const list = new AddrList()
        const model = new Map<string, State>()
        for (const o of ops) {
          if (o.kind === 'put') {
            const { ttl, certified } = o.state
            const fresh = list.put(o.key, multiaddr(o.key), ttl, o.state, certified)
            assert.equal(fresh, !model.has(o.key))
            model.set(o.key, { ...o.state })
          } else if (o.kind === 'append') {
            const last = sortedModel(model).at(-1)?.[0]
            const appended = list.append(o.key, o.key, o.state.ttl, o.state, o.state.certified)
            assert.equal(appended, last === undefined || last < o.key, 'appends only past the last text')
            if (appended) model.set(o.key, { ...o.state })
          } else if (o.kind === 'delete') {
            assert.equal(list.delete(o.key), model.delete(o.key))
          } else if (o.kind === 'update') {
            if (list.size === 0) continue
            const i = o.at % list.size
            list.updateAt(i, o.state.ttl, o.state, o.state.certified)
            model.set(list.keyAt(i), { ...o.state })
          } else list.trim()
          assert.deepEqual(contents(list), sortedModel(model))
          // GC's counts in one call each: live at a time (some expiries fall inside its ms), and expiring.
          const states = [...model.values()]
          for (const now of [0, 50_000, 50_000.0005, 100_001].map((t) => 1_700_000_000_000 + t)) {
            const live = states.filter((st) =>
              isLive(
                {
                  expiresAt: st.expiresAt,
                  ...(st.expiresAtNs === undefined ? {} : { expiresAtNs: st.expiresAtNs })
                },
                now
              )
            )
            assert.equal(list.liveCount(now), live.length, `live at ${now}`)
          }
          assert.equal(list.expiringCount(), states.filter((st) => st.ttl < ConnectedAddrTTL).length)
        }
        // Reads: AddrInfo made on read, with a multiaddr of the same text.
        for (const [key, s] of model) {
          const info = list.get(key)
          assert.equal(info?.multiaddr.toString(), key)
          assert.deepEqual(
            [info?.ttl, info?.expiresAt, info?.expiresAtNs, info?.certified],
            [s.ttl, s.expiresAt, s.expiresAtNs, s.certified]
          )
        }
      }),
      { numRuns: 300 }
    )
  })

  it('liveCount is exact to the ns inside an expiry\u2019s ms; expiringCount leaves out never-expiring TTLs', () => {
    const t = 1_700_000_000_000
    const list = new AddrList()
    list.put('/ip4/10.0.0.1/tcp/1', undefined, 60_000, { expiresAt: t, expiresAtNs: 500_000 }, false)
    list.put(
      '/ip4/10.0.0.2/tcp/1',
      undefined,
      ConnectedAddrTTL,
      { expiresAt: Number.POSITIVE_INFINITY },
      false
    )
    list.put('/ip4/10.0.0.3/tcp/1', undefined, 1000, { expiresAt: t - 1 }, true)
    assert.deepEqual(
      [t - 1.5, t - 0.5, t + 0.25, t + 0.75, t + 1].map((now) => list.liveCount(now)),
      [3, 2, 2, 1, 1]
    )
    assert.equal(list.expiringCount(), 2)
  })

  it('keeps common shapes as text and other multiaddrs as given; iterators survive deletes', () => {
    const list = new AddrList()
    const common = multiaddr('/ip4/10.0.0.1/tcp/1')
    const relay = multiaddr(
      '/ip4/1.2.3.4/tcp/1/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA/p2p-circuit'
    )
    list.put(common.toString(), common, 60_000, { expiresAt: 1 }, false)
    list.put(relay.toString(), relay, 60_000, { expiresAt: 1 }, false)
    const read = list.get(common.toString())?.multiaddr
    assert.ok(read instanceof StoredMultiaddr, 'a common shape is rebuilt from its text')
    assert.notEqual(read, common)
    assert.equal(list.get(relay.toString())?.multiaddr, relay, 'an uncommon shape is the object given')
    const seen: string[] = []
    for (const [key] of list) {
      seen.push(key)
      list.delete(key)
    }
    assert.deepEqual(seen, [common.toString(), relay.toString()].sort())
    assert.equal(list.size, 0)
  })

  it('copy() is independent of the list it copies', () => {
    const list = new AddrList()
    list.put('/ip4/1.1.1.1/tcp/1', undefined, 1, { expiresAt: 5 }, false)
    const copy = list.copy()
    list.put('/ip4/2.2.2.2/tcp/1', undefined, 1, { expiresAt: 5 }, false)
    list.updateAt(0, 2, { expiresAt: 6 }, true)
    assert.deepEqual(contents(copy), [
      ['/ip4/1.1.1.1/tcp/1', { ttl: 1, expiresAt: 5, expiresAtNs: undefined, certified: false }]
    ])
  })
})

describe('the addrs record', () => {
  it('is the text JSON.stringify made of the previous structure, and reads back the same', async () => {
    const [p] = await makePeers(1)
    const record = fc.option(
      fc.record({
        seq: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        envelope: fc.uint8Array({ maxLength: 40 })
      }),
      { nil: undefined }
    )
    fc.assert(
      fc.property(fc.array(fc.tuple(texts, state), { maxLength: 8 }), record, (items, signed) => {
        const entry = newEntry(p!.id)
        for (const [key, s] of items) entry.addrs.set(key, { ...s, multiaddr: multiaddr(key) })
        entry.record = signed
        // What the encoder wrote before the list: an object of arrays through JSON.stringify.
        const a = contents(entry.addrs).map(([key, s]) => {
          const certified = s.certified ? 1 : 0
          if (s.ttl >= ConnectedAddrTTL) return [key, s.ttl, null, certified]
          return s.expiresAtNs === undefined
            ? [key, s.ttl, s.expiresAt, certified]
            : [key, s.ttl, s.expiresAt, certified, s.expiresAtNs]
        })
        const value: Record<string, unknown> = { a }
        if (signed != null) {
          value.r = bytesToString(signed.envelope, 'base64')
          value.s = signed.seq.toString()
        }
        const text = encodeRecord('addrs', entry)
        if (items.length === 0 && signed == null) {
          assert.equal(text, undefined)
          return
        }
        assert.equal(text, JSON.stringify(value))
        const read = newEntry(p!.id)
        decodeRecord('addrs', text!, read)
        assert.equal(encodeRecord('addrs', read), text)
      }),
      { numRuns: 500 }
    )
  })
})

describe('what a store keeps of the caller\u2019s objects', () => {
  const { path: tempPath } = tempDirs('peerstore-addr-list-')

  it('a write keeps the id and common addresses as text, as a reopened store does', async () => {
    const path = await tempPath()
    const [p] = await makePeers(1)
    const given = [multiaddr('/ip4/10.0.0.1/tcp/1'), multiaddr('/ip6/fd00::1/udp/1/quic-v1')]
    const store = await openPeerStore({ path, gc: { interval: 0 } })
    await store.addAddrs(p!.id, given, 60_000)
    const entry = store.entryFor(p!.id)!
    assert.ok(entry.id instanceof StoredEd25519PeerId, 'not the caller\u2019s PeerId')
    assert.ok(entry.id.equals(p!.id))
    const read = store.addrs(p!.id)
    assert.ok(read.every((ma) => ma instanceof StoredMultiaddr && !given.includes(ma)))
    assert.deepEqual(read.map(String), given.map(String).sort())
    await store.close()
    const again = await openPeerStore({ path, gc: { interval: 0 } })
    assert.ok(again.entryFor(p!.id)!.id instanceof StoredEd25519PeerId)
    assert.deepEqual(again.addrs(p!.id).map(String), given.map(String).sort())
    await again.close()
  })
})
