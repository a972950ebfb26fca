// `pnpm lint:packages`: what `pnpm lint` checks of the packages as they would be published. Every publishable
// package (packages/*) is packed by pnpm, as `changeset publish` packs it, and the tarball is checked:
//   - its package.json: the repository (one URL, the root package.json's, with the package's `directory`),
//     homepage, bugs and licence agree with the root; no `@peerscope/source` condition in its exports and no
//     `workspace:` range is left; every export has `types`, `import` and `default`; `./package.json` is exported;
//   - its files: the licence texts (LICENSE, LICENSE-APACHE, LICENSE-MIT, identical to the root's), the README,
//     what `exports` and `bin` name; no source map, no src/ or test/; no dist file without a source file
//     (a stale build);
//   - publint (strict: warnings fail) and @arethetypeswrong/cli (node16 and bundler resolution; Node 24's
//     require(esm) makes a require of these ESM-only packages work, so the CJS-resolves-to-ESM rule is off; the
//     consumer test requires every package to prove it);
// and the release is rehearsed without a registry: `changeset version` on a copy of the manifests and changesets
// (every pending changeset parses and bumps), then `pnpm -r publish --dry-run` (every package and file
// `changeset publish` would upload). Prints what it checked and how long it took; exits 1 on any problem.
import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import { publint } from 'publint'
import { formatMessage } from 'publint/utils'

const started = performance.now()
const rootDir = join(import.meta.dirname, '..')
const bin = (name: string): string => join(rootDir, 'node_modules', '.bin', name)
type Json = Record<string, unknown>
const readJson = (file: string): Json => JSON.parse(readFileSync(file, 'utf8')) as Json

// The one place the project's repository is named: the root package.json.
const rootManifest = readJson(join(rootDir, 'package.json'))
const repository = rootManifest.repository as { type: string; url: string }
const web = repository.url.replace(/^git\+/, '').replace(/\.git$/, '')
const bugs = rootManifest.bugs as { url: string }
const LICENCE_FILES = ['LICENSE', 'LICENSE-APACHE', 'LICENSE-MIT']
const SOURCE_CONDITION = '@peerscope/source'

const problems: string[] = []
const problem = (pkg: string, text: string): number => problems.push(`${pkg}: ${text}`)

const packages = readdirSync(join(rootDir, 'packages'))
  .map((dir) => ({ dir, manifest: readJson(join(rootDir, 'packages', dir, 'package.json')) }))
  .filter(({ manifest }) => manifest.private !== true)

/** `exports` without the source condition: what `publishConfig.exports` must be. */
function withoutSource(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => key !== SOURCE_CONDITION)
      .map(([key, inner]) => [key, withoutSource(inner)])
  )
}

/** Every conditions object in an exports map that resolves to files (not the subpath map itself). */
function targets(exportsMap: Json): Array<{ where: string; conditions: Json | string }> {
  const found: Array<{ where: string; conditions: Json | string }> = []
  const walk = (where: string, value: unknown): void => {
    if (typeof value === 'string') return void found.push({ where, conditions: value })
    const entries = Object.entries(value as Json)
    const nested = entries.filter(([, v]) => typeof v === 'object' && v !== null)
    for (const [key, inner] of nested) walk(`${where}.${key}`, inner)
    if (entries.some(([, v]) => typeof v === 'string')) found.push({ where, conditions: value as Json })
  }
  for (const [subpath, value] of Object.entries(exportsMap)) walk(`exports["${subpath}"]`, value)
  return found
}

