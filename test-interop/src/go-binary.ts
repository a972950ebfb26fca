import { execFile, execFileSync, spawnSync } from 'node:child_process'
import { readFileSync, renameSync } from 'node:fs'
import { join } from 'node:path'

const goDir = new URL('../go/', import.meta.url).pathname
const binaryPath = join(goDir, 'bin', 'interop')

/** The Go version go/go.mod asks for (go-libp2p v0.52.0 needs 1.26.0). */
export const GO_NEEDED =
  /^go (\d+\.\d+(?:\.\d+)?)$/m.exec(readFileSync(join(goDir, 'go.mod'), 'utf8'))?.[1] ?? '1.26.0'

/**
 * The go command's environment: unless GOTOOLCHAIN is set, `auto`, so a go >= 1.21 older than go.mod asks
 * fetches that toolchain through the Go module proxy (a machine's go.env may say `local`).
 */
const goEnv = { ...process.env, GOTOOLCHAIN: process.env.GOTOOLCHAIN ?? 'auto' }

/** Thrown when Go is required (CI=true) but missing or too old to fetch the toolchain go.mod asks for. */
export class GoMissingError extends Error {
  readonly code = 'ERR_GO_MISSING'
  constructor(detail: string) {
    super(
      `${detail}; the go-libp2p interop tests need Go >= ${GO_NEEDED}: install Go >= 1.21 (e.g. apt-get install golang-go), whose go command fetches go${GO_NEEDED} through the Go module proxy (script/setup-test-deps does it once)`
    )
    this.name = 'GoMissingError'
  }
}

/** Why Go-backed tests should be skipped, or undefined when Go is usable. */
export function goSkipReason(): string | undefined {
  const probe = spawnSync('go', ['env', 'GOVERSION'], {
    encoding: 'utf8',
    env: { ...process.env, GOTOOLCHAIN: 'local' }
  })
  let problem: string | undefined
  if (probe.status !== 0) problem = 'go is not installed'
  else {
    const [major = 0, minor = 0] = probe.stdout.trim().replace(/^go/, '').split('.').map(Number)
    if (major < 1 || (major === 1 && minor < 21))
      problem = `go ${probe.stdout.trim()} cannot fetch a newer toolchain`
  }
  if (problem === undefined) return undefined
  if (process.env.CI === 'true') throw new GoMissingError(problem)
  return `${problem}; skipping the go-libp2p interop comparison (needs Go >= 1.21, which fetches go${GO_NEEDED})`
}

let built = false

/** Builds the Go program once per process into go/bin/ and returns its path. */
export function buildGoBinary(): string {
  if (!built) {
    // Test files run in parallel processes: build aside, then rename atomically.
    const staging = `${binaryPath}.${process.pid}`
    execFileSync('go', ['build', '-o', staging, '.'], { cwd: goDir, stdio: 'pipe', env: goEnv })
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
export function runGoTraceAsync(
  mode: 'peerstore-trace' | 'bandwidth-trace',
  trace: unknown
): Promise<unknown> {
  const binary = buildGoBinary()
  return new Promise((resolve, reject) => {
    const child = execFile(
      binary,
      [mode],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      (err, stdout) => {
        if (err != null) reject(err)
        else resolve(JSON.parse(stdout))
      }
    )
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
