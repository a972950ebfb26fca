// The peer-store scaling benchmark (issue 21): for each size (10k, 100k, and 1M peers with BENCH_SCALE_1M=1) of
// N peers x 4 addresses x 3 protocols, @peerscope/peerstore-level beside go-libp2p's pstoremem (v0.52.0, a Go program
// run in the same benchmark run: go/) and beside @libp2p/peer-store on datastore-level (slow: up to
// BENCH_SCALE_UPSTREAM_MAX peers only), as ratios. Every measurement is a process of its own (subjects.ts, the Go
// program), so each heap figure is its own. A size runs rounds, the subjects' order rotated each round, until the
// ratios of its last rounds agree (or the rounds run out: then it says they did not). Then go's
// BenchmarkInMemoryPeerstore cases at 1, 10 and 100 addresses per peer, ours beside go's (ops.ts), and met / MISSED
// for each target of the issue.
import { spawnSync } from 'node:child_process'
import {
  type LoadAverage,
  loadAverage,
  median,
  readConfig,
  round,
  significant,
  startBench
} from '@peerscope/bench-kit'
import { roundsAt, type ScaleConfig, scaleConfig } from './config.ts'
import { goMissing, runGoProgram } from './go-program.ts'
import { OPS_CASES, type OpsCase, type OpsResult } from './ops.ts'

type Figures = Record<string, number>

const subjectsScript = new URL('./subjects.ts', import.meta.url).pathname
const opsScript = new URL('./ops.ts', import.meta.url).pathname
const OURS_MODULE = '@peerscope/peerstore-level'

/** One measurement in its own Node process: its one JSON line. */
function runNode(script: string, args: string[], heapMiB: number): string[] {
  const run = spawnSync(
    process.execPath,
    ['--conditions=@peerscope/source', '--expose-gc', `--max-old-space-size=${heapMiB}`, script, ...args],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 }
  )
  if (run.status !== 0) throw new Error(`${script} ${args.join(' ')} exited with ${run.status ?? run.signal}`)
  return run.stdout.trim().split('\n')
}

function heapFor(peers: number): number {
  return Math.max(2048, Math.ceil((peers * 6000) / 2 ** 20))
}

function runSubject(subject: string, peers: number, config: ScaleConfig): Figures {
  if (subject === 'go') {
    const [line] = runGoProgram(['scale', '-n', String(peers)])
    return line as Figures
  }
  const module = subject.endsWith('@baseline') ? config.baseline! : OURS_MODULE
  const lines = runNode(subjectsScript, [subject, String(peers), module], heapFor(peers))
  return JSON.parse(lines.at(-1)!) as Figures
}

/** What is compared at a size: subject and figure over subject and figure. */
interface Comparison {
  name: string
  of: [string, string]
  over: [string, string]
  /** The ratio must not exceed this (a target of the issue), if any. */
  atMost?: number
  /** Part of the stability rule. */
  main?: boolean
}

