// A demo counter thread: "sends" packets to a few peers over a few protocols for a while, counting bytes into
// the shared map through handles (one per peer/protocol pair, as a stream would hold), and churns short-lived
// peers (add, then delete) so deleted slots get reused under the readers.
import { parentPort, workerData } from 'node:worker_threads'
import { SharedMetricMap } from '@peerscope/metric-map'

const { memory, id, durationMs } = workerData as {
  memory: Parameters<typeof SharedMetricMap.attach>[0]
  id: number
  durationMs: number
}
const map = SharedMetricMap.attach(memory)
const protocols = ['/ipfs/id/1.0.0', '/ipfs/ping/1.0.0', '/meshsub/1.1.0', '/ipfs/kad/1.0.0']
const handles = protocols.map((p) => map.handle(`protocol ${p}`))
const total = map.handle('total bytes')
let sent = 0
let seed = 0x9e3779b9 ^ id
const random = (): number => {
  seed ^= seed << 13
  seed ^= seed >>> 17
  seed ^= seed << 5
  return (seed >>> 0) / 4294967296
}
const until = Date.now() + durationMs
let round = 0
while (Date.now() < until) {
  for (let i = 0; i < 10_000; i++) {
    const bytes = 40 + Math.floor(random() * 1400)
    handles[Math.floor(random() * handles.length)]?.add(bytes)
    total.add(bytes)
    sent += bytes
  }
  const ephemeral = `ephemeral peer ${id}.${round++}`
  map.add(ephemeral, 1)
  map.delete(ephemeral)
}
map.detach()
parentPort?.postMessage(sent)
