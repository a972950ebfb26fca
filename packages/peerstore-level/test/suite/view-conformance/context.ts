// Shared by the conformance suite's files: setting up a store on one factory, naming a documented difference,
// and small helpers to read what a store returned.
import { after } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Peer, PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { ViewFactory, ViewHarness, ViewInit } from '../view-factories.ts'

export const HOUR = 3_600_000
/** Upstream's defaults, which ours share. */
export const ADDRESS_AGE = HOUR
export const PEER_AGE = 6 * HOUR

export interface Ctx {
  factory: ViewFactory
  /** A fresh store (closed after the file's tests). */
  setup(init?: ViewInit): Promise<ViewHarness>
}

export function context(factory: ViewFactory): Ctx {
  const open: ViewHarness[] = []
  after(async () => {
    for (const h of open.splice(0).reverse()) await h.close()
  })
  return {
    factory,
    async setup(init) {
      const h = await factory.create(init)
      open.push(h)
      return h
    }
  }
}

/** Every difference id a case is marked with; the README table must list exactly these. */
export const DIFFERENCE_IDS = new Set<string>()

/**
 * The title of a case that checks a documented difference (README "Differences from @libp2p/peer-store", row
 * `id`). Such a case asserts what upstream does on the control and what we do on ours.
 */
export function difference(id: string, title: string): string {
  DIFFERENCE_IDS.add(id)
  return `${title} [difference: ${id}]`
}

/** Runs the half of a difference case that belongs to the store under test. */
export async function sides(
  h: ViewHarness,
  expect: { upstream: () => unknown | Promise<unknown>; ours: () => unknown | Promise<unknown> }
): Promise<void> {
  await (h.side === 'upstream' ? expect.upstream() : expect.ours())
}

/** `text` or `text certified`, per address, in the order returned. */
export function addrs(peer: Peer): string[] {
  return peer.addresses.map((a) => `${a.multiaddr.toString()}${a.isCertified ? ' certified' : ''}`)
}

export const notFound = (err: Error): boolean => err.name === 'NotFoundError'
export const invalidParameters = (err: Error): boolean => err.name === 'InvalidParametersError'

const keys = new Map<string, Promise<PrivateKey>>()
/** One key per type and label for the whole run: RSA keys are slow to make. */
export function keyOf(type: 'RSA' | 'Ed25519' | 'secp256k1', label = ''): Promise<PrivateKey> {
  const name = `${type}/${label}`
  let key = keys.get(name)
  if (key == null) {
    key = type === 'RSA' ? generateKeyPair('RSA', 1024) : generateKeyPair(type)
    keys.set(name, key)
  }
  return key
}

export async function peerOf(type: 'RSA' | 'Ed25519' | 'secp256k1', label = '') {
  const key = await keyOf(type, label)
  return { key, id: peerIdFromPrivateKey(key) }
}