function comparisons(config: ScaleConfig, withGo: boolean, withUpstream: boolean): Comparison[] {
  const out: Comparison[] = []
  if (withGo) {
    out.push(
      {
        name: 'insert, ours / go',
        of: ['ours', 'insertNsPerPeer'],
        over: ['go', 'insertNsPerPeer'],
        atMost: 2,
        main: true
      },
      {
        name: 'insert CPU, ours / go',
        of: ['ours', 'insertCpuNsPerPeer'],
        over: ['go', 'insertCpuNsPerPeer']
      },
      {
        name: 'get, ours / go',
        of: ['ours', 'getNsPerPeer'],
        over: ['go', 'getNsPerPeer'],
        atMost: 1.5,
        main: true
      },
      { name: 'get CPU, ours / go', of: ['ours', 'getCpuNsPerPeer'], over: ['go', 'getCpuNsPerPeer'] },
      {
        name: 'GC of a full expiry, ours / go',
        of: ['ours', 'gcMs'],
        over: ['go', 'gcMs'],
        atMost: 2,
        main: true
      },
      { name: 'GC CPU, ours / go', of: ['ours', 'gcCpuMs'], over: ['go', 'gcCpuMs'] },
      {
        name: 'GC CPU with its LevelDB catch-up, ours / go',
        of: ['ours', 'gcWithCatchUpCpuMs'],
        over: ['go', 'gcCpuMs']
      },
      {
        name: 'heap per peer live, ours / go',
        of: ['ours', 'heapLivePerPeer'],
        over: ['go', 'heapLivePerPeer'],
        atMost: 1,
        main: true
      },
      {
        name: 'heap per peer live (libp2p view), ours / go',
        of: ['ours-view', 'heapLivePerPeer'],
        over: ['go', 'heapLivePerPeer']
      },
      { name: 'insert, floor / go', of: ['floor', 'insertNsPerPeer'], over: ['go', 'insertNsPerPeer'] },
      {
        name: 'insert, durable floor / go',
        of: ['floor', 'insertDurableNsPerPeer'],
        over: ['go', 'insertNsPerPeer']
      },
      { name: 'get, floor / go', of: ['floor', 'getNsPerPeer'], over: ['go', 'getNsPerPeer'] },
      { name: 'GC of a full expiry, floor / go', of: ['floor', 'gcMs'], over: ['go', 'gcMs'] },
      {
        name: 'heap per peer live, floor / go',
        of: ['floor', 'heapLivePerPeer'],
        over: ['go', 'heapLivePerPeer']
      }
    )
  }
  out.push(
    { name: 'insert, ours / floor', of: ['ours', 'insertNsPerPeer'], over: ['floor', 'insertNsPerPeer'] },
    {
      name: 'insert, ours / durable floor',
      of: ['ours', 'insertNsPerPeer'],
      over: ['floor', 'insertDurableNsPerPeer']
    },
    { name: 'get, ours / floor', of: ['ours', 'getNsPerPeer'], over: ['floor', 'getNsPerPeer'] },
    { name: 'GC of a full expiry, ours / floor', of: ['ours', 'gcMs'], over: ['floor', 'gcMs'] }
  )
  out.push({
    name: 'heap per peer, live / reopened',
    of: ['ours', 'heapLivePerPeer'],
    over: ['ours', 'heapReopenedPerPeer'],
    atMost: 1.1,
    main: true
  })
  if (withUpstream) {
    out.push(
      {
        name: 'insert, upstream / ours (view)',
        of: ['upstream', 'insertNsPerPeer'],
        over: ['ours-view', 'insertNsPerPeer']
      },
      {
        name: 'get, upstream / ours (view)',
        of: ['upstream', 'getNsPerPeer'],
        over: ['ours-view', 'getNsPerPeer']
      },
      { name: 'all(), upstream / ours', of: ['upstream', 'allMs'], over: ['ours', 'allMs'] },
      {
        name: 'reopen-and-list, upstream / ours',
        of: ['upstream', 'reopenAndListMs'],
        over: ['ours', 'reopenAndListMs']
      }
    )
  }
  if (config.baseline !== undefined) {
    for (const [figure, label] of [
      ['insertNsPerPeer', 'insert'],
      ['getNsPerPeer', 'get'],
      ['gcMs', 'GC'],
      ['heapLivePerPeer', 'heap live'],
      ['heapReopenedPerPeer', 'heap reopened'],
      ['reopenAndListMs', 'reopen-and-list'],
      ['allMs', 'all()'],
      ['gcBlockMs', 'GC longest block'],
      ['catchUpMs', 'catch-up after the burst']
    ] as const) {
      out.push({ name: `${label}, baseline / ours`, of: ['ours@baseline', figure], over: ['ours', figure] })
    }
    out.push(
      {
        name: 'view insert, baseline / ours',
        of: ['ours-view@baseline', 'insertNsPerPeer'],
        over: ['ours-view', 'insertNsPerPeer']
      },
      {
        name: 'view heap live, baseline / ours',
        of: ['ours-view@baseline', 'heapLivePerPeer'],
        over: ['ours-view', 'heapLivePerPeer']
      }
    )
  }
  return out
}

interface SizeSummary {
  peers: number
  rounds: number
  load: LoadAverage[]
  stable: boolean
  /** Per subject, the median of each figure over the rounds. */
  medians: Record<string, Figures>
  /** Per subject, each text figure (a GC pause's kind) as the rounds gave it, distinct values joined by `/`. */
  texts: Record<string, Record<string, string>>
  /** Per comparison, the median of its per-round ratios, and those ratios. */
  ratios: Record<string, { median: number; rounds: number[]; atMost?: number }>
}

