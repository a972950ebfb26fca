// The package's two entries: the platform-neutral one (src/index.ts, what a browser bundle gets) opens a store on
// any abstract-level database and reaches no `node:` module, `level` or @peerscope/leveldb-mend; opening by `path`
// is refused there with a typed error that says where to go. The Node one (src/node.ts, what
// `@peerscope/peerstore-level` resolves to under Node) opens LevelDB directories and verifies and repairs them.
// The consumer test (test-consumer/) bundles the packed neutral entry for the browser.
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import * as root from '@peerscope/peerstore-level'
import { MemoryLevel } from 'memory-level'
import * as neutral from '../src/index.ts'
import * as node from '../src/node.ts'

const dir = await mkdtemp(join(tmpdir(), 'peerstore-entries-'))
after(() => rm(dir, { recursive: true, force: true }))

test('under Node the package root is the Node entry', () => {
  assert.equal(root.openPeerStore, node.openPeerStore)
  assert.notEqual(node.openPeerStore, neutral.openPeerStore)
  for (const name of ['verifyPeerStore', 'repairPeerStore']) {
    assert.equal(typeof (node as Record<string, unknown>)[name], 'function')
    assert.equal(name in neutral, false, `${name} is Node only`)
  }
  for (const name of Object.keys(neutral)) assert.ok(name in node, `${name} is in the Node entry too`)
})

test('the neutral entry opens a store on any abstract-level database', async () => {
  const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const store = await neutral.openPeerStore({ db: new MemoryLevel<string, string>() })
  try {
    await store.addAddrs(peer, [multiaddr('/ip4/192.0.2.1/tcp/4001')], neutral.AddressTTL)
    assert.deepEqual(
      store.addrInfos(peer).map((a) => a.multiaddr.toString()),
      ['/ip4/192.0.2.1/tcp/4001']
    )
  } finally {
    await store.close()
  }
})

test('the neutral entry refuses `path` with ERR_INVALID_ARGUMENT naming the path and the Node entry', async () => {
  const path = join(dir, 'never-created')
  await assert.rejects(neutral.openPeerStore({ path }), (err: unknown) => {
    assert.ok(err instanceof neutral.PeerStoreError)
    assert.equal(err.code, 'ERR_INVALID_ARGUMENT')
    assert.ok(err.message.includes(path), err.message)
    assert.match(err.message, /pass an abstract-level database as `db`/)
    assert.match(err.message, /'@peerscope\/peerstore-level\/node'/)
    return true
  })
  assert.equal(existsSync(path), false, 'nothing is created')
})

test('the Node entry opens a LevelDB directory by path', async () => {
  const path = join(dir, 'by-path')
  const store = await node.openPeerStore({ path })
  await store.close()
  assert.ok(existsSync(join(path, 'CURRENT')))
})
