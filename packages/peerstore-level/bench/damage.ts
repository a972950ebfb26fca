// What each kind of on-disk damage costs a 20,000-peer store: records kept by open and by repair, blocks mended,
// and how long verify, open and repair take. The figures in the README's "Corruption and repair" come from here.
// What the same damage costs a plain LevelDB, with and without mending its tables, is @peerscope/leveldb-mend's
// bench/damage.ts (part of `pnpm bench`). This one is not (it measures a peer store's losses, not speed against
// a competitor); run it with
//   node --conditions=@peerscope/source bench/damage.ts
import { cp, mkdtemp, readdir, rm, unlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { startBench } from '@peerscope/bench-kit'
import {
  compactAll,
  type Damage,
  flipBytes,
  tableDamages,
  tableFiles
} from '../../leveldb-mend/test/level-files.ts'
import { openPeerStore, repairPeerStore, verifyPeerStore } from '../src/node.ts'

const PEERS = 20_000
const LATER = 3_000 // written after the compaction: a second, newer table file
const RECORDS = 2 * PEERS
const HOUR = 3_600_000
const bench = startBench('peerstore-level-damage', { peers: PEERS, later: LATER })

async function peers(): Promise<PeerId[]> {
  const out: PeerId[] = []
  for (let i = 0; i < PEERS; i++) {
    const seed = new Uint8Array(32)
    new DataView(seed.buffer).setUint32(0, i)
    out.push(peerIdFromPrivateKey(await generateKeyPairFromSeed('Ed25519', seed)))
  }
  return out
}

async function write(path: string, ids: PeerId[], from: number): Promise<void> {
  const store = await openPeerStore({ path, gc: { interval: 0 } })
  for (let i = 0; i < ids.length; i++) {
    const n = from + i
    store.addAddrs(ids[i]!, [multiaddr(`/ip4/10.${(n >> 8) & 255}.${n & 255}.1/tcp/4001`)], HOUR)
    store.setProtocols(ids[i]!, ['/ipfs/id/1.0.0', `/bench/${n}`])
  }
  await store.close()
}

const work = await mkdtemp(join(tmpdir(), 'peerscope-damage-'))
const reference = join(work, 'reference')
const ids = await peers()
await write(reference, ids.slice(0, PEERS - LATER), 0)
await compactAll(reference)
await write(reference, ids.slice(PEERS - LATER), PEERS - LATER)
await (await openPeerStore({ path: reference, gc: { interval: 0 } })).close() // the log becomes a table
const files = await tableFiles(reference)
const big = files.reduce((a, b) => (b.size > a.size ? b : a))
const small = files.find((f) => f !== big)!

const cases: Damage[] = [
  ...tableDamages(big, small, [big, small]),
  ['newer table deleted', (path) => unlink(join(path, small.name))],
  [
    'MANIFEST flipped',
    async (path) => {
      const manifest = (await readdir(path)).find((f) => f.startsWith('MANIFEST-'))!
      await flipBytes(join(path, manifest), 10, 8)
    }
  ]
]

interface Row {
  damage: string
  badBlocks: number
  verifyMs: number
  verifyGood: number
  openMs: number | string
  openPeers: number | string
  mendedBlocks: number | string
  repairMs: number
  repairedRecords: number
  repairedPeers: number
}

const rows: Row[] = []
for (const [damage, apply] of cases) {
  const dir = await mkdtemp(join(work, 'case-'))
  const path = join(dir, 'db')
  await cp(reference, path, { recursive: true })
  await apply(path)
  let t0 = performance.now()
  const verified = await verifyPeerStore(path)
  const verifyMs = performance.now() - t0
  const openPath = join(dir, 'open')
  await cp(path, openPath, { recursive: true })
  let openMs: number | string
  let openPeers: number | string
  let mendedBlocks: number | string
  t0 = performance.now()
  try {
    const store = await openPeerStore({ path: openPath, gc: { interval: 0 } })
    openMs = performance.now() - t0
    openPeers = store.openReport.peers
    mendedBlocks = store.openReport.mended.reduce((n, m) => n + m.badBlocks, 0)
    await store.close()
  } catch (err) {
    openMs = (err as { code?: string }).code ?? 'failed'
    openPeers = '-'
    mendedBlocks = '-'
  }
  t0 = performance.now()
  const repaired = await repairPeerStore(path)
  const repairMs = performance.now() - t0
  rows.push({
    damage,
    badBlocks: verified.tables.reduce((n, t) => n + t.badBlocks, 0),
    verifyMs,
    verifyGood: verified.records.good,
    openMs,
    openPeers,
    mendedBlocks,
    repairMs,
    repairedRecords: repaired.recovered.records,
    repairedPeers: repaired.recovered.peers
  })
  await rm(dir, { recursive: true, force: true })
}
await rm(work, { recursive: true, force: true })

const ms = (v: number | string) => (typeof v === 'number' ? v.toFixed(0) : v)
console.log(
  `peerstore-level damage: ${PEERS} peers, ${RECORDS} records; tables ${big.name} ${(big.size / 1e6).toFixed(2)} MB` +
    ` and ${small.name} ${(small.size / 1e6).toFixed(2)} MB`
)
console.log(
  '| damage | bad blocks | verify ms | records verify counts | open ms | peers open loads | blocks mended | repair ms | records after repair | peers after repair |'
)
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
for (const r of rows) {
  console.log(
    `| ${r.damage} | ${r.badBlocks} | ${ms(r.verifyMs)} | ${r.verifyGood} | ${ms(r.openMs)} | ${r.openPeers} | ` +
      `${r.mendedBlocks} | ${ms(r.repairMs)} | ${r.repairedRecords} | ${r.repairedPeers} |`
  )
}
bench.finish({
  workload: `${PEERS} peers (1 address, 2 protocols each), ${RECORDS} records in two table files; one damage per row`,
  results: Object.fromEntries(rows.map((r) => [r.damage, r]))
})
