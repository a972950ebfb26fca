// A measurement in a fresh Node process (its own heap, timers and GC): the script prints one JSON line last.
import { spawnSync } from 'node:child_process'

/** Runs `script` with `args` under the source condition and returns the JSON of its last stdout line. */
export function runJsonChild<T>(script: string, args: string[], what: string): T {
  const run = spawnSync(process.execPath, ['--conditions=@peerscope/source', script, ...args], {
    encoding: 'utf8',
    env: process.env
  })
  const line = run.stdout.trim().split('\n').pop() ?? ''
  if (run.status !== 0 || !line.startsWith('{'))
    throw new Error(`${what} failed: ${run.stderr || run.stdout}`)
  return JSON.parse(line) as T
}