function ratioOf(c: Comparison, results: Record<string, Figures>): number | undefined {
  const a = results[c.of[0]]?.[c.of[1]]
  const b = results[c.over[0]]?.[c.over[1]]
  return a === undefined || b === undefined || b === 0 ? undefined : a / b
}

function measureSize(config: ScaleConfig, peers: number, withGo: boolean): SizeSummary {
  const withUpstream = peers <= config.upstreamMax
  const { min, max } = roundsAt(config, peers)
  const subjects = [
    ...(withGo ? ['go'] : []),
    'floor',
    'ours',
    'ours-view',
    ...(config.baseline === undefined ? [] : ['ours@baseline', 'ours-view@baseline'])
  ]
  const compared = comparisons(config, withGo, withUpstream)
  const perRound: Array<Record<string, Figures>> = []
  const load: LoadAverage[] = []
  let stable = false
  for (let r = 0; r < max && !stable; r++) {
    load.push(loadAverage())
    // @libp2p/peer-store takes minutes at 100k: only in the first rounds, its ratios are not part of the rule.
    const order = [...subjects, ...(withUpstream && r < min ? ['upstream'] : [])]
    const rotated = [...order.slice(r % order.length), ...order.slice(0, r % order.length)]
    const results: Record<string, Figures> = {}
    for (const subject of rotated) {
      console.error(`  ${peers} peers, round ${r + 1}: ${subject}`)
      results[subject] = runSubject(subject, peers, config)
    }
    perRound.push(results)
    const line = compared
      .filter((c) => c.main)
      .map((c) => `${c.name} ${round(ratioOf(c, results) ?? Number.NaN, 2)}`)
      .join('; ')
    console.log(`${peers} peers, round ${r + 1} (load ${load.at(-1)!.join(' / ')}): ${line}`)
    if (perRound.length >= min) stable = isStable(compared, perRound.slice(-min), config.stableWithin)
  }
  const medians: Record<string, Figures> = {}
  for (const subject of new Set(perRound.flatMap((results) => Object.keys(results)))) {
    const figures = new Set(perRound.flatMap((results) => Object.keys(results[subject] ?? {})))
    medians[subject] = {}
    for (const figure of figures) {
      const values = perRound
        .map((results) => results[subject]?.[figure])
        .filter((v) => typeof v === 'number')
      if (values.length > 0) medians[subject][figure] = median(values)
    }
  }
  const texts: SizeSummary['texts'] = {}
  for (const [subject, figures] of Object.entries(medians)) {
    texts[subject] = {}
    for (const figure of new Set(perRound.flatMap((results) => Object.keys(results[subject] ?? {})))) {
      if (figure in figures) continue
      const values = perRound
        .map((results) => results[subject]?.[figure] as unknown)
        .filter((v) => v !== undefined)
      texts[subject][figure] = [...new Set(values.map(String))].join('/')
    }
  }
  const ratios: SizeSummary['ratios'] = {}
  for (const c of compared) {
    const values = perRound.map((results) => ratioOf(c, results)).filter((v) => v !== undefined)
    if (values.length > 0) ratios[c.name] = { median: median(values), rounds: values, atMost: c.atMost }
  }
  return { peers, rounds: perRound.length, load, stable, medians, texts, ratios }
}

/** Every main ratio of the last rounds within `within` of itself (max / min). */
function isStable(compared: Comparison[], rounds: Array<Record<string, Figures>>, within: number): boolean {
  return compared
    .filter((c) => c.main)
    .every((c) => {
      const values = rounds.map((results) => ratioOf(c, results)).filter((v) => v !== undefined)
      return values.length === 0 || Math.max(...values) / Math.min(...values) <= within
    })
}

function table(header: string[], rows: Array<Array<string | number | undefined>>): void {
  for (const row of rows) {
    if (row.length !== header.length)
      throw new Error(`table row ${String(row[0])} has ${row.length} cells, not ${header.length}`)
  }
  const cells = [header, ...rows.map((row) => row.map((c) => (c === undefined ? '-' : String(c))))]
  const widths = header.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)))
  for (const row of cells) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  '))
}

