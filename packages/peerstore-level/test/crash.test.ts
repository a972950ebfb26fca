import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { openPeerStore } from '@peerscope/peerstore-level'
import { address } from './fixtures/crash-writer-address.ts'

/** Kills per run: a few here; `pnpm soak` sets PEERSCOPE_CRASH_KILLS=50. */
const KILLS = Number(process.env.PEERSCOPE_CRASH_KILLS ?? 5)
const writer = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url))
const dir = await mkdtemp(join(tmpdir(), 'peerscope-crash-'))
after(() => rm(dir, { recursive: true, force: true }))

const ids = await Promise.all(
  Array.from({ length: 20 }, async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString())
)

/** Runs the writer until a random moment after it opened the store, kills it, returns the acknowledged indexes. */
function runAndKill(path: string, round: number, killAfterMs: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@peerscope/source', writer, path, JSON.stringify(ids), String(round)],
      {
        stdio: ['ignore', 'pipe', 'inherit']
      }
    )
    let out = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => {
      if (out === '' && chunk.startsWith('open')) setTimeout(() => child.kill('SIGKILL'), killAfterMs)
      out += chunk
    })
    child.on('error', reject)
    // `close`: every line the child wrote is read by then.
    child.on('close', (_code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`writer exited without being killed\n${out}`))
      resolve(
        out
          .split('\n')
          .filter((line) => /^\d+$/.test(line))
          .map(Number)
      )
    })
  })
}

test(`every write that resolved survives SIGKILL (${KILLS} kills at random moments)`, async () => {
  const path = join(dir, 'db')
  let acknowledged = 0
  for (let round = 0; round < KILLS; round++) {
    const acks = await runAndKill(path, round, 20 + Math.floor(Math.random() * 300))
    acknowledged += acks.length
    const store = await openPeerStore({ path, gc: { interval: 0 }, limits: { maxAddrsPerPeer: 0 } })
    try {
      assert.deepEqual(store.openReport.quarantined, [], `round ${round}: nothing on disk is damaged`)
      // The last acknowledged write set its peer's protocols (later writes were never acknowledged), and every
      // acknowledged write's address is there.
      const last = acks.at(-1)
      if (last !== undefined) {
        const id = store.peers().find((p) => p.toString() === ids[last % ids.length])
        assert.ok(id !== undefined, `round ${round}: the peer of write ${last} is stored`)
        const protocols = store.getProtocols(id)
        assert.ok(
          protocols[0] === `/crash/${round}/${last}` ||
            protocols[0] === `/crash/${round}/${last + ids.length}`,
          `round ${round}: write ${last} (or the unacknowledged next write of that peer) is stored, got ${protocols}`
        )
        for (const i of acks) {
          const ma = address(round, i)
          const owner = store.peers().find((p) => p.toString() === ids[i % ids.length])!
          assert.ok(
            store.addrs(owner).some((a) => a.toString() === ma),
            `round ${round}: acknowledged address of write ${i} is stored`
          )
        }
      }
      // Indexes match records: what the index holds is what a second open reads from disk.
      const exported = await store.export()
      await store.close()
      const again = await openPeerStore({ path, gc: { interval: 0 }, limits: { maxAddrsPerPeer: 0 } })
      assert.deepEqual((await again.export()).peers, exported.peers)
      await again.close()
    } catch (err) {
      await store.close().catch(() => {})
      throw err
    }
  }
  assert.ok(acknowledged > 0, 'the writer acknowledged writes before being killed')
})
