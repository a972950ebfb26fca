// The store's promise, as a property: for any sequence of calls (core API, libp2p view, import, GC, the clock
// moving), hostile values included, what the store holds in memory equals what a reopen reads from disk, byte for
// byte; a call that rejects changes nothing in memory, and rejects with a typed error. Run against LevelDB (with
// the journal) and memory-level. `script/test` runs a bounded number of sequences; `pnpm soak` sets
// PEERSCOPE_ROUNDTRIP_RUNS higher. PEERSCOPE_ROUNDTRIP_SEED replays a run.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { peerIdSymbol } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import fc from 'fast-check'
import { expiryAfter } from '../src/expiry.ts'
import {
  AddressTTL,
  ConnectedAddrTTL,
  type ExportedPeer,
  type LevelPeerStore,
  Libp2pPeerStore,
  type PeerEntry,
  type PeerStoreLimits,
  PermanentAddrTTL,
  RecentlyConnectedAddrTTL,
  TempAddrTTL
} from '../src/node.ts'
import { type Backend, levelBackend, MockClock, memoryBackend, signedRecord } from './suite/helpers.ts'

const RUNS = Number(process.env.PEERSCOPE_ROUNDTRIP_RUNS ?? 100)
const SEED = Number(process.env.PEERSCOPE_ROUNDTRIP_SEED ?? 20261201)

// --- the world the calls act on ----------------------------------------------------------------------------

const keys: PrivateKey[] = [
  await generateKeyPair('Ed25519'),
  await generateKeyPair('Ed25519'),
  await generateKeyPair('Ed25519'),
  await generateKeyPair('secp256k1'),
  await generateKeyPair('RSA', 1024)
]
const realPeers = keys.map((k) => peerIdFromPrivateKey(k))
/** PeerId objects whose text no reopen can read. */
const forged = [`${realPeers[0]!.toString()}\u0001`, 'not\na peer id'].map(
  (text) => ({ toString: () => text, equals: () => false, [peerIdSymbol]: true }) as unknown as PeerId
)
const peers = [...realPeers, ...forged]

function slashedDnsAddr(): Multiaddr {
  const name = new TextEncoder().encode('a/b')
  return multiaddr(Uint8Array.from([0x35, name.length, ...name, 0x06, 0x0f, 0xa1]))
}
const addrs: Array<Multiaddr | null> = [
  multiaddr('/ip4/127.0.0.1/tcp/4001'),
  multiaddr('/ip4/1.2.3.4/udp/4001/quic-v1'),
  multiaddr('/ip6/::1/tcp/1'),
  multiaddr('/ip6/2001:db8::1/udp/1/webrtc-direct'),
  multiaddr('/dns4/example.com/tcp/443/wss'),
  multiaddr('/dns/a b/tcp/1'),
  multiaddr('/memory/x'),
  multiaddr('/ip4/10.0.0.1/tcp/1/p2p-circuit'),
  multiaddr(`/ip4/5.6.7.8/tcp/1/p2p/${realPeers[0]!.toString()}`),
  multiaddr(`/p2p/${realPeers[1]!.toString()}`),
  slashedDnsAddr(),
  null
]
/** Signed records: per signer, three sequence numbers with different addresses; one with an address that cannot be stored. */
const envelopes: Uint8Array[] = []
for (const i of [0, 1, 3]) {
  for (const seq of [1n, 2n, 3n]) {
    const chosen = addrs.filter((a, j) => a != null && j < 8 && (j + Number(seq)) % 2 === 0) as Multiaddr[]
    envelopes.push(await signedRecord(keys[i]!, realPeers[i]!, chosen, seq))
  }
}
envelopes.push(await signedRecord(keys[2]!, realPeers[2]!, [slashedDnsAddr()], 1n))
envelopes.push(new Uint8Array([1, 2, 3]))

// --- hostile values ----------------------------------------------------------------------------------------