const fmt = (n: number | undefined, digits = 3): string | undefined =>
  n === undefined || Number.isNaN(n) ? undefined : String(significant(n, digits))

/** The long operations whose event-loop blocks are attributed (subjects.ts `blockFigures`), with their names. */
const BLOCKED_OPS = [
  ['gc', 'GC'],
  ['all', 'all()'],
  ['reopenAndList', 'reopen-and-list']
] as const

/** The target is 10 ms; past it, a stretch is the part that missed. */
const BLOCK_TARGET_MS = 10

/**
 * Which part held the loop past the target in an op: V8's collector (its longest pause), our code (a stretch without
 * GC, less the time the thread waited for a core), or the machine (a stretch that was long by that wait).
 */
function blockCulprits(f: Figures | undefined, op: string): string[] {
  if (f === undefined) return []
  const out: string[] = []
  if ((f[`${op}GcPauseMs`] ?? 0) >= BLOCK_TARGET_MS) out.push('V8 GC pause')
  const nonGc = f[`${op}NonGcMs`] ?? 0
  const own = f[`${op}NonGcOwnMs`] ?? f[`${op}NonGcCpuMs`] ?? 0
  // Past the target only together: the larger share is named.
  if (own >= BLOCK_TARGET_MS || (nonGc >= BLOCK_TARGET_MS && own >= nonGc - own)) out.push('our slices')
  else if (nonGc >= BLOCK_TARGET_MS) out.push('machine (waiting for a core)')
  return out
}

function blockDetail(f: Figures | undefined, texts: Record<string, string> | undefined): string {
  return BLOCKED_OPS.map(([op, name]) => {
    const block = f?.[`${op}BlockMs`]
    if (block === undefined) return `${name} -`
    const culprits = blockCulprits(f, op)
    return (
      `${name} ${fmt(block, 2)} ms (V8 pause ${fmt(f?.[`${op}GcPauseMs`], 2) ?? '-'} ms ` +
      `${texts?.[`${op}GcPauseKind`] ?? ''}, our code ${fmt(f?.[`${op}NonGcOwnMs`], 2) ?? '-'} ms of a ` +
      `${fmt(f?.[`${op}NonGcMs`], 2) ?? '-'} ms stretch without GC${culprits.length === 0 ? '' : `; missed by: ${culprits.join(', ')}`})`
    )
  }).join('; ')
}

