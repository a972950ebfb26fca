import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'
import { generateKeyPair, generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import { MemoryLevel } from 'memory-level'
import { type LevelPeerStore, type OpenPeerStoreInit, openPeerStore } from '../../src/node.ts'

export class MockClock {
  now = 1_800_000_000_000
  readonly read = (): number => this.now
  advance(ms: number): void {
    this.now += ms
  }
}

export type OpenInit = Omit<OpenPeerStoreInit, 'path' | 'db'>

/** One storage location that can be opened, closed and opened again (a restart). */
export interface Storage {
  open(init?: OpenInit): Promise<LevelPeerStore>
  cleanup(): Promise<void>
}

export interface Backend {
  name: string
  create(): Promise<Storage>
}

export const levelBackend: Backend = {
  name: 'LevelDB',
  async create() {
    const dir = await mkdtemp(join(tmpdir(), 'peerstore-level-'))
    return {
      open: (init = {}) => openPeerStore({ gc: { interval: 0 }, ...init, path: join(dir, 'db') }),
      cleanup: () => rm(dir, { recursive: true, force: true })
    }
  }
}

export const memoryBackend: Backend = {
  name: 'memory',
  async create() {
    const db = new MemoryLevel<string, string>()
    return {
      open: (init = {}) => openPeerStore({ gc: { interval: 0 }, ...init, db }),
      cleanup: async () => {}
    }
  }
}

export interface TestPeer {
  id: PeerId
  key: PrivateKey
}

export async function makePeer(): Promise<TestPeer> {
  const key = await generateKeyPair('Ed25519')
  return { id: peerIdFromPrivateKey(key), key }
}

export async function makePeers(n: number): Promise<TestPeer[]> {
  return Promise.all(Array.from({ length: n }, () => makePeer()))
}

/** Ed25519 peers whose keys follow from `seed`: the same ids on every run. */
export async function makeSeededPeers(n: number, seed: number): Promise<TestPeer[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const bytes = new Uint8Array(32)
      const view = new DataView(bytes.buffer)
      view.setUint32(0, seed)
      view.setUint32(4, i)
      const key = await generateKeyPairFromSeed('Ed25519', bytes)
      return { id: peerIdFromPrivateKey(key), key }
    })
  )
}

let port = 1000
/** Distinct TCP multiaddrs. */
export function makeAddrs(n: number, host = '1.2.3.4'): Multiaddr[] {
  return Array.from({ length: n }, () => multiaddr(`/ip4/${host}/tcp/${port++}`))
}

export function strings(addrs: Iterable<Multiaddr>): string[] {
  return [...addrs].map((a) => a.toString()).sort()
}

export async function signedRecord(
  signer: PrivateKey,
  peerId: PeerId,
  addrs: Multiaddr[],
  seq: bigint
): Promise<Uint8Array> {
  const record = new PeerRecord({ peerId, multiaddrs: addrs, seqNumber: seq })
  const env = await RecordEnvelope.seal(record, signer)
  return env.marshal()
}

/**
 * Temporary directories for one test file, all removed after its tests: `dir()` makes one, `path()` names a
 * database inside a new one.
 */
export function tempDirs(prefix: string): { dir(): Promise<string>; path(): Promise<string> } {
  const made: string[] = []
  after(async () => {
    for (const dir of made) await rm(dir, { recursive: true, force: true })
  })
  const dir = async (): Promise<string> => {
    const made1 = await mkdtemp(join(tmpdir(), prefix))
    made.push(made1)
    return made1
  }
  return { dir, path: async () => join(await dir(), 'db') }
}

type LevelWrite = (this: unknown, ...args: unknown[]) => Promise<void>
interface LevelWriteProto {
  _batch: LevelWrite
  _chainedBatch: (this: unknown, ...args: unknown[]) => { _write: LevelWrite }
}

/**
 * Makes the next `times` LevelDB writes of every database of class `Level` (the `level` package's, which the store
 * opens by path) reject with `error()`, whichever form the write takes: an array batch or a chained batch's write.
 * `onFail` is called at each. Returns the function that undoes it (called by itself after the last failure).
 */
export function failLevelWrites(
  Level: { prototype: object },
  init: { times: number; error: () => Error; onFail?: () => void }
): () => void {
  const proto = Level.prototype as unknown as LevelWriteProto
  const batch = proto._batch
  const chained = proto._chainedBatch
  let left = init.times
  const restore = (): void => {
    proto._batch = batch
    proto._chainedBatch = chained
  }
  const fail = (): Promise<void> => {
    left--
    if (left <= 0) restore()
    init.onFail?.()
    return Promise.reject(init.error())
  }
  proto._batch = function failingBatch(...args) {
    return left > 0 ? fail() : batch.apply(this, args)
  }
  proto._chainedBatch = function failingChainedBatch(...args) {
    const made = chained.apply(this, args)
    const write = made._write
    made._write = function failingWrite(...writeArgs) {
      return left > 0 ? fail() : write.apply(this, writeArgs)
    }
    return made
  }
  return restore
}