const hostileNumbers = [
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.NaN,
  -0,
  0,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MIN_VALUE,
  Number.MAX_SAFE_INTEGER + 2,
  1e-7,
  1.5,
  -1
]
const ttl = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(TempAddrTTL, RecentlyConnectedAddrTTL, AddressTTL) },
  { weight: 2, arbitrary: fc.constantFrom(ConnectedAddrTTL, PermanentAddrTTL) },
  { weight: 3, arbitrary: fc.constantFrom(...hostileNumbers) },
  { weight: 1, arbitrary: fc.double() }
)
const name = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty')
  },
  { weight: 2, arbitrary: fc.constantFrom('', 'ü', '\u0000', '\ud800', 'a\tb\nc"\\', '1', '0') },
  { weight: 2, arbitrary: fc.string({ maxLength: 8 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
  { weight: 1, arbitrary: fc.constantFrom('x'.repeat(1024), `/${'p'.repeat(1023)}`, 'y'.repeat(1025)) }
)
const protocol = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('/ipfs/id/1.0.0', '/ipfs/ping/1.0.0', '/meshsub/1.1.0') },
  { weight: 2, arbitrary: name }
)
/** JSON objects whose keys may be `__proto__` (own keys, as JSON.parse makes them). */
const awkwardObject = fc
  .array(fc.tuple(name, fc.jsonValue({ maxDepth: 2 })), { maxLength: 4 })
  .map((pairs) => Object.fromEntries(pairs))
const metadataValue = fc.oneof(
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 32 }) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 32 }).map((b) => Buffer.from(b)) },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: awkwardObject },
  { weight: 2, arbitrary: fc.constantFrom<unknown>(...hostileNumbers, undefined, 10n, () => 1, Symbol('s')) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<unknown>(
      new Uint8Array(64 * 1024 + 1),
      'é'.repeat(40_000),
      JSON.parse('['.repeat(101) + ']'.repeat(101)),
      JSON.parse('['.repeat(100) + ']'.repeat(100))
    )
  }
)
const tagOptions = fc.record(
  {
    value: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.constantFrom(...hostileNumbers, 101)),
    ttl: fc.oneof(fc.integer({ min: 0, max: 10 * 3_600_000 }), fc.constantFrom(...hostileNumbers))
  },
  { requiredKeys: [] }
)

const peerIx = fc.nat({ max: peers.length - 1 })
const addrList = fc.array(fc.nat({ max: addrs.length - 1 }), { maxLength: 4 })
const entries = <T>(value: fc.Arbitrary<T>) => fc.array(fc.tuple(name, value), { maxLength: 4 })
const peerData = fc.record(
  {
    multiaddrs: addrList,
    protocols: fc.array(protocol, { maxLength: 5 }),
    metadata: entries(fc.option(fc.uint8Array({ maxLength: 16 }), { nil: undefined })),
    tags: entries(fc.option(tagOptions, { nil: undefined })),
    asMaps: fc.boolean()
  },
  { requiredKeys: ['asMaps'] }
)

/** One exported peer, as an import document lists it (keys may be awkward names). */
const exportedPeer = fc.record(
  {
    peer: fc.nat({ max: realPeers.length - 1 }),
    protos: fc.array(protocol, { maxLength: 4 }),
    meta: entries(fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.uint8Array({ maxLength: 8 }))),
    tags: entries(fc.tuple(fc.integer({ min: 0, max: 100 }), fc.option(fc.integer(), { nil: null }))),
    pins: fc.array(name, { maxLength: 3 }),
    addrs: fc.array(fc.tuple(fc.nat({ max: 7 }), fc.constantFrom(AddressTTL, PermanentAddrTTL, -5)), {
      maxLength: 3
    })
  },
  { requiredKeys: ['peer'] }
)

type Generated<A> = A extends fc.Arbitrary<infer T> ? T : never