function printSize(s: SizeSummary): void {
  const m = s.medians
  console.log(
    `\n${s.peers} peers x 4 addrs x 3 protocols: medians of ${s.rounds} round(s); ratios ` +
      (s.stable ? 'stable' : 'NOT stable (their last rounds disagree by more than 15%)')
  )
  const us = (v: number | undefined) => fmt(v === undefined ? undefined : v / 1000)
  table(
    ['figure', 'go pstoremem', 'JS floor', 'ours (core API)', 'ours (libp2p view)', '@libp2p/peer-store'],
    [
      [
        'insert, us/peer (wall)',
        us(m.go?.insertNsPerPeer),
        us(m.floor?.insertNsPerPeer),
        us(m.ours?.insertNsPerPeer),
        us(m['ours-view']?.insertNsPerPeer),
        us(m.upstream?.insertNsPerPeer)
      ],
      [
        'insert with a write(2) per call (the durable floor), us/peer (wall)',
        undefined,
        us(m.floor?.insertDurableNsPerPeer),
        undefined,
        undefined,
        undefined
      ],
      [
        'insert, us/peer (thread CPU)',
        us(m.go?.insertCpuNsPerPeer),
        us(m.floor?.insertCpuNsPerPeer),
        us(m.ours?.insertCpuNsPerPeer),
        us(m['ours-view']?.insertCpuNsPerPeer),
        us(m.upstream?.insertCpuNsPerPeer)
      ],
      [
        'get, us/peer (wall)',
        us(m.go?.getNsPerPeer),
        us(m.floor?.getNsPerPeer),
        us(m.ours?.getNsPerPeer),
        us(m['ours-view']?.getNsPerPeer),
        us(m.upstream?.getNsPerPeer)
      ],
      [
        'GC of a full expiry, ms',
        fmt(m.go?.gcMs),
        fmt(m.floor?.gcMs),
        fmt(m.ours?.gcMs),
        undefined,
        'no TTL GC'
      ],
      [
        'GC, LevelDB catch-up after, ms',
        undefined,
        undefined,
        fmt(m.ours?.gcCatchUpMs),
        undefined,
        undefined
      ],
      [
        'GC, LevelDB catch-up after, thread CPU ms',
        undefined,
        undefined,
        fmt(m.ours?.gcCatchUpCpuMs),
        undefined,
        undefined
      ],
      [
        'heap per peer live, B',
        fmt(m.go?.heapLivePerPeer),
        fmt(m.floor?.heapLivePerPeer),
        fmt(m.ours?.heapLivePerPeer),
        fmt(m['ours-view']?.heapLivePerPeer),
        fmt(m.upstream?.heapLivePerPeer)
      ],
      [
        'heap per peer reopened, B',
        undefined,
        undefined,
        fmt(m.ours?.heapReopenedPerPeer),
        undefined,
        fmt(m.upstream?.heapReopenedPerPeer)
      ],
      [
        'backlog heap after the burst, B/peer',
        undefined,
        undefined,
        fmt(m.ours?.backlogHeapPerPeer),
        fmt(m['ours-view']?.backlogHeapPerPeer),
        undefined
      ],
      [
        'LevelDB catch-up after the burst, ms',
        undefined,
        undefined,
        fmt(m.ours?.catchUpMs),
        fmt(m['ours-view']?.catchUpMs),
        undefined
      ],
      [
        'reopen-and-list, ms',
        undefined,
        undefined,
        fmt(m.ours?.reopenAndListMs),
        undefined,
        fmt(m.upstream?.reopenAndListMs)
      ],
      ['all(), ms', undefined, undefined, fmt(m.ours?.allMs), undefined, fmt(m.upstream?.allMs)],
      [
        'longest block: GC / all() / reopen, ms',
        undefined,
        undefined,
        [m.ours?.gcBlockMs, m.ours?.allBlockMs, m.ours?.reopenAndListBlockMs]
          .map((v) => fmt(v, 2) ?? '-')
          .join(' / '),
        undefined,
        m.upstream === undefined
          ? undefined
          : [undefined, m.upstream.allBlockMs, m.upstream.reopenAndListBlockMs]
              .map((v) => fmt(v, 2) ?? '-')
              .join(' / ')
      ],
      [
        'of which V8 GC pause (longest, kind), ms',
        undefined,
        undefined,
        BLOCKED_OPS.map(([op]) => {
          const ms = fmt(m.ours?.[`${op}GcPauseMs`], 2)
          return ms === undefined ? '-' : `${ms} (${s.texts.ours?.[`${op}GcPauseKind`] ?? '?'})`
        }).join(' / '),
        undefined,
        undefined
      ],
      [
        'longest non-GC stretch (ours: less waiting for a core), ms',
        undefined,
        undefined,
        BLOCKED_OPS.map(([op]) => {
          const ms = fmt(m.ours?.[`${op}NonGcMs`], 2)
          return ms === undefined ? '-' : `${ms} (${fmt(m.ours?.[`${op}NonGcOwnMs`], 2) ?? '?'})`
        }).join(' / '),
        undefined,
        undefined
      ]
    ]
  )
  console.log('')
  table(
    ['ratio (median of rounds)', 'median', 'rounds', 'target'],
    Object.entries(s.ratios).map(([name, r]) => [
      name,
      fmt(r.median),
      r.rounds.map((v) => fmt(v, 2)).join(' '),
      r.atMost === undefined ? undefined : `<= ${r.atMost}`
    ])
  )
}

interface OpsRow {
  op: OpsCase
  addrsPerPeer: number
  goNsPerOp: number | undefined
  ours: OpsResult
}

