// Reliability soak: N nodes of the local swarm on loopback, random dials, hang-ups, restarts and echo traffic
// chosen by a seeded PRNG for a stated time, while a ledger records what happened. At checkpoints and at the end
// each node's peer store and byte counters are checked against the ledger; then every node stops and the
// process must exit by itself (no timer, socket or handle left). Exit 1 on any failed check.
//   node examples/local-swarm/src/soak.ts [--nodes 20] [--duration 120] [--seed N] [--checkpoint 30] [--dir D]
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { Connection, PeerId } from '@libp2p/interface'
import type { PeerscopeMetrics } from '@peerscope/metrics'
import { ConnectedAddrTTL } from '@peerscope/peerstore-level'
import { ECHO_PROTOCOL, echoOn } from './echo.ts'
import { type SwarmNode, startSwarmNode } from './swarm.ts'

class SoakUsageError extends Error {
  readonly code = 'ERR_SOAK_USAGE'
}
function integer(name: string, value: string | undefined, min: number, max: number): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max)
    throw new SoakUsageError(`--${name} must be an integer from ${min} to ${max}, got ${value}`)
  return n
}

function parseOptions() {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string', default: '20' },
      duration: { type: 'string', default: '120' },
      seed: { type: 'string' },
      checkpoint: { type: 'string', default: '30' },
      dir: { type: 'string' },
      'max-bytes': { type: 'string', default: String(256 * 1024) },
      weights: { type: 'string', default: 'echo=60,dial=22,hangup=15,restart=3' },
      verbose: { type: 'boolean', default: false }
    }
  })
  const weights: Record<string, number> = {}
  for (const part of values.weights.split(',')) {
    const [kind = '', weight] = part.split('=')
    if (!['echo', 'dial', 'hangup', 'restart'].includes(kind))
      throw new SoakUsageError(`--weights: unknown action ${kind} (echo, dial, hangup, restart)`)
    weights[kind] = integer(`weights ${kind}`, weight, 0, 1000)
  }
  if (Object.values(weights).every((w) => w === 0)) throw new SoakUsageError('--weights: every weight is 0')
  return {
    count: integer('nodes', values.nodes, 2, 50),
    durationS: integer('duration', values.duration, 1, 86_400),
    seed:
      values.seed === undefined
        ? Math.floor(Math.random() * 2 ** 32)
        : integer('seed', values.seed, 0, 2 ** 32 - 1),
    checkpointS: integer('checkpoint', values.checkpoint, 1, 86_400),
    maxBytes: integer('max-bytes', values['max-bytes'], 1, 16 * 1024 * 1024),
    dir: values.dir,
    weights,
    verbose: values.verbose
  }
}
let options: ReturnType<typeof parseOptions>
try {
  options = parseOptions()
} catch (err) {
  // Bad usage (ours, or parseArgs' ERR_PARSE_ARGS_*): one line and exit 2, as the peerscope CLI does.
  const code = (err as { code?: string }).code ?? ''
  if (!(err instanceof SoakUsageError) && !code.startsWith('ERR_PARSE_ARGS')) throw err
  console.error(`soak: error ${code}: ${(err as Error).message}`)
  process.exit(2)
}
const { count, durationS, seed, checkpointS, maxBytes } = options
const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'peerscope-soak-')))

/** mulberry32: small, fast and good enough to pick actions; the same seed gives the same sequence of choices. */
function prng(state: number): () => number {
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const random = prng(seed)
const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(random() * items.length)]
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

// --- the swarm and the ledger ----------------------------------------------------------------------------------

interface Slot {
  index: number
  /** undefined while the node restarts */
  node: SwarmNode | undefined
  peerId: PeerId
  listenPort: number
  /** in-flight actions that involve this node: a restart waits until none */
  busy: number
  /** peers (by id) this node ever identified, across restarts: its store must remember all of them */
  identified: Set<string>
  /** peers connected now, from peer:connect / peer:disconnect */
  connected: Set<string>
  /** peers identified while connected and not disconnected since: exactly those hold ConnectedAddrTTL addrs */
  identifiedNow: Set<string>
  /** echo payload bytes this node's counters must show per peer since it last started (both directions) */
  echoBytes: Map<string, number>
  /** bytes of echoes that failed since it last started: their partial bytes may or may not be counted */
  uncertainBytes: Map<string, number>
}

