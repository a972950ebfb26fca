// The Go side of the scaling benchmark: go/ is our own Go module (go-libp2p v0.52.0, the version test-interop pins),
// built once per run into go/bin/ and run once per measurement, so Go's heap is its own each time.
import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync, renameSync } from 'node:fs'
import { join } from 'node:path'

const goDir = new URL('./go/', import.meta.url).pathname
const binaryPath = join(goDir, 'bin', 'pstore-scale')

/** The Go version go/go.mod asks for. */
const GO_NEEDED =
  /^go (\d+\.\d+(?:\.\d+)?)$/m.exec(readFileSync(join(goDir, 'go.mod'), 'utf8'))?.[1] ?? '1.26.0'

/**
 * As test-interop: unless GOTOOLCHAIN is set, `auto`, so a go >= 1.21 older than go.mod asks fetches that
 * toolchain through the Go module proxy (a machine's go.env may say `local`).
 */
const goEnv = { ...process.env, GOTOOLCHAIN: process.env.GOTOOLCHAIN ?? 'auto' }

/** Why the Go side cannot run here, or undefined when it can. */
export function goMissing(): string | undefined {
  const probe = spawnSync('go', ['env', 'GOVERSION'], {
    encoding: 'utf8',
    env: { ...process.env, GOTOOLCHAIN: 'local' }
  })
  if (probe.status !== 0) return `go is not installed (needs Go >= 1.21, which fetches go${GO_NEEDED})`
  const [major = 0, minor = 0] = probe.stdout.trim().replace(/^go/, '').split('.').map(Number)
  if (major < 1 || (major === 1 && minor < 21)) {
    return `go ${probe.stdout.trim()} cannot fetch go${GO_NEEDED}; install Go >= 1.21`
  }
  return undefined
}

let built = false

/**
 * Builds the program (once per process). pstoremem's GC is an unexported method the program reaches by name, which
 * Go's linker allows with -checklinkname=0.
 */
export function buildGoProgram(): string {
  if (!built) {
    const staging = `${binaryPath}.${process.pid}`
    execFileSync('go', ['build', '-ldflags=-checklinkname=0', '-o', staging, '.'], {
      cwd: goDir,
      stdio: 'pipe',
      env: goEnv
    })
    renameSync(staging, binaryPath)
    built = true
  }
  return binaryPath
}

/** Runs one mode of the program; its JSON lines, parsed. */
export function runGoProgram(args: readonly string[]): Array<Record<string, number | string>> {
  const out = execFileSync(buildGoProgram(), args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  return out
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, number | string>)
}
