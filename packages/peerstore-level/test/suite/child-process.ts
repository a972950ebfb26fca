// Running a test's driver script in a child Node process, for tests that measure heap after a full GC or that kill
// the writer; the child runs the TypeScript sources like the parent does.
import { spawn } from 'node:child_process'

export interface ChildExit {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs `script` with `args` in a child Node with the source condition; settles once it has ended and its output is read. */
export function runScript(script: string, args: string[], nodeFlags: string[] = []): Promise<ChildExit> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [...nodeFlags, '--conditions=@peerscope/source', script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    proc.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    proc.on('error', reject)
    // `close`, not `exit`: only then has all of the child's output been read (an acknowledgement still in the pipe
    // when the child was killed counts).
    proc.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
}

/**
 * Runs a driver that takes its options as JSON and prints its report as JSON, with --expose-gc so it can measure
 * heap after a full GC; rejects naming `driver` when it exits non-zero.
 */
export async function runJsonDriver<Report>(
  driver: string,
  script: string,
  options: unknown
): Promise<Report> {
  const { code, stdout, stderr } = await runScript(script, [JSON.stringify(options)], ['--expose-gc'])
  if (code !== 0) throw new Error(`${driver} driver exited with ${code}\n${stderr}`)
  return JSON.parse(stdout) as Report
}
