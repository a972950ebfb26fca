// Another version of this package's source, for a benchmark to run beside the working tree's in the same run
// (before/after on the same machine at the same time): `git archive <ref>` of packages/metrics/src and
// packages/metric-map/src into a temporary directory, with the dependencies of today's packages linked in and
// the metric-map import pointed at that version's own copy.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const PACKAGES = join(ROOT, 'packages')

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)]
  )
}

/** Extracts `ref`'s sources; returns the directory holding `packages/` and a function that removes it. */
export function baselineSource(ref: string): { dir: string; remove(): void } {
  const archive = spawnSync('git', ['archive', ref, 'packages/metrics/src', 'packages/metric-map/src'], {
    cwd: ROOT,
    maxBuffer: 256 * 2 ** 20
  })
  if (archive.status !== 0) {
    throw new Error(`BENCH_BASELINE_REF=${ref}: git archive failed: ${archive.stderr.toString().trim()}`)
  }
  const dir = mkdtempSync(join(tmpdir(), 'peerscope-baseline-'))
  const remove = () => rmSync(dir, { recursive: true, force: true })
  try {
    const untar = spawnSync('tar', ['-x', '-C', dir], { input: archive.stdout })
    if (untar.status !== 0) throw new Error(`tar failed: ${untar.stderr.toString().trim()}`)
    for (const name of ['metrics', 'metric-map']) {
      symlinkSync(join(PACKAGES, name, 'node_modules'), join(dir, 'packages', name, 'node_modules'))
    }
    const metricMap = join(dir, 'packages/metric-map/src/index.ts')
    for (const file of filesUnder(join(dir, 'packages/metrics/src'))) {
      const text = readFileSync(file, 'utf8')
      const local = `./${relative(dirname(file), metricMap)}`
      if (text.includes("'@peerscope/metric-map'"))
        writeFileSync(file, text.replaceAll("'@peerscope/metric-map'", `'${local}'`))
    }
    return { dir, remove }
  } catch (err) {
    remove()
    throw err
  }
}