const slots: Slot[] = []
const byPeer = new Map<string, Slot>()
/** Payload bytes each node sent as initiator of a successful echo, per target, over the whole run. */
const sentBytes: number[][] = Array.from({ length: count }, () => new Array<number>(count).fill(0))

type Kind = 'dial' | 'hangup' | 'restart' | 'echo'
const actions: Record<Kind, { ok: number; failed: number; skipped: number }> = {
  dial: { ok: 0, failed: 0, skipped: 0 },
  hangup: { ok: 0, failed: 0, skipped: 0 },
  restart: { ok: 0, failed: 0, skipped: 0 },
  echo: { ok: 0, failed: 0, skipped: 0 }
}
const actionErrors: string[] = []
let dialsById = 0
let downgradedAtLoad = 0
let checksPassed = 0
let checksFailed = 0
const failures: string[] = []

function add(map: Map<string, number>, key: string, n: number): void {
  map.set(key, (map.get(key) ?? 0) + n)
}

function watch(slot: Slot, node: SwarmNode): void {
  node.addEventListener('peer:connect', (evt) => {
    slot.connected.add(evt.detail.toString())
  })
  node.addEventListener('peer:disconnect', (evt) => {
    slot.connected.delete(evt.detail.toString())
    slot.identifiedNow.delete(evt.detail.toString())
  })
  node.addEventListener('peer:identify', (evt) => {
    const peer = evt.detail.peerId
    slot.identified.add(peer.toString())
    // The service decides Connected vs RecentlyConnected the same way.
    if (node.getConnections(peer).length > 0) slot.identifiedNow.add(peer.toString())
  })
}

function listenPortOf(node: SwarmNode): number {
  const port = node
    .getMultiaddrs()[0]
    ?.getComponents()
    .find((c) => c.name === 'tcp')?.value
  if (port === undefined) throw new Error('the node listens on no TCP address')
  return Number(port)
}

async function startSlot(slot: Slot): Promise<SwarmNode> {
  const options = {
    dir,
    index: slot.index,
    httpPort: slot.index === 0 ? 0 : undefined,
    // The ledger must see the first connection: peers that remember this node dial it as soon as it listens.
    beforeStart: (node: SwarmNode) => watch(slot, node)
  }
  let node: SwarmNode
  try {
    node = await startSwarmNode({ ...options, listenPort: slot.listenPort })
  } catch (err) {
    // The old port can be taken by another socket in between; any port will do (peers learn it by identify).
    if ((err as { code?: string }).code !== 'EADDRINUSE' || slot.listenPort === 0) throw err
    node = await startSwarmNode(options)
  }
  const port = listenPortOf(node)
  if (slot.listenPort !== 0 && port !== slot.listenPort)
    console.log(`node-${slot.index} restarted on port ${port}: its old port ${slot.listenPort} was taken`)
  slot.listenPort = port
  downgradedAtLoad += (await node.services.peerscope.store()).openReport.downgraded
  return node
}

// --- actions ---------------------------------------------------------------------------------------------------

/** Per unordered pair: echoes in flight, or one exclusive action (dial, hang-up) in flight. */
const pairs = new Map<string, { echoes: number; exclusive: boolean }>()
const pairKey = (a: Slot, b: Slot): string =>
  a.index < b.index ? `${a.index}-${b.index}` : `${b.index}-${a.index}`
function pairState(a: Slot, b: Slot): { echoes: number; exclusive: boolean } {
  const key = pairKey(a, b)
  let state = pairs.get(key)
  if (state === undefined) {
    state = { echoes: 0, exclusive: false }
    pairs.set(key, state)
  }
  return state
}

const up = (): Slot[] => slots.filter((s) => s.node !== undefined)
const openConnections = (node: SwarmNode): Connection[] =>
  node.getConnections().filter((c) => c.status === 'open')

function failed(kind: Kind, what: string, err: unknown): void {
  actions[kind].failed++
  if (actionErrors.length < 20) actionErrors.push(`${kind} ${what}: ${(err as Error).message}`)
}

/** Actions under way, by id, with what they do and since when: one that never ends is reported by drain(). */
let runStart = performance.now()
const running = new Map<number, { what: string; since: number; reported?: true }>()
let nextId = 0
function begin(what: string): number {
  running.set(++nextId, { what, since: performance.now() })
  return nextId
}
/** Ends an action; with --verbose, prints it with its start time and duration (to read a failure's context). */
function end(id: number, outcome = 'ok'): void {
  const entry = running.get(id)
  running.delete(id)
  if (!options.verbose || entry === undefined) return
  const at = ((entry.since - runStart) / 1000).toFixed(3)
  console.log(`${at} s ${entry.what}: ${outcome} in ${(performance.now() - entry.since).toFixed(0)} ms`)
}