function checkManifest(name: string, dir: string, packed: Json, files: Set<string>): void {
  const expected: Array<[string, unknown, unknown]> = [
    ['repository', packed.repository, { ...repository, directory: `packages/${dir}` }],
    ['homepage', packed.homepage, `${web}/tree/main/packages/${dir}#readme`],
    ['bugs', packed.bugs, bugs],
    ['license', packed.license, rootManifest.license],
    ['engines', packed.engines, rootManifest.engines],
    ['type', packed.type, 'module']
  ]
  for (const [field, actual, want] of expected) {
    if (!isDeepStrictEqual(actual, want)) {
      problem(name, `${field} is ${JSON.stringify(actual)}, expected ${JSON.stringify(want)}`)
    }
  }
  // (Its `scripts` may name the condition: they are the repository's development commands, resolved by nothing.)
  const resolved = JSON.stringify([packed.exports, packed.imports, packed.main, packed.types, packed.bin])
  if (resolved.includes(SOURCE_CONDITION)) problem(name, `the published exports name ${SOURCE_CONDITION}`)
  if (JSON.stringify(packed).includes('"workspace:'))
    problem(name, 'the published package.json keeps a workspace: range')
  const publishConfig = (packed.publishConfig ?? {}) as Json
  if (publishConfig.access !== 'public' || publishConfig.provenance !== true) {
    problem(name, 'publishConfig must have access "public" and provenance true')
  }
  const exportsMap = packed.exports as Json | undefined
  if (exportsMap === undefined) return void problem(name, 'has no exports')
  if (exportsMap['./package.json'] !== './package.json') problem(name, 'does not export ./package.json')
  for (const { where, conditions } of targets(exportsMap)) {
    if (typeof conditions === 'string') {
      if (!files.has(conditions.replace(/^\.\//, '')))
        problem(name, `${where} names ${conditions}, not packed`)
      continue
    }
    const keys = Object.keys(conditions)
    for (const key of ['types', 'import', 'default']) {
      if (!keys.includes(key)) problem(name, `${where} has no "${key}" condition`)
    }
    // After a platform condition (`node`) that has its own `types`, but before what it types.
    if (keys.indexOf('types') > keys.indexOf('import'))
      problem(name, `${where}: "types" must precede "import"`)
    if (keys.at(-1) !== 'default') problem(name, `${where}: "default" must come last`)
    for (const target of Object.values(conditions)) {
      if (typeof target === 'string' && !files.has(target.replace(/^\.\//, ''))) {
        problem(name, `${where} names ${target}, which is not in the tarball`)
      }
    }
  }
  for (const target of Object.values((packed.bin ?? {}) as Json)) {
    if (!files.has(String(target).replace(/^\.\//, ''))) problem(name, `bin ${target} is not in the tarball`)
  }
}

function checkFiles(name: string, dir: string, unpacked: string, files: Set<string>): void {
  for (const licence of LICENCE_FILES) {
    if (!files.has(licence)) problem(name, `${licence} is not in the tarball`)
    else if (!readFileSync(join(unpacked, licence)).equals(readFileSync(join(rootDir, licence)))) {
      problem(name, `${licence} differs from the root's`)
    }
  }
  if (!files.has('README.md')) problem(name, 'README.md is not in the tarball')
  for (const file of files) {
    if (file.endsWith('.map')) problem(name, `${file}: a source map (it would point at unpublished sources)`)
    if (/^(src|test|bench)\//.test(file)) problem(name, `${file}: sources and tests are not published`)
    const source = /^dist\/(.*)\.(?:d\.ts|js)$/.exec(file)?.[1]
    if (source !== undefined && !existsSync(join(rootDir, 'packages', dir, 'src', `${source}.ts`))) {
      problem(name, `${file} has no source file: a stale build (run pnpm build)`)
    }
  }
}

const work = mkdtempSync(join(tmpdir(), 'peerscope-check-packages-'))
try {
  for (const { dir, manifest } of packages) {
    const name = String(manifest.name)
    const publishConfig = (manifest.publishConfig ?? {}) as Json
    if (!isDeepStrictEqual(publishConfig.exports, withoutSource(manifest.exports))) {
      problem(name, `publishConfig.exports must be exports without the ${SOURCE_CONDITION} condition`)
    }
    const out = join(work, dir)
    mkdirSync(out)
    execFileSync('pnpm', ['pack', '--pack-destination', out], {
      cwd: join(rootDir, 'packages', dir),
      stdio: ['ignore', 'ignore', 'inherit']
    })
    const tarball = join(out, readdirSync(out).find((f) => f.endsWith('.tgz')) ?? 'missing.tgz')
    execFileSync('tar', ['-xzf', tarball, '-C', out])
    const unpacked = join(out, 'package')
    const files = new Set(
      readdirSync(unpacked, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => relative(unpacked, join(entry.parentPath, entry.name)))
    )
    checkManifest(name, dir, readJson(join(unpacked, 'package.json')), files)
    checkFiles(name, dir, unpacked, files)

    const bytes = readFileSync(tarball)
    const lint = await publint({ pack: { tarball: new Uint8Array(bytes).buffer }, strict: true })
    for (const message of lint.messages) {
      const text = formatMessage(message, lint.pkg, { color: false }) ?? message.code
      if (message.type === 'suggestion') console.log(`${name}: publint suggests: ${text}`)
      else problem(name, `publint ${message.type}: ${text}`)
    }
    const attw = spawnSync(
      bin('attw'),
      [tarball, '--profile', 'node16', '--ignore-rules', 'cjs-resolves-to-esm', '--format', 'ascii'],
      { encoding: 'utf8' }
    )
    if (attw.status !== 0) problem(name, `@arethetypeswrong/cli:\n${attw.stdout}${attw.stderr}`)
    console.log(`${name}: ${files.size} files, ${(bytes.length / 1024).toFixed(1)} KiB packed`)
  }

  // The release, rehearsed: `changeset version` on a copy of the manifests and pending changesets.
  const copy = join(work, 'version')
  for (const file of ['package.json', 'pnpm-workspace.yaml', '.changeset']) {
    cpSync(join(rootDir, file), join(copy, file), { recursive: true })
  }
  const workspaceDirs = ['packages', 'examples'].flatMap((parent) =>
    readdirSync(join(rootDir, parent)).map((dir) => join(parent, dir))
  )
  for (const dir of [...workspaceDirs, 'test-interop']) {
    cpSync(join(rootDir, dir, 'package.json'), join(copy, dir, 'package.json'))
  }
  const version = spawnSync(bin('changeset'), ['version'], { cwd: copy, encoding: 'utf8' })
  if (version.status !== 0) problems.push(`changeset version failed:\n${version.stdout}${version.stderr}`)
  const pending = readdirSync(join(rootDir, '.changeset')).filter(
    (f) => f.endsWith('.md') && f !== 'README.md'
  )
  for (const { dir, manifest } of packages) {
    const bumped = readJson(join(copy, 'packages', dir, 'package.json'))
    const changelog = existsSync(join(copy, 'packages', dir, 'CHANGELOG.md'))
    console.log(`changeset version: ${manifest.name} ${manifest.version} -> ${bumped.version}`)
    if (pending.length > 0 && bumped.version === manifest.version && !changelog) {
      console.log(`  (no pending changeset for ${manifest.name})`)
    }
  }

  // The release workflow runs root scripts that must exist, with the permission provenance needs.
  const workflow = readFileSync(join(rootDir, '.github', 'workflows', 'release.yml'), 'utf8')
  const scripts = rootManifest.scripts as Record<string, string>
  for (const step of ['version', 'publish']) {
    const script = new RegExp(`^\\s+${step}: pnpm run (\\S+)$`, 'm').exec(workflow)?.[1]
    if (script === undefined || scripts[script] === undefined) {
      problems.push(`.github/workflows/release.yml: its ${step} step runs no root script (${script})`)
    }
  }
  if (!/^\s+id-token: write/m.test(workflow))
    problems.push('release.yml lacks id-token: write (npm provenance)')

  // `changeset publish` runs `pnpm publish` for each package: the same, without the upload.
  const publish = spawnSync('pnpm', ['-r', 'publish', '--dry-run', '--no-git-checks', '--json'], {
    cwd: rootDir,
    encoding: 'utf8'
  })
  if (publish.status !== 0) problems.push(`pnpm -r publish --dry-run failed:\n${publish.stderr}`)
  else {
    const published = JSON.parse(publish.stdout) as Array<{ name: string; files: Array<{ path: string }> }>
    const names = published.map((p) => p.name).sort()
    const expected = packages.map((p) => String(p.manifest.name)).sort()
    if (!isDeepStrictEqual(names, expected)) {
      problems.push(
        `pnpm -r publish --dry-run would publish ${names.join(', ')}; expected ${expected.join(', ')}`
      )
    }
    for (const p of published) {
      const paths = new Set(p.files.map((f) => f.path))
      for (const file of [...LICENCE_FILES, 'README.md', 'package.json']) {
        if (!paths.has(file)) problem(p.name, `pnpm publish --dry-run would not upload ${file}`)
      }
    }
    console.log(`pnpm -r publish --dry-run: ${names.join(', ')}`)
  }
} finally {
  rmSync(work, { recursive: true, force: true })
}

const seconds = ((performance.now() - started) / 1000).toFixed(1)
if (problems.length > 0) {
  console.error(`\ncheck-packages: ${problems.length} problem(s) in ${seconds} s:`)
  for (const p of problems) console.error(`- ${p}`)
  process.exit(1)
}
console.log(`check-packages: ${packages.length} packages publish cleanly (${seconds} s)`)
