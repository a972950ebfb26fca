import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import type { PrivateKey } from '@libp2p/interface'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { createLibp2p, type Libp2p } from 'libp2p'
import { pEvent } from 'p-event'
import { type PeerscopeService, type PeerscopeServiceInit, peerscopeService } from '../../src/service.ts'

export type ScopedNode = Libp2p<{ peerscope: PeerscopeService; ping: ReturnType<ReturnType<typeof ping>> }>

/** A fresh options object per node: createLibp2p mutates the one it is given. */
export function baseOptions(privateKey?: PrivateKey) {
  return {
    ...(privateKey === undefined ? {} : { privateKey }),
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()]
  }
}

export async function scopedNode(init: PeerscopeServiceInit, privateKey?: PrivateKey): Promise<ScopedNode> {
  return createLibp2p({
    ...baseOptions(privateKey),
    services: { identify: identify(), ping: ping(), peerscope: peerscopeService(init) }
  })
}

export async function plainNode(): Promise<Libp2p> {
  return createLibp2p({ ...baseOptions(), services: { identify: identify(), ping: ping() } })
}

export async function tempDir(): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'peerscope-adapter-'))
  return { path, remove: () => rm(path, { recursive: true, force: true }) }
}

export function newKey(): Promise<PrivateKey> {
  return generateKeyPair('Ed25519')
}

/** Polls `check` until it returns true, or fails after `ms` with `what`. Used for effects of async events. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, ms = 10_000) {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`timed out waiting for: ${what}`)
}

/** Dials `to` from `from` and resolves once identify ran and peerscope applied its effects to the store. */
export async function dialAndIdentify(from: ScopedNode, to: Libp2p): Promise<void> {
  const identified = pEvent(from, 'peer:identify')
  await from.dial(to.getMultiaddrs()[0]!)
  await identified
  await from.services.peerscope.settled()
}

/**
 * Runs cleanup steps last-in first-out. Every step runs even when an earlier one fails (a node left running
 * keeps the test process alive), then the failures are thrown together.
 */
export async function runCleanup(steps: Array<() => unknown>): Promise<void> {
  const failures: unknown[] = []
  for (const step of steps.splice(0).reverse()) {
    try {
      await step()
    } catch (err) {
      failures.push(err)
    }
  }
  if (failures.length > 0) throw new AggregateError(failures, `${failures.length} cleanup step(s) failed`)
}