async function dial(): Promise<void> {
  const from = pick(up())
  const to = pick(up().filter((s) => s !== from))
  if (from?.node === undefined || to?.node === undefined) return void actions.dial.skipped++
  const pair = pairState(from, to)
  if (pair.echoes > 0 || pair.exclusive) return void actions.dial.skipped++
  pair.exclusive = true
  from.busy++
  to.busy++
  let outcome = 'ok'
  const id = begin(`dial ${from.index}->${to.index}`)
  try {
    // A peer the dialer's store has addresses for is dialled by id: the store's addresses must work.
    const store = await from.node.services.peerscope.store()
    if (store.addrs(to.peerId).length > 0) {
      dialsById++
      await from.node.dial(to.peerId, { signal: AbortSignal.timeout(10_000) })
    } else {
      const addr = to.node.getMultiaddrs()[0]
      if (addr === undefined) throw new Error('target has no address')
      await from.node.dial(addr, { signal: AbortSignal.timeout(10_000) })
    }
    actions.dial.ok++
  } catch (err) {
    outcome = `failed: ${(err as Error).message}`
    failed('dial', `${from.index}->${to.index}`, err)
  } finally {
    end(id, outcome)
    pair.exclusive = false
    from.busy--
    to.busy--
  }
}

async function hangup(): Promise<void> {
  const from = pick(up().filter((s) => s.node !== undefined && openConnections(s.node).length > 0))
  const connection = from?.node === undefined ? undefined : pick(openConnections(from.node))
  const to = connection === undefined ? undefined : byPeer.get(connection.remotePeer.toString())
  if (from?.node === undefined || to?.node === undefined) return void actions.hangup.skipped++
  const pair = pairState(from, to)
  if (pair.echoes > 0 || pair.exclusive) return void actions.hangup.skipped++
  pair.exclusive = true
  from.busy++
  to.busy++
  let outcome = 'ok'
  const id = begin(`hangup ${from.index}->${to.index}`)
  try {
    await from.node.hangUp(to.peerId, { signal: AbortSignal.timeout(10_000) })
    actions.hangup.ok++
  } catch (err) {
    outcome = `failed: ${(err as Error).message}`
    failed('hangup', `${from.index}->${to.index}`, err)
  } finally {
    end(id, outcome)
    pair.exclusive = false
    from.busy--
    to.busy--
  }
}

/** Loopback echoes take milliseconds; one still under way after this is stuck, and is aborted and reported. */
const ECHO_TIMEOUT_MS = 30_000

async function echo(): Promise<void> {
  const from = pick(up().filter((s) => s.node !== undefined && openConnections(s.node).length > 0))
  const connection = from?.node === undefined ? undefined : pick(openConnections(from.node))
  const to = connection === undefined ? undefined : byPeer.get(connection.remotePeer.toString())
  if (from?.node === undefined || connection === undefined || to?.node === undefined)
    return void actions.echo.skipped++
  const pair = pairState(from, to)
  if (pair.exclusive) return void actions.echo.skipped++
  // Log-uniform from 1 byte to --max-bytes: many small messages, some large ones.
  const bytes = Math.max(1, Math.floor(Math.exp(random() * Math.log(maxBytes))))
  pair.echoes++
  from.busy++
  to.busy++
  const a = from.peerId.toString()
  const b = to.peerId.toString()
  let outcome = 'ok'
  const id = begin(`echo ${from.index}->${to.index} ${bytes} B`)
  try {
    await echoOn(connection, bytes, AbortSignal.timeout(ECHO_TIMEOUT_MS))
    actions.echo.ok++
    sentBytes[from.index]![to.index]! += bytes
    add(from.echoBytes, b, bytes)
    add(to.echoBytes, a, bytes)
  } catch (err) {
    // With nothing else touching the pair, every echo must complete: a failure is a failed check.
    outcome = `failed: ${(err as Error).message}`
    failed('echo', `${from.index}->${to.index} ${bytes} B`, err)
    checksFailed++
    failures.push(`echo ${from.index}->${to.index} ${bytes} B failed: ${(err as Error).message}`)
    add(from.uncertainBytes, b, bytes)
    add(to.uncertainBytes, a, bytes)
  } finally {
    end(id, outcome)
    pair.echoes--
    from.busy--
    to.busy--
  }
}

