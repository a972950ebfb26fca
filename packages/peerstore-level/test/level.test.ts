import { levelBackend } from './suite/helpers.ts'
import { peerStoreSuite } from './suite/peerstore-suite.ts'

peerStoreSuite(levelBackend)