type Call =
  | { op: 'addAddrs' | 'setAddrs'; peer: number; addrs: number[]; ttl: number }
  | { op: 'updateAddrs'; peer: number; from: number; to: number }
  | { op: 'clearAddrs' | 'removePeer' | 'deletePeer' | 'pubKey' | 'viewDelete'; peer: number }
  | { op: 'consumePeerRecord'; envelope: number; ttl: number }
  | { op: 'viewConsume'; envelope: number }
  | { op: 'addProtocols' | 'setProtocols' | 'removeProtocols'; peer: number; protocols: string[] }
  | { op: 'putMetadata'; peer: number; key: string; value: unknown; changeAfter: boolean }
  | { op: 'deleteMetadata' | 'pin' | 'unpin'; peer: number; key: string }
  | { op: 'save' | 'patch' | 'merge'; peer: number; data: Generated<typeof peerData> }
  | { op: 'import'; peers: Array<Generated<typeof exportedPeer>> }
  | { op: 'exportImport' | 'gc' }
  | { op: 'advance'; ms: number }

const call: fc.Arbitrary<Call> = fc.oneof(
  fc.record({ op: fc.constantFrom('addAddrs', 'setAddrs'), peer: peerIx, addrs: addrList, ttl }),
  fc.record({ op: fc.constant('updateAddrs'), peer: peerIx, from: ttl, to: ttl }),
  fc.record({
    op: fc.constantFrom('clearAddrs', 'removePeer', 'deletePeer', 'pubKey', 'viewDelete'),
    peer: peerIx
  }),
  fc.record({ op: fc.constant('consumePeerRecord'), envelope: fc.nat({ max: envelopes.length - 1 }), ttl }),
  fc.record({ op: fc.constant('viewConsume'), envelope: fc.nat({ max: envelopes.length - 1 }) }),
  fc.record({
    op: fc.constantFrom('addProtocols', 'setProtocols', 'removeProtocols'),
    peer: peerIx,
    protocols: fc.array(protocol, { maxLength: 5 })
  }),
  fc.record({
    op: fc.constant('putMetadata'),
    peer: peerIx,
    key: name,
    value: metadataValue,
    changeAfter: fc.boolean()
  }),
  fc.record({ op: fc.constantFrom('deleteMetadata', 'pin', 'unpin'), peer: peerIx, key: name }),
  fc.record({ op: fc.constantFrom('save', 'patch', 'merge'), peer: peerIx, data: peerData }),
  fc.record({ op: fc.constant('import'), peers: fc.array(exportedPeer, { minLength: 1, maxLength: 2 }) }),
  fc.record({ op: fc.constantFrom('exportImport', 'gc') }),
  fc.record({
    op: fc.constant('advance'),
    ms: fc.oneof(
      fc.integer({ min: 1, max: 3 * 3_600_000 }),
      fc.double({ min: 0.000001, max: 10, noNaN: true })
    )
  })
)

/** Default limits, or small ones that the sequences reach. */
const limitsArb: fc.Arbitrary<PeerStoreLimits | undefined> = fc.constantFrom(undefined, {
  maxAddrs: 6,
  maxAddrsPerPeer: 3,
  maxProtocols: 4,
  maxProtocolLength: 64,
  maxMetadataKeys: 3,
  maxMetadataValueBytes: 256,
  maxKeyLength: 64,
  maxTags: 3
})

// --- what the store holds, canonically ---------------------------------------------------------------------

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
/** Numbers as text that tells -0, NaN and the infinities apart. */
const num = (n: number | undefined): string =>
  n === undefined ? 'undefined' : Object.is(n, -0) ? '-0' : String(n)

interface Dumped {
  id: string
  addrs: string[][]
  record: string | undefined
  publicKey: string | undefined
  protocols: string[]
  metadata: string[][]
  tags: string[][]
  pins: string[]
  updated: string
}