function measureOps(config: ScaleConfig, withGo: boolean): OpsRow[] {
  if (config.opsSizes.length === 0) return []
  const go = withGo ? runGoProgram(['ops', '-sizes', config.opsSizes.join(','), '-benchtime', '300ms']) : []
  const rows: OpsRow[] = []
  for (const count of config.opsSizes) {
    const counts: Partial<Record<OpsCase, number>> = {}
    for (const op of OPS_CASES) {
      const line = go.find((l) => l.op === op && l.addrsPerPeer === count)
      // Without Go, as many ops as 300 ms of go's would hold, roughly.
      counts[op] = line === undefined ? 2000 : Number(line.n)
    }
    console.error(`  go's peerstore cases at ${count} addrs per peer: ours`)
    const lines = runNode(opsScript, [String(count), JSON.stringify(counts), '5000', OURS_MODULE], 4096)
    for (const text of lines) {
      const ours = JSON.parse(text) as OpsResult
      const line = go.find((l) => l.op === ours.op && l.addrsPerPeer === count)
      rows.push({ op: ours.op, addrsPerPeer: count, goNsPerOp: line?.nsPerOp as number | undefined, ours })
    }
  }
  return rows
}

/** Cost growth from `from` to `to` addresses per peer, per case: ours and go's. */
function opsGrowth(rows: OpsRow[], from: number, to: number) {
  return OPS_CASES.flatMap((op) => {
    const a = rows.find((r) => r.op === op && r.addrsPerPeer === from)
    const b = rows.find((r) => r.op === op && r.addrsPerPeer === to)
    if (a === undefined || b === undefined) return []
    const go = a.goNsPerOp === undefined || b.goNsPerOp === undefined ? undefined : b.goNsPerOp / a.goNsPerOp
    return [{ op, ours: b.ours.nsPerOp / a.ours.nsPerOp, go }]
  })
}

function printOps(rows: OpsRow[]): void {
  if (rows.length === 0) return
  console.log(
    '\ngo-libp2p BenchmarkInMemoryPeerstore cases (10,000 peers; "GetAddrs" calls SetAddrs, as go\u2019s suite does); ' +
      'ours on LevelDB, the op counts go settled on'
  )
  table(
    ['case', 'addrs/peer', 'go us/op', 'ours us/op', 'ours CPU us/op', 'ours / go'],
    rows.map((r) => [
      r.op,
      r.addrsPerPeer,
      fmt(r.goNsPerOp === undefined ? undefined : r.goNsPerOp / 1000),
      `${fmt(r.ours.nsPerOp / 1000)}${r.ours.cut ? ' (cut short)' : ''}`,
      fmt(r.ours.cpuNsPerOp / 1000),
      fmt(r.goNsPerOp === undefined ? undefined : r.ours.nsPerOp / r.goNsPerOp)
    ])
  )
}

type Verdict = 'met' | 'MISSED' | `not measured${string}`

