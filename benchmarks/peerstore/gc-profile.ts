// CPU profiles of our store on the scale benchmark's workload and store settings: the inserts that build N peers
// through the core API (two calls per peer, each journaled and then written behind to LevelDB), one GC of a full
// expiry after a close and reopen (as the scale benchmark does) with the clock moved two hours, and LevelDB's
// catch-up after it, each profiled apart with the inspector. Writes <out>-insert.cpuprofile, <out>-gc.cpuprofile and
// <out>-catchup.cpuprofile and prints the self time by function and by file, top first.
// With GC_PROFILE_LIVE=1 the store is not reopened first: GC runs on the entries the writes made.
// Usage: node --conditions=@peerscope/source --expose-gc gc-profile.ts [peers=100000] [out=/tmp/gc-profile] [module]
import { writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { Session } from 'node:inspector/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type * as PeerstoreLevelModule from '@peerscope/peerstore-level'
import { threadCpuMs } from './measure.ts'
import { CHUNK, chunk, PROTOCOLS } from './workload.ts'

type PeerstoreLevel = Pick<typeof PeerstoreLevelModule, 'openPeerStore' | 'AddressTTL'>

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
  children?: number[]
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

/** Self time (ms) per function, or per file with `byFile`, from the samples' time deltas. */
function selfTimes(profile: Profile, byFile = false): Array<[string, number]> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const ms = new Map<string, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!)!
    const f = node.callFrame
    const file = f.url.split('/').slice(-2).join('/')
    const name = byFile
      ? file || `${f.functionName || '(anonymous)'} (native)`
      : `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}`
    ms.set(name, (ms.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000)
  }
  return [...ms].sort((a, b) => b[1] - a[1])
}

async function profiled<T>(
  session: Session,
  fn: () => Promise<T>
): Promise<{ value: T; ms: number; cpuMs: number; profile: Profile }> {
  await session.post('Profiler.start')
  const t = performance.now()
  const cpu = threadCpuMs()
  const value = await fn()
  const ms = performance.now() - t
  const cpuMs = threadCpuMs() - cpu
  const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: Profile }
  return { value, ms, cpuMs, profile }
}

const [peersArg = '100000', out = '/tmp/gc-profile', module = '@peerscope/peerstore-level'] =
  process.argv.slice(2)
const n = Number(peersArg)
const mod = (await import(module)) as PeerstoreLevel
/**
 * Builds `count` peers as the scale benchmark does (their inserts profiled when `session` is given), reopens (unless
 * GC_PROFILE_LIVE=1), moves the clock 2 h.
 */
async function built(count: number, session?: Session) {
  const dir = await mkdtemp(join(tmpdir(), 'peerstore-gc-profile-'))
  const path = join(dir, 'db')
  let now = Date.now()
  const open = () =>
    mod.openPeerStore({
      path,
      clock: () => now,
      gc: { interval: 0 },
      limits: { maxAddrs: 8 * count + 1_000_000 }
    })
  let store = await open()
  // The callers' objects are made first, outside the profile, as the scale benchmark makes them outside its timing.
  const chunks: Array<ReturnType<typeof chunk>> = []
  for (let from = 0; from < count; from += CHUNK) chunks.push(chunk(from, Math.min(from + CHUNK, count)))
  globalThis.gc?.()
  const insertAll = async () => {
    for (const c of chunks) {
      for (let k = 0; k < c.ids.length; k++) {
        await store.addAddrs(c.ids[k]!, c.addrs[k]!, mod.AddressTTL)
        await store.addProtocols(c.ids[k]!, PROTOCOLS)
      }
    }
  }
  const insert = session === undefined ? undefined : await profiled(session, insertAll)
  if (session === undefined) await insertAll()
  if (process.env.GC_PROFILE_LIVE !== '1') {
    await store.close()
    store = await open()
  } else await store.flush()
  globalThis.gc?.()
  now += 2 * 60 * 60_000
  return { store, dir, insert }
}

// An untimed run first, as the scale benchmark's subjects do, so that the JIT has compiled what the profiled run calls.
const warm = await built(Math.min(n, 3000))
await warm.store.gc()
await warm.store.close()
await rm(warm.dir, { recursive: true, force: true })
const session = new Session()
session.connect()
await session.post('Profiler.enable')
await session.post('Profiler.setSamplingInterval', { interval: 100 })
const { store, dir, insert } = await built(n, session)
const gc = await profiled(session, () => store.gc())
const catchUp = await profiled(session, () => store.flush())
writeFileSync(`${out}-insert.cpuprofile`, JSON.stringify(insert!.profile))
writeFileSync(`${out}-gc.cpuprofile`, JSON.stringify(gc.profile))
writeFileSync(`${out}-catchup.cpuprofile`, JSON.stringify(catchUp.profile))
console.log(
  `${n} peers: insert ${insert!.ms.toFixed(0)} ms (cpu ${insert!.cpuMs.toFixed(0)}; ` +
    `${((insert!.ms * 1e3) / n).toFixed(1)} us per peer, two calls each)`
)
console.log(
  `${n} peers: gc ${gc.ms.toFixed(1)} ms (cpu ${gc.cpuMs.toFixed(1)}; removed ${gc.value.peersRemoved} peers, ` +
    `${gc.value.addrsRemoved} addrs, ${gc.value.slices} slices, longest ${gc.value.longestSliceMs.toFixed(1)} ms); ` +
    `catch-up ${catchUp.ms.toFixed(1)} ms (cpu ${catchUp.cpuMs.toFixed(1)})`
)
for (const [label, p] of [
  ['insert', insert!.profile],
  ['gc', gc.profile],
  ['catch-up', catchUp.profile]
] as const) {
  for (const byFile of [false, true]) {
    const rows = selfTimes(p, byFile).filter(
      ([name]) => !name.startsWith('post node:inspector') && !name.startsWith('(idle)')
    )
    const total = rows.reduce((s, r) => s + r[1], 0)
    console.log(`-- ${label}, by ${byFile ? 'file' : 'function'}: ${total.toFixed(1)} ms sampled`)
    for (const [name, ms] of rows.slice(0, byFile ? 15 : 25))
      console.log(`${((100 * ms) / total).toFixed(1).padStart(5)}% ${ms.toFixed(1).padStart(7)} ms  ${name}`)
  }
}
session.disconnect()
await store.close()
await rm(dir, { recursive: true, force: true })
