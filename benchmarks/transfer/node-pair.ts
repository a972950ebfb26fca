// Starts and drives one sender/receiver pair of node.ts processes (shared by transfer.ts and warm-up-curve.ts).
import { type ChildProcess, execFileSync, fork } from 'node:child_process'
import { once } from 'node:events'
import type {
  FromNode,
  IdleCosts,
  IdleProbe,
  MetricsKind,
  Pinning,
  ToNode,
  TransferResult,
  Workload
} from './types.ts'

const nodeScript = new URL('./node.ts', import.meta.url).pathname

function start(role: 'sender' | 'receiver', kind: MetricsKind, pin: Pinning): ChildProcess {
  const child = fork(nodeScript, [role, kind], {
    execPath: process.execPath,
    execArgv: ['--conditions=@peerscope/source'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  if (pin !== undefined && child.pid !== undefined) {
    const cpu = pin === 'same' || role === 'sender' ? '0' : '1'
    execFileSync('taskset', ['-a', '-p', '-c', cpu, String(child.pid)], { stdio: 'ignore' })
  }
  return child
}

async function reply(child: ChildProcess): Promise<FromNode> {
  const [message] = (await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`a benchmark node exited early (code ${String(code)})`)
    })
  ])) as [FromNode]
  if (message.type === 'error') throw new Error(message.error)
  return message
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  const exited = once(child, 'exit')
  child.send({ type: 'stop' } satisfies ToNode)
  await exited
}

export interface PairRun {
  kind: MetricsKind
  /** Sent untimed first, on the same connection. */
  warmup: Workload[]
  workloads: Workload[]
  scrapesPerSecond: number
  pin?: Pinning
  /** Measure the idle sender's background work and scrape cost after the workloads (`IdleCosts`). */
  idleProbe?: IdleProbe
}

export interface PairResult {
  results: TransferResult[]
  idle?: IdleCosts
}

/** A fresh pair of processes: the sender dials the receiver and runs the workloads; both stop after. */
export async function runPair(run: PairRun): Promise<PairResult> {
  const receiver = start('receiver', run.kind, run.pin)
  const sender = start('sender', run.kind, run.pin)
  try {
    const ready = (await reply(receiver)) as { addr: string }
    await reply(sender)
    sender.send({
      type: 'send',
      addr: ready.addr,
      warmup: run.warmup,
      workloads: run.workloads,
      scrapesPerSecond: run.scrapesPerSecond,
      idleProbe: run.idleProbe
    } satisfies ToNode)
    const { results, idle } = (await reply(sender)) as PairResult
    return idle === undefined ? { results } : { results, idle }
  } finally {
    await Promise.all([stop(sender), stop(receiver)])
  }
}