function judge(
  sizes: SizeSummary[],
  ops: OpsRow[],
  withGo: boolean
): Record<string, { verdict: Verdict; detail: string }> {
  const out: Record<string, { verdict: Verdict; detail: string }> = {}
  const noGo = 'not measured (no Go)' as const
  const everySize = (name: string, label: string): void => {
    if (!withGo && !name.includes('reopened')) {
      out[label] = { verdict: noGo, detail: '' }
      return
    }
    const values = sizes.map((s) => [s.peers, s.ratios[name]] as const)
    const met = values.every(([, r]) => r !== undefined && r.atMost !== undefined && r.median <= r.atMost)
    out[label] = {
      verdict: met ? 'met' : 'MISSED',
      detail: values.map(([n, r]) => `${n}: ${fmt(r?.median) ?? '-'}`).join(', ')
    }
  }
  everySize('heap per peer live, ours / go', "heap per peer (live) <= go's, every size")
  everySize('heap per peer, live / reopened', 'heap per peer live = reopened (within 10%), every size')
  everySize('insert, ours / go', 'insert within 2x of go, every size')
  everySize('GC of a full expiry, ours / go', 'GC within 2x of go, every size')
  everySize('get, ours / go', 'get within 1.5x of go, every size')
  // Beside each speed target: the floor's ratio (floor.ts), which no JavaScript store on this workload beats.
  for (const [name, floorName, label] of [
    ['insert, ours / go', 'insert, floor / go', 'insert within 2x of go, every size'],
    ['GC of a full expiry, ours / go', 'GC of a full expiry, floor / go', 'GC within 2x of go, every size'],
    ['get, ours / go', 'get, floor / go', 'get within 1.5x of go, every size']
  ] as const) {
    const target = out[label]
    if (target === undefined || !withGo) continue
    const floors = sizes.map((s) => [s.peers, s.ratios[floorName]?.median, s.ratios[name]?.atMost] as const)
    const beyond = floors.some(([, r, atMost]) => r !== undefined && atMost !== undefined && r > atMost)
    target.detail +=
      `; the JS floor / go: ${floors.map(([n, r]) => `${n}: ${fmt(r) ?? '-'}`).join(', ')}` +
      (beyond ? ' (past the target: JavaScript alone misses it on this workload)' : '')
  }
  // A store whose calls are durable when they return (ours) has a floor of its own: the floor with a write per call.
  const insertTarget = out['insert within 2x of go, every size']
  if (insertTarget !== undefined && withGo) {
    const durable = sizes.map(
      (s) =>
        [
          s.peers,
          s.ratios['insert, durable floor / go']?.median,
          s.ratios['insert, ours / go']?.atMost
        ] as const
    )
    const beyond = durable.some(([, r, atMost]) => r !== undefined && atMost !== undefined && r > atMost)
    const figures = durable.map(([n, r]) => `${n}: ${fmt(r) ?? '-'}`).join(', ')
    insertTarget.detail +=
      `; the durable JS floor (a write(2) per call) / go: ${figures}` +
      (beyond ? ' (past the target: no store whose calls are durable when they return meets it here)' : '')
  }

  // Superlinear: cost growth from 10 to 100 addresses per peer, and per-peer cost growth from the smallest size to
  // the largest, each at most 1.5x go's (and never judged below linear).
  const growth = opsGrowth(ops, 10, 100)
  const first = sizes[0]
  const last = sizes.at(-1)
  const perPeerGrowth: Array<{ what: string; ours: number; go: number | undefined }> = []
  if (first !== undefined && last !== undefined && last.peers > first.peers) {
    for (const [what, figure, perPeer] of [
      ['insert', 'insertNsPerPeer', false],
      ['get', 'getNsPerPeer', false],
      ['GC', 'gcMs', true]
    ] as const) {
      const at = (s: SizeSummary, subject: string) => {
        const v = s.medians[subject]?.[figure]
        return v === undefined ? undefined : perPeer ? v / s.peers : v
      }
      const oursA = at(first, 'ours')
      const oursB = at(last, 'ours')
      const goA = at(first, 'go')
      const goB = at(last, 'go')
      if (oursA !== undefined && oursB !== undefined) {
        perPeerGrowth.push({
          what: `${what} per peer ${first.peers} -> ${last.peers}`,
          ours: oursB / oursA,
          go: goA === undefined || goB === undefined ? undefined : goB / goA
        })
      }
    }
  }
  const lines = [
    ...growth.map((g) => ({ what: `${g.op} 10 -> 100 addrs`, ours: g.ours, go: g.go, linear: 10 })),
    ...perPeerGrowth.map((g) => ({ ...g, linear: 1 }))
  ]
  if (lines.length === 0)
    out['no superlinear op'] = { verdict: 'not measured (needs ops at 10 and 100, or 2 sizes)', detail: '' }
  else {
    const superlinear = lines.filter((l) => l.ours > 1.5 * Math.max(l.linear, l.go ?? l.linear))
    out['no superlinear op'] = {
      verdict: superlinear.length === 0 ? 'met' : 'MISSED',
      detail: lines.map((l) => `${l.what}: ours x${fmt(l.ours, 2)}, go x${fmt(l.go, 2) ?? '-'}`).join('; ')
    }
  }

  const million = sizes.find((s) => s.peers === 1_000_000)
  const largest = sizes.at(-1)
  const blocks = (s: SizeSummary) =>
    Math.max(...BLOCKED_OPS.map(([op]) => s.medians.ours?.[`${op}BlockMs`] ?? 0))
  const blockTarget = 'longest event-loop block < 10 ms at 1M (GC, all(), reopen-and-list)'
  out[blockTarget] =
    million === undefined
      ? {
          verdict: 'not measured at 1M (BENCH_SCALE_1M=1)',
          detail:
            largest === undefined
              ? ''
              : `${largest.peers}: ${blockDetail(largest.medians.ours, largest.texts.ours)}`
        }
      : {
          verdict: blocks(million) < BLOCK_TARGET_MS ? 'met' : 'MISSED',
          detail: blockDetail(million.medians.ours, million.texts.ours)
        }
  out['reopen-and-list of 1M < 3 s'] =
    million === undefined
      ? {
          verdict: 'not measured at 1M (BENCH_SCALE_1M=1)',
          detail:
            largest === undefined ? '' : `${largest.peers}: ${fmt(largest.medians.ours?.reopenAndListMs)} ms`
        }
      : {
          verdict:
            (million.medians.ours?.reopenAndListMs ?? Number.POSITIVE_INFINITY) < 3000 ? 'met' : 'MISSED',
          detail: `${fmt(million.medians.ours?.reopenAndListMs)} ms`
        }
  // The dirty set holds a number per peer; the journal is paced past 8 MiB and waits for LevelDB past 32 MiB.
  const backlog = sizes.map(
    (s) => [s.peers, s.medians.ours?.backlogHeapPerPeer, s.medians.ours?.catchUpMs] as const
  )
  out['write-behind backlog after a burst bounded (<= 64 B heap per peer) and measured'] = {
    verdict: backlog.every(([, heap]) => heap !== undefined && heap <= 64) ? 'met' : 'MISSED',
    detail: backlog
      .map(([n, heap, ms]) => `${n}: ${fmt(heap)} B/peer, LevelDB caught up in ${fmt(ms)} ms`)
      .join('; ')
  }
  return out
}

