import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { AddressTTL, openPeerStore, PeerStoreError } from '@peerscope/peerstore-level'
import fc from 'fast-check'

const dir = await mkdtemp(join(tmpdir(), 'peerscope-bad-input-'))
after(() => rm(dir, { recursive: true, force: true }))

const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
const bystander = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))

/** Anything a careless caller or a hostile remote could hand the store. */
const junk = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.double(),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, 0, 2 ** 64, -(2 ** 64)),
  fc.string(),
  fc.string({ minLength: 10_000, maxLength: 10_000 }),
  fc.constant(''),
  fc.uint8Array({ maxLength: 64 }),
  fc.array(fc.string(), { maxLength: 4 }),
  fc.object({ maxDepth: 2 }),
  fc.constant({ toString: () => '/ip4/1.2.3.4/tcp/1' }),
  // A multiaddr (it passes isMultiaddr) whose text is not a string.
  fc.constant(Object.assign(Object.create(multiaddr('/ip4/1.2.3.4/tcp/1')), { toString: () => 42 }))
)

type Call = [name: string, args: unknown[]]

const calls: fc.Arbitrary<Call> = fc.oneof(
  fc.tuple(
    fc.constant('addAddrs'),
    fc.tuple(fc.oneof(fc.constant(peer), junk), fc.array(junk, { maxLength: 3 }), junk)
  ),
  fc.tuple(fc.constant('setAddrs'), fc.tuple(fc.constant(peer), fc.array(junk, { maxLength: 3 }), junk)),
  fc.tuple(fc.constant('updateAddrs'), fc.tuple(fc.constant(peer), junk, junk)),
  fc.tuple(fc.constant('addProtocols'), fc.tuple(fc.constant(peer), fc.array(junk, { maxLength: 3 }))),
  fc.tuple(
    fc.constant('setProtocols'),
    fc.tuple(fc.constant(peer), fc.oneof(junk, fc.array(junk, { maxLength: 3 })))
  ),
  fc.tuple(fc.constant('putMetadata'), fc.tuple(fc.constant(peer), junk, junk)),
  fc.tuple(fc.constant('recordLatency'), fc.tuple(fc.constant(peer), junk)),
  fc.tuple(fc.constant('pin'), fc.tuple(fc.oneof(fc.constant(peer), junk), junk)),
  fc.tuple(fc.constant('addPubKey'), fc.tuple(fc.constant(peer), junk)),
  fc.tuple(
    fc.constant('consumePeerRecord'),
    fc.tuple(fc.oneof(fc.uint8Array({ maxLength: 200 }), junk), junk)
  ),
  fc.tuple(fc.constant('import'), fc.tuple(junk)),
  fc.tuple(fc.constant('importRustAddrBook'), fc.tuple(fc.oneof(fc.string(), fc.json(), junk)))
)

test('bad input to any public write gets a PeerStoreError or a documented normalisation, never damage', async () => {
  const path = join(dir, 'db')
  let store = await openPeerStore({ path, gc: { interval: 0 } })
  await store.addAddrs(bystander, [multiaddr('/ip4/127.0.0.1/tcp/4001')], AddressTTL)
  await store.setProtocols(bystander, ['/ipfs/id/1.0.0'])
  const untouched = JSON.stringify(
    store.addrInfos(bystander).map((a) => [String(a.multiaddr), a.ttl, a.expiresAt])
  )
  const unexpected: string[] = []

  await fc.assert(
    fc.asyncProperty(fc.array(calls, { minLength: 1, maxLength: 8 }), async (sequence) => {
      for (const [name, args] of sequence) {
        const method = (store as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!
        try {
          await method.apply(store, args)
        } catch (err) {
          if (!(err instanceof PeerStoreError)) {
            unexpected.push(`${name}: ${(err as Error)?.constructor?.name} ${(err as Error)?.message}`)
          }
        }
      }
    }),
    { numRuns: 300, seed: 20261122 }
  )
  assert.deepEqual(unexpected.slice(0, 10), [], `untyped errors (${unexpected.length})`)

  // Nothing stored was damaged: the bystander is intact, and what is on disk reads back as what was in memory.
  const now = JSON.stringify(store.addrInfos(bystander).map((a) => [String(a.multiaddr), a.ttl, a.expiresAt]))
  assert.equal(now, untouched)
  const before = await store.export()
  await store.close()
  store = await openPeerStore({ path, gc: { interval: 0 } })
  try {
    assert.deepEqual(store.openReport.quarantined, [], 'no record written by a bad call fails to decode')
    const reopened = await store.export()
    assert.deepEqual(reopened.peers, before.peers)
  } finally {
    await store.close()
  }
})