async function restart(): Promise<void> {
  const slot = pick(up().filter((s) => s.busy === 0))
  if (slot?.node === undefined) return void actions.restart.skipped++
  const node = slot.node
  slot.node = undefined
  let outcome = 'ok'
  const id = begin(`restart ${slot.index}`)
  try {
    await node.stop()
    // What lives in memory dies with the node: connections and counters start from nothing.
    slot.connected.clear()
    slot.identifiedNow.clear()
    slot.echoBytes.clear()
    slot.uncertainBytes.clear()
    slot.node = await startSlot(slot)
    actions.restart.ok++
    // Before it is used again: it must remember every peer it ever identified, none at ConnectedAddrTTL
    // unless connected and identified since the restart.
    await check(`after restart of node-${slot.index}`, [slot], { counters: false })
  } catch (err) {
    outcome = `failed: ${(err as Error).message}`
    failed('restart', `node-${slot.index}`, err)
    // A node that did not come back stays down; its checks are skipped from now on.
  } finally {
    end(id, outcome)
  }
}

const weights: Array<[Kind, number, () => Promise<void>]> = [
  ['echo', options.weights.echo ?? 0, echo],
  ['dial', options.weights.dial ?? 0, dial],
  ['hangup', options.weights.hangup ?? 0, hangup],
  ['restart', options.weights.restart ?? 0, restart]
]
const totalWeight = weights.reduce((sum, [, w]) => sum + w, 0)
function nextAction(): () => Promise<void> {
  let r = random() * totalWeight
  for (const [, w, run] of weights) {
    r -= w
    if (r < 0) return run
  }
  return echo
}

// --- checks ----------------------------------------------------------------------------------------------------

const strip = (addr: { toString(): string }): string => addr.toString().replace(/\/p2p\/[^/]+$/, '')

/** Every failure of one node's store and counters against the ledger, now. */
async function problems(slot: Slot, counters: boolean): Promise<string[]> {
  const node = slot.node
  if (node === undefined) return []
  const out: string[] = []
  const name = `node-${slot.index}`
  const store = await node.services.peerscope.store()

  // The ledger's view of connections (from events) agrees with libp2p's.
  const live = new Set(openConnections(node).map((c) => c.remotePeer.toString()))
  for (const p of live)
    if (!slot.connected.has(p)) out.push(`${name}: connected to ${p} without peer:connect`)
  for (const p of slot.connected)
    if (!live.has(p)) out.push(`${name}: ledger says connected to ${p}, libp2p not`)

  // (a) every identified peer is in the store, with the echo protocol, and ConnectedAddrTTL exactly for the
  // peers identified while connected.
  const stored = new Set(store.peers().map(String))
  for (const p of slot.identified) {
    if (!stored.has(p)) {
      out.push(`${name}: forgot identified peer ${p}`)
      continue
    }
    const peer = byPeer.get(p)?.peerId
    if (peer === undefined) continue
    if (!store.getProtocols(peer).includes(ECHO_PROTOCOL))
      out.push(`${name}: ${p} stored without ${ECHO_PROTOCOL}: ${store.getProtocols(peer).join(' ')}`)
  }
  for (const peer of store.peers()) {
    const p = peer.toString()
    const connectedAddrs = store
      .addrInfos(peer)
      .filter((a) => a.ttl === ConnectedAddrTTL)
      .map((a) => strip(a.multiaddr))
    if (connectedAddrs.length > 0 && !slot.identifiedNow.has(p))
      out.push(
        `${name}: ${p} (${live.has(p) ? 'connected, not identified since' : 'not connected'}) has ConnectedAddrTTL addrs ${connectedAddrs.join(' ')}`
      )
    if (slot.identifiedNow.has(p)) {
      const remote = byPeer.get(p)?.node
      const listening = remote === undefined ? [] : remote.getMultiaddrs().map(strip)
      const missing = listening.filter((a) => !connectedAddrs.includes(a))
      if (missing.length > 0)
        out.push(`${name}: connected identified ${p} lacks ConnectedAddrTTL for ${missing.join(' ')}`)
    }
  }
  for (const p of slot.identifiedNow)
    if (!stored.has(p)) out.push(`${name}: connected identified ${p} not in the store`)

  // (b) echo counters per peer equal the ledger's bytes since this node started (both directions: what it
  // sent comes back, what it was sent it returns). Partial bytes of failed echoes make a range instead.
  if (counters) {
    const bandwidth = (node.metrics as PeerscopeMetrics).bandwidth
    let sum = 0
    let uncertain = 0
    for (const other of slots) {
      if (other === slot) continue
      const p = other.peerId.toString()
      const stats = bandwidth.forPeerProtocol(p, ECHO_PROTOCOL)
      const expected = slot.echoBytes.get(p) ?? 0
      const slack = slot.uncertainBytes.get(p) ?? 0
      sum += expected
      uncertain += slack
      for (const [dir, got] of [
        ['in', stats?.totalIn ?? 0],
        ['out', stats?.totalOut ?? 0]
      ] as const) {
        if (got < expected || got > expected + slack)
          out.push(
            `${name}: echo bytes ${dir} for node-${other.index} = ${got}, ledger ${expected}${slack > 0 ? ` (+ up to ${slack} of failed echoes)` : ''}`
          )
      }
    }
    const protocol = bandwidth.forProtocol(ECHO_PROTOCOL)
    for (const got of [protocol?.totalIn ?? 0, protocol?.totalOut ?? 0]) {
      if (got < sum || got > sum + uncertain)
        out.push(
          `${name}: echo protocol total ${got}, ledger ${sum}${uncertain > 0 ? ` (+ up to ${uncertain})` : ''}`
        )
    }
  }
  return out
}