const config = readConfig(() => scaleConfig())
const bench = startBench('peerstore-scale', {
  sizes: config.sizes,
  minRounds: config.minRounds,
  maxRounds: config.maxRounds,
  upstreamMax: config.upstreamMax,
  ops: config.opsSizes.length === 0 ? 'none' : config.opsSizes,
  baseline: config.baseline ?? '-'
})
const noGo = goMissing()
if (noGo !== undefined) console.log(`go-libp2p side skipped: ${noGo}`)
else console.error('  building the Go program (go-libp2p v0.52.0 pstoremem)')
console.log(
  `@libp2p/peer-store runs at sizes up to ${config.upstreamMax} peers only (BENCH_SCALE_UPSTREAM_MAX, at most ` +
    '100000): it takes minutes at 100k and more than an hour at 1M'
)
const sizes: SizeSummary[] = []
for (const peers of config.sizes) {
  const summary = measureSize(config, peers, noGo === undefined)
  printSize(summary)
  sizes.push(summary)
}
const ops = measureOps(config, noGo === undefined)
printOps(ops)
const targets = judge(sizes, ops, noGo === undefined)
console.log('\ntargets (issue 21):')
for (const [name, { verdict, detail }] of Object.entries(targets)) {
  console.log(`  ${verdict.padEnd(6)}  ${name}${detail === '' ? '' : ` — ${detail}`}`)
}
if (loadAverage()[0] > 2) {
  console.log(
    '\nthe load average is above what this benchmark explains (about 1.5 on two cores): wall times and blocks ' +
      'include time the machine gave to others; the thread-CPU rows are steadier'
  )
}
bench.finish({
  workload:
    'N peers x 4 addrs x 3 protocols; ours: core API on LevelDB by path (journal), libp2p view; go: pstoremem',
  sizes: sizes.map((s) => ({
    peers: s.peers,
    rounds: s.rounds,
    stable: s.stable,
    load: s.load,
    medians: Object.fromEntries(
      Object.entries(s.medians).map(([subject, figures]) => [
        subject,
        Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, significant(v, 4)]))
      ])
    ),
    texts: s.texts,
    ratios: Object.fromEntries(
      Object.entries(s.ratios).map(([k, r]) => [
        k,
        { median: round(r.median, 3), rounds: r.rounds.map((v) => round(v, 3)) }
      ])
    )
  })),
  ops: ops.map((r) => ({
    op: r.op,
    addrsPerPeer: r.addrsPerPeer,
    goNsPerOp: r.goNsPerOp === undefined ? null : Math.round(r.goNsPerOp),
    oursNsPerOp: Math.round(r.ours.nsPerOp),
    oursCpuNsPerOp: Math.round(r.ours.cpuNsPerOp),
    cut: r.ours.cut
  })),
  targets
})
