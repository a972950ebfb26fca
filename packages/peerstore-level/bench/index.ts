import { benchPeerstore } from './peerstore.ts'

await benchPeerstore()
