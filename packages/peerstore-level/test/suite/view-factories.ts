// The three stores the PeerStore conformance suite runs against: ours on LevelDB (a temp dir), ours on
// memory-level, and @libp2p/peer-store itself (`persistentPeerStore` over a MemoryDatastore) as the control.
// Each is driven by one clock: ours through the store's injected clock, the control (which reads Date.now())
// through node:test's mocked Date.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { mock } from 'node:test'
import type { PeerStore, PeerUpdate } from '@libp2p/interface'
import { defaultLogger } from '@libp2p/logger'
import { persistentPeerStore } from '@libp2p/peer-store'
import { MemoryDatastore } from 'datastore-core'
import { MemoryLevel } from 'memory-level'
import {
  type AddressFilter,
  type LevelPeerStore,
  Libp2pPeerStore,
  type OpenPeerStoreInit,
  openPeerStore,
  type PeerUpdateEvents
} from '../../src/node.ts'
import { makePeer, type TestPeer } from './helpers.ts'

export type Side = 'ours' | 'upstream'

/** The knobs both sides have. `addressAge`: upstream's `maxAddressAge`, our `addressTtl`. */
export interface ViewInit {
  maxPeerAge?: number
  addressAge?: number
  addressFilter?: AddressFilter
}

export class EventLog implements PeerUpdateEvents {
  readonly events: Array<{ type: string; detail: PeerUpdate }> = []
  safeDispatchEvent(type: 'peer:update' | 'self:peer:update', init: { detail: PeerUpdate }): boolean {
    this.events.push({ type, detail: init.detail })
    return true
  }

  ofType(type: string): PeerUpdate[] {
    return this.events.filter((e) => e.type === type).map((e) => e.detail)
  }
}

export interface ViewHarness {
  side: Side
  /** The current instance: a restart replaces it. */
  readonly store: PeerStore
  readonly events: EventLog
  readonly self: TestPeer
  /** Moves the store's clock on. */
  advance(ms: number): void
  /** Ours: close and reopen the database. The control: a new store over the same datastore. */
  restart(): Promise<void>
  close(): Promise<void>
  /** Ours only: the core store under the view. */
  readonly core: LevelPeerStore | undefined
}

export interface ViewFactory {
  name: string
  side: Side
  create(init?: ViewInit): Promise<ViewHarness>
}

const START = 1_800_000_000_000

function ours(name: string, storage: () => Promise<{ init: OpenPeerStoreInit; cleanup(): Promise<void> }>) {
  return {
    name,
    side: 'ours' as const,
    async create(init: ViewInit = {}): Promise<ViewHarness> {
      const { init: where, cleanup } = await storage()
      const self = await makePeer()
      const events = new EventLog()
      let now = START
      const open = async () => {
        const core = await openPeerStore({
          ...where,
          clock: () => now,
          privateKey: self.key,
          gc: { interval: 0 }
        })
        const view = new Libp2pPeerStore(core, {
          events,
          ...(init.maxPeerAge === undefined ? {} : { maxPeerAge: init.maxPeerAge }),
          ...(init.addressAge === undefined ? {} : { addressTtl: init.addressAge }),
          ...(init.addressFilter === undefined ? {} : { addressFilter: init.addressFilter })
        })
        return { core, view }
      }
      let current = await open()
      let closed = false
      return {
        side: 'ours',
        get store() {
          return current.view
        },
        get core() {
          return current.core
        },
        events,
        self,
        advance(ms) {
          now += ms
        },
        async restart() {
          await current.core.close()
          current = await open()
        },
        async close() {
          if (closed) return
          closed = true
          await current.core.close()
          await cleanup()
        }
      }
    }
  }
}

export const oursOnLevel: ViewFactory = ours('ours (LevelDB)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'peerstore-view-'))
  return { init: { path: join(dir, 'db') }, cleanup: () => rm(dir, { recursive: true, force: true }) }
})

export const oursOnMemory: ViewFactory = ours('ours (memory-level)', async () => ({
  init: { db: new MemoryLevel<string, string>() },
  cleanup: async () => {}
}))

// The mocked Date is global: it is on while any control harness is open.
let mockedDates = 0

export const upstreamControl: ViewFactory = {
  name: '@libp2p/peer-store (control)',
  side: 'upstream',
  async create(init: ViewInit = {}): Promise<ViewHarness> {
    const self = await makePeer()
    const events = new EventLog()
    const datastore = new MemoryDatastore()
    if (mockedDates++ === 0) mock.timers.enable({ apis: ['Date'], now: START })
    const open = (): PeerStore =>
      persistentPeerStore(
        {
          peerId: self.id,
          datastore,
          events: events as unknown as Parameters<typeof persistentPeerStore>[0]['events'],
          logger: defaultLogger()
        },
        {
          ...(init.maxPeerAge === undefined ? {} : { maxPeerAge: init.maxPeerAge }),
          ...(init.addressAge === undefined ? {} : { maxAddressAge: init.addressAge }),
          ...(init.addressFilter === undefined ? {} : { addressFilter: init.addressFilter })
        }
      )
    let store = open()
    let closed = false
    return {
      side: 'upstream',
      get store() {
        return store
      },
      core: undefined,
      events,
      self,
      advance(ms) {
        mock.timers.tick(ms)
      },
      async restart() {
        store = open()
      },
      async close() {
        if (closed) return
        closed = true
        if (--mockedDates === 0) mock.timers.reset()
      }
    }
  }
}

export const VIEW_FACTORIES: readonly ViewFactory[] = [oursOnLevel, oursOnMemory, upstreamControl]
