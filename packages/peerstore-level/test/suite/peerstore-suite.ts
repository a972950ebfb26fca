// The go-libp2p peerstore suites (p2p/host/peerstore/test), re-stated for this store and split as go splits them,
// one file per book, plus restart, GC and import/export. Runs against any backend: each test opens a fresh
// storage on a mock clock.
import { describe } from 'node:test'
import type { Backend } from './helpers.ts'
import { addrBookSuite } from './peerstore/addr-book.ts'
import { gcSuite } from './peerstore/gc.ts'
import { keyBookSuite } from './peerstore/key-book.ts'
import { metadataBookSuite } from './peerstore/metadata-book.ts'
import { protoBookSuite } from './peerstore/proto-book.ts'
import { restartSuite } from './peerstore/restart.ts'
import { tagBookSuite } from './peerstore/tag-book.ts'
import { transferSuite } from './peerstore/transfer.ts'

export function peerStoreSuite(backend: Backend): void {
  describe(`peer store suite on ${backend.name}`, () => {
    addrBookSuite(backend)
    keyBookSuite(backend)
    protoBookSuite(backend)
    metadataBookSuite(backend)
    tagBookSuite(backend)
    restartSuite(backend)
    gcSuite(backend)
    transferSuite(backend)
  })
}
