import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { createInterface, type Interface } from 'node:readline'
import { buildGoBinary } from './go-binary.ts'

/** A Go node command answered with `{ "error" }`, or the Go process gone before it answered. */
export class GoNodeError extends Error {
  readonly code: 'ERR_GO_COMMAND' | 'ERR_GO_EXITED'
  constructor(code: 'ERR_GO_COMMAND' | 'ERR_GO_EXITED', message: string) {
    super(message)
    this.name = 'GoNodeError'
    this.code = code
  }
}

export interface GoPeerView {
  addrs: string[]
  connected: boolean
  protocols: string[]
  /** Base64 of the protobuf-marshalled public key; empty when go holds none. */
  publicKey: string
}

export interface GoStats {
  totalIn: number
  totalOut: number
}

export interface GoBandwidth {
  totals: GoStats
  byPeer: Record<string, GoStats>
  byProtocol: Record<string, GoStats>
}

/** Byte i of every echo payload is i mod 251, the same pattern as the Go program's. */
export function echoPattern(n: number): Uint8Array {
  const bytes = new Uint8Array(n)
  for (let i = 0; i < n; i++) bytes[i] = i % 251
  return bytes
}

/**
 * The go-libp2p host of `interop node`, driven over its stdin/stdout: one JSON command, one JSON answer, in
 * order. `close()` kills the process whatever state it is in.
 */
export class GoNode {
  readonly id: string
  readonly addrs: string[]
  readonly #child: ChildProcessWithoutNullStreams
  readonly #lines: AsyncIterator<string>
  readonly #reader: Interface
  #queue: Promise<unknown> = Promise.resolve()

  private constructor(
    child: ChildProcessWithoutNullStreams,
    reader: Interface,
    lines: AsyncIterator<string>,
    hello: { id: string; addrs: string[] }
  ) {
    this.#child = child
    this.#reader = reader
    this.#lines = lines
    this.id = hello.id
    this.addrs = hello.addrs
  }

  static async start(): Promise<GoNode> {
    const child = spawn(buildGoBinary(), ['node'], { stdio: ['pipe', 'pipe', 'pipe'] })
    const stderr: string[] = []
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk))
    const reader = createInterface({ input: child.stdout })
    const lines = reader[Symbol.asyncIterator]()
    const first = await lines.next()
    if (first.done === true) {
      child.kill('SIGKILL')
      throw new GoNodeError('ERR_GO_EXITED', `go node exited before starting: ${stderr.join('')}`)
    }
    return new GoNode(child, reader, lines, JSON.parse(first.value) as { id: string; addrs: string[] })
  }

  /** Sends one command and resolves with its answer; commands run one at a time, in call order. */
  command<T>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    const run = this.#queue.then(async () => {
      this.#child.stdin.write(`${JSON.stringify({ cmd, ...args })}\n`)
      const line = await this.#lines.next()
      if (line.done === true) throw new GoNodeError('ERR_GO_EXITED', `go node exited during ${cmd}`)
      const answer = JSON.parse(line.value) as T & { error?: string }
      if (typeof answer.error === 'string') throw new GoNodeError('ERR_GO_COMMAND', `${cmd}: ${answer.error}`)
      return answer as T
    })
    this.#queue = run.catch(() => {})
    return run
  }

  connect(addr: string): Promise<{ peer: string }> {
    return this.command('connect', { addr })
  }

  echo(peer: string, bytes: number): Promise<{ bytes: number }> {
    return this.command('echo', { peer, bytes })
  }

  ping(peer: string): Promise<{ rttMs: number }> {
    return this.command('ping', { peer })
  }

  /**
   * go's ping.Ping for `count` round trips: each RTT and go's LatencyEWMA for the peer before and after, in
   * ns (go records every RTT it delivers, so the EWMA after is go's for exactly these samples).
   */
  pings(peer: string, count: number): Promise<{ rttNs: number[]; ewmaBeforeNs: number; ewmaNs: number }> {
    return this.command('pings', { peer, count })
  }

  peerstore(peer: string): Promise<GoPeerView> {
    return this.command('peerstore', { peer })
  }

  /** Waits past one go-flow-metrics sweep (1 s) on the Go side before reading. */
  bandwidth(): Promise<GoBandwidth> {
    return this.command('bandwidth')
  }

  disconnect(peer: string): Promise<{ ok: boolean }> {
    return this.command('disconnect', { peer })
  }

  /** Kills the process (no graceful quit to wait on) and waits for it to exit. */
  async close(): Promise<void> {
    this.#reader.close()
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()))
    this.#child.kill('SIGKILL')
    await exited
  }
}