/**
 * Checks the given nodes. Store updates follow swarm events asynchronously (and kad-dht keeps dialing on its own),
 * so a mismatch is re-examined after the nodes settle; only one that persists over ~2 s counts as a failure.
 */
async function check(label: string, which: Slot[], { counters }: { counters: boolean }): Promise<void> {
  let found: string[] = []
  for (let attempt = 0; attempt < 5; attempt++) {
    await Promise.all(which.map((s) => s.node?.services.peerscope.settled()))
    found = (await Promise.all(which.map((s) => problems(s, counters)))).flat()
    if (found.length === 0) break
    await sleep(400)
  }
  const checked = which.filter((s) => s.node !== undefined).length
  if (found.length === 0) {
    checksPassed += checked
    return
  }
  const failedNodes = new Set(found.map((f) => f.split(':')[0]))
  checksFailed += failedNodes.size
  checksPassed += checked - failedNodes.size
  for (const f of found) failures.push(`${label}: ${f}`)
  console.log(`check ${label}: ${found.length} problem(s), first: ${found[0]}`)
}

// --- the run ---------------------------------------------------------------------------------------------------

const t0 = performance.now()
console.log(
  `soak: seed ${seed}, ${count} nodes, ${durationS} s, checkpoints every ${checkpointS} s, dir ${dir}`
)
for (let i = 0; i < count; i++) {
  const slot: Slot = {
    index: i,
    node: undefined,
    peerId: undefined as unknown as PeerId,
    listenPort: 0,
    busy: 0,
    identified: new Set(),
    connected: new Set(),
    identifiedNow: new Set(),
    echoBytes: new Map(),
    uncertainBytes: new Map()
  }
  slot.node = await startSlot(slot)
  slot.peerId = slot.node.peerId
  slots.push(slot)
  byPeer.set(slot.peerId.toString(), slot)
}
console.log(`started ${count} nodes in ${((performance.now() - t0) / 1000).toFixed(1)} s`)

const inFlight = new Set<Promise<void>>()
const MAX_IN_FLIGHT = 12
let peakRss = process.memoryUsage().rss
let lastCheckpoint = performance.now()
runStart = performance.now()
const deadline = runStart + durationS * 1000
let checkpoints = 0

/** Waits for the actions under way; one still running after 60 s is a failed check (and is left behind). */
async function drain(label: string): Promise<void> {
  const limit = performance.now() + 60_000
  while (inFlight.size > 0 && performance.now() < limit) {
    await Promise.race([Promise.all(inFlight), sleep(1000)])
  }
  if (inFlight.size === 0) return
  checksFailed++
  for (const entry of running.values()) {
    const { what, since } = entry
    if (entry.reported) continue
    entry.reported = true
    const f = `${label}: action ${what} still running after ${((performance.now() - since) / 1000).toFixed(0)} s`
    failures.push(f)
    console.log(f)
  }
  inFlight.clear()
}

