// Runs the `peerscope` command as a user would: its own process, from the package's bin (the source of it, under
// the source condition, as everything in the tests runs).
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const BIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))

export interface RunOptions {
  env?: Record<string, string>
  /** Run as this user (the tests use it as root to be an unprivileged user). */
  uid?: number
  gid?: number
}

export interface CliResult {
  code: number | null
  out: string
  err: string
}

function start(args: string[], options: RunOptions): ChildProcess {
  const env = { ...process.env, ...options.env }
  // The runner's own test flags must not reach the child.
  delete env.NODE_TEST_CONTEXT
  return spawn(process.execPath, ['--conditions=@peerscope/source', BIN, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.gid ?? options.uid })
  })
}

/** `peerscope <args>` until it exits. */
export function peerscope(args: string[], options: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = start(args, options)
    let out = ''
    let err = ''
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
    })
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, out, err }))
  })
}

export interface Served {
  url: string
  /** What it printed on stderr so far (warnings). */
  stderr(): string
  /** SIGTERM, then its exit code. */
  stop(): Promise<number | null>
}

/** `peerscope serve <args>` until it prints its URL. */
export function serve(args: string[], options: RunOptions = {}): Promise<Served> {
  const child = start(['serve', ...args], options)
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  let out = ''
  let err = ''
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk
  })
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
      const url = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1]
      if (url !== undefined) {
        resolve({
          url,
          stderr: () => err,
          stop: async () => {
            child.kill('SIGTERM')
            return exited
          }
        })
      }
    })
    void exited.then((code) => reject(new Error(`serve exited (${code}) before serving: ${out}${err}`)))
  })
}

/** Every line of a failed command's stderr that is not a warning is one `CODE: message` line. */
export function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line !== '' && !line.startsWith('warning: '))
}
