import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { persistentPeerStore } from '@libp2p/peer-store'
import { multiaddr } from '@multiformats/multiaddr'
import { LevelDatastore } from 'datastore-level'
import { Key } from 'interface-datastore'
import { migrateFromLibp2pDatastore, openPeerStore } from '../src/node.ts'
import { makePeer, signedRecord } from './suite/helpers.ts'

const dirs: string[] = []
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
})

const events = { safeDispatchEvent: () => true } as unknown as Parameters<
  typeof persistentPeerStore
>[0]['events']

describe('migration from @libp2p/peer-store over datastore-level', () => {
  it('copies addresses, protocols, keys, metadata, tags and signed records', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'peerstore-migrate-'))
    dirs.push(dir)
    const self = await makePeer()
    const plain = await makePeer()
    const signed = await makePeer()
    const rsaKey = await generateKeyPair('RSA', 1024)
    const rsa = peerIdFromString(peerIdFromPrivateKey(rsaKey).toString())
    const a1 = multiaddr('/ip4/1.1.1.1/tcp/4001')
    const a2 = multiaddr('/ip4/2.2.2.2/udp/4001/quic-v1')

    const ds = new LevelDatastore(join(dir, 'legacy'))
    await ds.open()
    const legacy = persistentPeerStore({ peerId: self.id, datastore: ds, events, logger: defaultLogger() })
    const savedFrom = Date.now()
    await legacy.save(plain.id, {
      multiaddrs: [a1, a2],
      protocols: ['/ipfs/id/1.0.0', '/ipfs/ping/1.0.0'],
      metadata: { AgentVersion: new TextEncoder().encode('go-ipfs/0.1') },
      tags: { 'keep-alive': { value: 50 } }
    })
    const savedUntil = Date.now()
    await legacy.save(rsa, { publicKey: rsaKey.publicKey, multiaddrs: [a1] })
    assert.equal(await legacy.consumePeerRecord(await signedRecord(signed.key, signed.id, [a2], 3n)), true)
    await ds.close()
    // A record that is not a Peer protobuf is skipped, not fatal.
    const reopened = new LevelDatastore(join(dir, 'legacy'))
    await reopened.open()
    await reopened.put(new Key('/peers/not-a-cid'), new Uint8Array([1, 2, 3]))

    const store = await openPeerStore({ path: join(dir, 'new'), gc: { interval: 0 } })
    const report = await migrateFromLibp2pDatastore(store, reopened)
    await reopened.close()
    assert.equal(report.peers, 3)
    assert.equal(report.addrs, 4)
    assert.deepEqual(
      report.skipped.map((s) => s.key),
      ['/peers/not-a-cid']
    )
    assert.deepEqual(store.addrs(plain.id).map(String).sort(), [a1, a2].map(String).sort())
    assert.deepEqual(store.getProtocols(plain.id), ['/ipfs/id/1.0.0', '/ipfs/ping/1.0.0'])
    assert.deepEqual(store.getMetadata(plain.id, 'AgentVersion'), new TextEncoder().encode('go-ipfs/0.1'))
    assert.equal(store.getTags(plain.id).get('keep-alive')?.value, 50)
    assert.ok(store.pubKey(rsa)?.equals(rsaKey.publicKey))
    assert.equal(store.peerRecordSeq(signed.id), 3n)
    assert.ok(store.addrInfos(signed.id).every((a) => a.certified))
    // Migrated addresses expire an hour after the old store first saw them.
    const [info] = store.addrInfos(plain.id)
    assert.ok(info != null && info.expiresAt <= Date.now() + 3_600_000 && info.expiresAt > Date.now())
    // The old store's `updated` time carries over, so peer ageing goes on from the old store's last write.
    const updated = store.entryFor(plain.id)?.updated
    assert.ok(updated != null && updated >= savedFrom && updated <= savedUntil, `updated ${updated}`)
    await store.close()
    const again = await openPeerStore({ path: join(dir, 'new'), gc: { interval: 0 } })
    assert.equal(again.peers().length, 3)
    await again.close()
  })
})