/**
 * Every peer the index holds, every field as text. Maps are compared as sets of keys (sorted): a JSON object puts
 * integer-like keys first, so their order is not kept. `reopenAt` applies what an open does: Connected addresses
 * downgraded to RecentlyConnected from then, a first write time for a peer stored without one.
 */
function dump(entries: Iterable<PeerEntry>, reopenAt?: number): Dumped[] {
  const out: Dumped[] = []
  for (const e of entries) {
    out.push({
      id: e.id.toString(),
      addrs: [...e.addrs].map(([key, a]) => {
        let { ttl, expiresAt, expiresAtNs } = a
        if (reopenAt !== undefined && ttl === ConnectedAddrTTL) {
          ttl = RecentlyConnectedAddrTTL
          ;({ expiresAt, expiresAtNs } = expiryAfter(reopenAt, ttl))
        }
        return [
          key,
          a.multiaddr.toString(),
          hex(a.multiaddr.bytes),
          num(ttl),
          num(expiresAt),
          num(expiresAtNs),
          String(a.certified)
        ]
      }),
      record: e.record === undefined ? undefined : `${e.record.seq}:${hex(e.record.envelope)}`,
      publicKey: e.publicKey === undefined ? undefined : hex(publicKeyToProtobuf(e.publicKey)),
      protocols: [...e.protocols],
      metadata: [...e.metadata]
        .map(([k, v]) => [k, v instanceof Uint8Array ? `b:${hex(v)}` : `j:${JSON.stringify(v)}`])
        .sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
      tags: [...e.tags]
        .map(([k, t]) => [k, num(t.value), num(t.expiresAt)])
        .sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
      pins: [...e.pins].sort(),
      updated: num(e.updated ?? reopenAt)
    })
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : 1))
}

/** Errors a hostile call may get: typed ones. A TypeError or RangeError escaping the store is a bug. */
function untyped(err: unknown): boolean {
  const name = (err as Error)?.constructor?.name
  return name === 'TypeError' || name === 'RangeError' || name === 'SyntaxError' || name === 'Error'
}

function map<T>(pairs: Array<[string, T]>, asMap: boolean): Map<string, T> | Record<string, T> {
  return asMap ? new Map(pairs) : Object.fromEntries(pairs)
}

function exportDoc(list: Array<Generated<typeof exportedPeer>>): unknown {
  return {
    version: 1,
    exportedAt: 0,
    peers: list.map((p): ExportedPeer => {
      const peer: Record<string, unknown> = { id: realPeers[p.peer]!.toString() }
      if (p.protos !== undefined) peer.protos = p.protos
      if (p.meta !== undefined)
        peer.meta = Object.fromEntries(
          p.meta.map(([k, v]) => [
            k,
            v instanceof Uint8Array ? { b: Buffer.from(v).toString('base64') } : { j: v }
          ])
        )
      if (p.tags !== undefined) peer.tags = Object.fromEntries(p.tags)
      if (p.pins !== undefined) peer.pins = p.pins
      if (p.addrs !== undefined)
        peer.addrs = {
          a: p.addrs.map(([i, t]) => [
            addrs[i]!.toString(),
            t,
            t >= ConnectedAddrTTL ? null : 1_800_000_000_000 + t,
            0
          ])
        }
      return peer as ExportedPeer
    })
  }
}

