import { levelBackend, memoryBackend } from './suite/helpers.ts'
import { libp2pPeerStoreSuite } from './suite/libp2p-suite.ts'

libp2pPeerStoreSuite(levelBackend)
libp2pPeerStoreSuite(memoryBackend)
