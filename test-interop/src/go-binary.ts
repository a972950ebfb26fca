import { execFile, execFileSync, spawnSync } from 'node:child_process'
import { renameSync } from 'node:fs'
import { join } from 'node:path'

const goDir = new URL('../go/', import.meta.url).pathname
const binaryPath = join(goDir, 'bin', 'interop')

/** Thrown when Go is required (CI=true) but not installed. */
export class GoMissingError extends Error {
  readonly code = 'ERR_GO_MISSING'
  constructor() {
    super('go is not on PATH; the interop comparison needs Go >= 1.25.7')
    this.name = 'GoMissingError'
  }
}

/** Why Go-backed tests should be skipped, or undefined when Go is usable. */
export function goSkipReason(): string | undefined {
  const probe = spawnSync('go', ['version'], { encoding: 'utf8' })
  if (probe.status === 0) return undefined
  if (process.env.CI === 'true') throw new GoMissingError()
  return 'go is not installed; skipping go-libp2p interop comparison'
}

let built = false

/** Builds the Go program once per process into go/bin/ and returns its path. */
export function buildGoBinary(): string {
  if (!built) {
    // Test files run in parallel processes: build aside, then rename atomically.
    const staging = `${binaryPath}.${process.pid}`
    execFileSync('go', ['build', '-o', staging, '.'], { cwd: goDir, stdio: 'pipe' })
    renameSync(staging, binaryPath)
    built = true
  }
  return binaryPath
}

/** Plays many peerstore traces in one Go process; one result list per trace. */
export function runGoPeerstoreTraces(traces: readonly unknown[]): unknown[][] {
  const out = execFileSync(buildGoBinary(), ['peerstore-trace'], {
    input: traces.map((t) => JSON.stringify(t)).join('\n'),
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024
  })
  return out
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as unknown[])
}

/** As `runGoPeerstoreTraces`, without blocking the event loop (so peerscope can play meanwhile). */
export function runGoPeerstoreTracesAsync(traces: readonly unknown[]): Promise<unknown[][]> {
  const binary = buildGoBinary()
  return new Promise((resolve, reject) => {
    const child = execFile(
      binary,
      ['peerstore-trace'],
      { encoding: 'utf8', maxBuffer: 1024 * 1024 * 1024 },
      (err, stdout) => {
        if (err != null) reject(err)
        else
          resolve(
            stdout
              .trim()
              .split('\n')
              .map((line) => JSON.parse(line) as unknown[])
          )
      }
    )
    child.stdin?.end(traces.map((t) => JSON.stringify(t)).join('\n'))
  })
}

/** As `runGoTrace`, in a child process that does not block the event loop. */
export function runGoTraceAsync(mode: 'peerstore-trace' | 'bandwidth-trace', trace: unknown): Promise<unknown> {
  const binary = buildGoBinary()
  return new Promise((resolve, reject) => {
    const child = execFile(binary, [mode], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => {
      if (err != null) reject(err)
      else resolve(JSON.parse(stdout))
    })
    child.stdin?.end(JSON.stringify(trace))
  })
}

/** Runs one trace through a mode of the Go program and returns its parsed output. */
export function runGoTrace(mode: 'peerstore-trace' | 'bandwidth-trace', trace: unknown): unknown {
  const out = execFileSync(buildGoBinary(), [mode], {
    input: JSON.stringify(trace),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024
  })
  return JSON.parse(out)
}