async function apply(store: LevelPeerStore, view: Libp2pPeerStore, c: Call): Promise<void> {
  const peer = 'peer' in c ? peers[c.peer]! : realPeers[0]!
  const list = (ix: number[]): Array<Multiaddr | null> => ix.map((i) => addrs[i]!)
  switch (c.op) {
    case 'addAddrs':
    case 'setAddrs':
      return store[c.op](peer, list(c.addrs), c.ttl)
    case 'updateAddrs':
      return store.updateAddrs(peer, c.from, c.to)
    case 'clearAddrs':
    case 'removePeer':
    case 'deletePeer':
      return store[c.op](peer)
    case 'pubKey':
      store.pubKey(peer)
      return
    case 'viewDelete':
      return view.delete(peer)
    case 'consumePeerRecord':
      await store.consumePeerRecord(envelopes[c.envelope]!, c.ttl)
      return
    case 'viewConsume':
      await view.consumePeerRecord(envelopes[c.envelope]!)
      return
    case 'addProtocols':
    case 'setProtocols':
    case 'removeProtocols':
      return store[c.op](peer, c.protocols)
    case 'putMetadata': {
      const written = store.putMetadata(peer, c.key, c.value as never)
      // A caller reusing its buffer right after the call must not change what was stored.
      if (c.changeAfter && c.value instanceof Uint8Array && c.value.length > 0) c.value[0]! ^= 0xff
      return written
    }
    case 'deleteMetadata':
    case 'pin':
    case 'unpin':
      return store[c.op](peer, c.key)
    case 'save':
    case 'patch':
    case 'merge': {
      const d = c.data
      const data: Record<string, unknown> = {}
      if (d.multiaddrs !== undefined) data.multiaddrs = list(d.multiaddrs).filter((a) => a != null)
      if (d.protocols !== undefined) data.protocols = d.protocols
      if (d.metadata !== undefined) data.metadata = map(d.metadata, d.asMaps)
      if (d.tags !== undefined) data.tags = map(d.tags, d.asMaps)
      await view[c.op](peer, data as never)
      return
    }
    case 'import':
      await store.import(exportDoc(c.peers))
      return
    case 'exportImport':
      await store.import(await store.export())
      return
    case 'gc':
      await store.gc()
      return
    case 'advance':
      return
  }
}

function roundTrip(backend: Backend): void {
  it(`${RUNS} call sequences on ${backend.name}: memory equals what a reopen reads; a rejected call changes nothing`, async (t) => {
    const stats = { calls: 0, rejected: 0, peersCompared: 0 }
    await fc.assert(
      fc.asyncProperty(
        limitsArb,
        fc.array(call, { minLength: 1, maxLength: 30, size: 'max' }),
        async (limits, calls) => {
          const storage = await backend.create()
          const clock = new MockClock()
          try {
            const init = { clock: clock.read, ...(limits === undefined ? {} : { limits }) }
            const store = await storage.open(init)
            const view = new Libp2pPeerStore(store)
            for (const c of calls) {
              if (c.op === 'advance') clock.advance(c.ms)
              const before = JSON.stringify(dump(store.entries()))
              stats.calls++
              try {
                await apply(store, view, c)
              } catch (err) {
                stats.rejected++
                assert.ok(
                  !untyped(err),
                  `${c.op} rejected with an untyped ${String(err)}\n${(err as Error).stack}`
                )
                assert.equal(
                  JSON.stringify(dump(store.entries())),
                  before,
                  `${c.op} rejected and changed memory`
                )
              }
            }
            const memory = dump(store.entries(), clock.now)
            await store.close()
            const reopened = await storage.open(init)
            try {
              assert.deepEqual(reopened.openReport.quarantined, [], 'nothing written is quarantined')
              assert.deepEqual(dump(reopened.entries()), memory)
              stats.peersCompared += memory.length
            } finally {
              await reopened.close()
            }
          } finally {
            await storage.cleanup()
          }
        }
      ),
      { numRuns: RUNS, seed: SEED, endOnFailure: process.env.PEERSCOPE_ROUNDTRIP_SHRINK === undefined }
    )
    t.diagnostic(
      `seed ${SEED}: ${RUNS} sequences, ${stats.calls} calls (${stats.rejected} rejected), ${stats.peersCompared} peers compared after reopen`
    )
  })
}

describe('accepted calls round-trip through a reopen (property)', () => {
  roundTrip(levelBackend)
  roundTrip(memoryBackend)
})