while (performance.now() < deadline) {
  await sleep(50)
  peakRss = Math.max(peakRss, process.memoryUsage().rss)
  if (performance.now() - lastCheckpoint >= checkpointS * 1000) {
    await drain(`checkpoint ${checkpoints + 1}`)
    checkpoints++
    const elapsed = ((performance.now() - runStart) / 1000).toFixed(0)
    await check(`checkpoint ${checkpoints} at ${elapsed} s`, slots, { counters: true })
    lastCheckpoint = performance.now()
    const done = Object.values(actions).reduce((n, a) => n + a.ok, 0)
    console.log(
      `checkpoint ${checkpoints} at ${elapsed} s: ${done} actions done, ${checksFailed} check(s) failed so far`
    )
    continue
  }
  if (inFlight.size >= MAX_IN_FLIGHT) continue
  const run = nextAction()()
  inFlight.add(run)
  void run.finally(() => inFlight.delete(run))
}
await drain('final')
await check('final', slots, { counters: true })
const runS = (performance.now() - runStart) / 1000

// (c) Stop everything; the process must then exit by itself.
const stopStart = performance.now()
await Promise.all(slots.map((s) => s.node?.stop()))
const stoppedAt = performance.now()
if (options.dir === undefined) await rm(dir, { recursive: true, force: true })
peakRss = Math.max(peakRss, process.memoryUsage().rss)

// --- summary ---------------------------------------------------------------------------------------------------

const mib = (n: number): string => (n / 1024 / 1024).toFixed(1)
const totalSent = sentBytes.flat().reduce((a, b) => a + b, 0)
const pairsUsed = sentBytes.flat().filter((b) => b > 0).length
const identifiedPerNode = slots.map((s) => s.identified.size)
console.log(`\nsoak summary: seed ${seed}, ${count} nodes, ${runS.toFixed(0)} s of actions`)
console.log('action    ok      failed  skipped')
for (const [kind, a] of Object.entries(actions))
  console.log(`${kind.padEnd(10)}${String(a.ok).padEnd(8)}${String(a.failed).padEnd(8)}${a.skipped}`)
console.log(`echo payload: ${mib(totalSent)} MiB sent (and echoed back) over ${pairsUsed} ordered pairs`)
console.log(
  `dials by peer id from the store: ${dialsById}; ConnectedAddrTTL addrs downgraded at load: ${downgradedAtLoad}`
)
console.log(
  `peers identified per node: min ${Math.min(...identifiedPerNode)}, max ${Math.max(...identifiedPerNode)}`
)
console.log(
  `checks: ${checksPassed} passed, ${checksFailed} failed (${checkpoints} checkpoints, final, one per restart)`
)
for (const f of failures.slice(0, 30)) console.log(`  FAILED ${f}`)
if (failures.length > 30) console.log(`  ... and ${failures.length - 30} more`)
for (const e of actionErrors) console.log(`  action error: ${e}`)
console.log(
  `peak RSS: ${mib(peakRss)} MiB; stop of all nodes: ${((stoppedAt - stopStart) / 1000).toFixed(2)} s`
)
console.log(`active resources after stop: ${JSON.stringify(process.getActiveResourcesInfo())}`)
console.log(
  `soak: ${checksFailed === 0 ? 'PASS' : 'FAIL'} (${checksPassed} checks passed, ${checksFailed} failed)`
)
process.exitCode = checksFailed === 0 ? 0 : 1

// libp2p's address manager leaves a 1 s debounce timer per node at stop; by then it should have fired.
setTimeout(() => {
  console.log(`active resources 1.5 s after stop: ${JSON.stringify(process.getActiveResourcesInfo())}`)
}, 1500).unref()
// Nothing may keep the process alive now: if this (unref'd) timer fires, something leaked.
const EXIT_BUDGET_MS = 5000
setTimeout(() => {
  console.log(
    `soak: FAIL the process is still alive ${EXIT_BUDGET_MS} ms after every node stopped: ${JSON.stringify(process.getActiveResourcesInfo())}`
  )
  process.exit(1)
}, EXIT_BUDGET_MS).unref()
process.once('exit', () => {
  console.log(
    `soak: exited by itself ${Math.round(performance.now() - stoppedAt)} ms after the last node stopped`
  )
})
