// Disk full, then space returns, then a clean close or a SIGKILL: no acknowledged write may be lost, and no write
// that rejected may show up. A child process (fixtures/disk-full-writer.ts) fills a small tmpfs while LevelDB has
// a batch to write, so LevelDB's log gets a failed append; the parent reopens the store and checks every peer.
// Needs root (mount); CI runs as root. `pnpm soak` runs PEERSCOPE_DISKFULL_TRIALS=50 trials of each ending.
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { peerIdFromString } from '@libp2p/peer-id'
import { openPeerStore } from '../src/node.ts'
import { makeSeededPeers } from './suite/helpers.ts'

const TRIALS = Number(process.env.PEERSCOPE_DISKFULL_TRIALS ?? 3)
const writer = fileURLToPath(new URL('./fixtures/disk-full-writer.ts', import.meta.url))
const isRoot = process.getuid?.() === 0
const skip = isRoot ? false : 'needs root to mount a tmpfs (CI runs as root)'
if (!isRoot) console.log(`# disk-full trials skipped: ${skip}`)

let work = ''
let mnt = ''
let idsFile = ''
let ids: string[] = []

before(async () => {
  if (!isRoot) return
  work = mkdtempSync(join(tmpdir(), 'peerscope-diskfull-'))
  mnt = join(work, 'mnt')
  mkdirSync(mnt)
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt])
  ids = (await makeSeededPeers(620, 18)).map((p) => p.id.toString())
  idsFile = join(work, 'ids.json')
  writeFileSync(idsFile, JSON.stringify(ids))
})

after(() => {
  if (mnt !== '') execFileSync('umount', [mnt])
  if (work !== '') rmSync(work, { recursive: true, force: true })
})

interface Outcome {
  acked: Set<number>
  rejected: Map<number, string>
  memoryChanged: number[]
  failedBatches: number
  degradedAfterSpace: boolean | undefined
  closed: boolean
}

function runWriter(path: string, mode: 'close' | 'kill', killAfter: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@peerscope/source', writer, path, mnt, idsFile, mode, String(killAfter)],
      { stdio: ['ignore', 'pipe', 'pipe'] }
    )
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c
    })
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c
    })
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      if (mode === 'close' && code !== 0) return reject(new Error(`writer failed (${code})\n${stderr}`))
      if (mode === 'kill' && signal !== 'SIGKILL') {
        return reject(new Error(`writer was not killed (${code})\n${stderr}`))
      }
      const o: Outcome = {
        acked: new Set(),
        rejected: new Map(),
        memoryChanged: [],
        failedBatches: 0,
        degradedAfterSpace: undefined,
        closed: false
      }
      for (const line of stdout.split('\n')) {
        const [what, a, b] = line.split(' ')
        if (what === 'a') o.acked.add(Number(a))
        else if (what === 'r') o.rejected.set(Number(a), b ?? '')
        else if (what === 'm') o.memoryChanged.push(Number(a))
        else if (what === 'f') o.failedBatches = Number(a)
        else if (what === 's') o.degradedAfterSpace = a === 'true'
        else if (what === 'closed') o.closed = true
      }
      resolve(o)
    })
  })
}

for (const mode of ['close', 'kill'] as const) {
  test(`disk full, space returns, then ${mode === 'close' ? 'a clean close' : 'SIGKILL'}: ${TRIALS} trials, no acknowledged write lost`, {
    skip
  }, async () => {
    let acked = 0
    let rejected = 0
    let tornTrials = 0
    let recovered = 0
    let logDamage = 0
    let replayed = 0
    let openedFull = 0
    const codes = new Map<string, number>()
    for (let trial = 0; trial < TRIALS; trial++) {
      const path = join(mnt, `db-${trial}`)
      // Kill mode: at a random acknowledged write, before, while and after the file system is full.
      const o = await runWriter(path, mode, 100 + Math.floor(Math.random() * 450))
      if (mode === 'close') assert.ok(o.closed, `trial ${trial}: close returned`)
      assert.deepEqual(o.memoryChanged, [], `trial ${trial}: a write that rejected left no change in memory`)
      // Killed while the file system was full: an open then fails, typed, until space returns.
      const ballast = readdirSync(mnt).filter((name) => name.startsWith('ballast-'))
      if (ballast.length > 0) {
        await assert.rejects(openPeerStore({ path, gc: { interval: 0 } }), (err) => {
          assert.equal((err as { code?: string }).code, 'ERR_STORAGE_FULL')
          return true
        })
        openedFull++
        for (const name of ballast) rmSync(join(mnt, name))
      }
      acked += o.acked.size
      rejected += o.rejected.size
      if (o.failedBatches > 0) tornTrials++
      if (o.failedBatches > 0 && o.degradedAfterSpace === false) recovered++
      for (const code of o.rejected.values()) codes.set(code, (codes.get(code) ?? 0) + 1)
      const store = await openPeerStore({ path, gc: { interval: 0 } })
      try {
        if (store.openReport.logDamage.length > 0) logDamage++
        if (store.openReport.journal.replayed > 0) replayed++
        const lost: number[] = []
        for (const i of o.acked) {
          const addrs = store.addrs(peerIdFromString(ids[i]!)).map(String)
          if (addrs.length !== 1) lost.push(i)
        }
        assert.deepEqual(lost, [], `trial ${trial}: every acknowledged write is back after reopen`)
        const resurrected = [...o.rejected.keys()].filter(
          (i) => store.addrs(peerIdFromString(ids[i]!)).length > 0
        )
        assert.deepEqual(resurrected, [], `trial ${trial}: no write that rejected was stored`)
      } finally {
        await store.close()
      }
      rmSync(path, { recursive: true, force: true })
    }
    console.log(
      `# disk full then ${mode}: ${TRIALS} trials, ${acked} writes acknowledged, 0 lost; ${rejected} rejected ` +
        `(${[...codes].map(([c, n]) => `${c} ${n}`).join(', ')}); LevelDB batches failed in ${tornTrials} ` +
        `trials, LevelDB's memtable went to a table file once space returned in ${recovered}; on reopen a ` +
        `damaged LevelDB log in ${logDamage}, the journal replayed in ${replayed}; ` +
        `opened while still full (ERR_STORAGE_FULL, then space freed) in ${openedFull}`
    )
  })
}
