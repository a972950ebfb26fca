// The packages as a user gets them: every publishable package is packed (pnpm pack, as `changeset publish` packs
// it) and installed with npm into a fresh project in the temp directory, outside the workspace, with the libp2p
// stack at the versions the workspace locks (test-consumer/package.json; npm honours the workspace's
// minimumReleaseAge through --before). Then, in that project:
//   - require() of every entry from CommonJS (Node's require(esm));
//   - every package README's example, taken from the README as it is, and run; the TypeScript ones (metrics,
//     swarm-adapter) type-checked by tsc (NodeNext, strict), and every entry's declaration files checked by tsc
//     with skipLibCheck off;
//   - the browser-safe entries (metric-map, metrics, peerstore-level) bundled by esbuild for the browser: any
//     `node:` module or Node built-in reached fails the build; then the bundles run in Chromium (peerstore-level
//     on memory-level and on IndexedDB through browser-level);
//   - the `peerscope` CLI from the installed bin, and an optional peer dependency left out (datastore-level)
//     failing with the package to install.
// The first run downloads the stack into npm's cache (about a minute); later runs install from the cache.
import assert from 'node:assert/strict'
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import { build } from 'esbuild'
import { Level } from 'level'
import { chromium } from 'playwright-core'

const run = promisify(execFile)
const root = join(import.meta.dirname, '..')
const fixtures = join(import.meta.dirname, 'fixtures')
const started = performance.now()
const seconds = (since: number): string => `${((performance.now() - since) / 1000).toFixed(1)} s`
const CHROMIUM = process.env.PEERSCOPE_CHROMIUM ?? '/usr/bin/chromium'

const PUBLISHED = ['metric-map', 'metrics', 'leveldb-mend', 'peerstore-level', 'swarm-adapter']
const BROWSER_SAFE = ['metric-map', 'metrics', 'peerstore-level']
/** What the consumer installs besides our tarballs: test-consumer's own devDependencies, minus its tools. */
const TOOLS = new Set(['esbuild', 'playwright-core', 'typescript'])

let project: string
let tarballs: string

/** The versions the workspace's lockfile gives test-consumer's devDependencies. */
async function lockedVersions(): Promise<Record<string, string>> {
  const { stdout } = await run(
    'pnpm',
    ['list', '--json', '--depth', '0', '--filter', '@peerscope/test-consumer'],
    { cwd: root }
  )
  const [importer] = JSON.parse(stdout) as Array<{ devDependencies: Record<string, { version: string }> }>
  return Object.fromEntries(
    Object.entries(importer!.devDependencies)
      .filter(([name]) => !TOOLS.has(name))
      .map(([name, { version }]) => [name, version])
  )
}

/** The workspace's supply-chain rule, for npm: only versions public for `minimumReleaseAge` minutes. */
async function before_(): Promise<string> {
  const workspace = await readFile(join(root, 'pnpm-workspace.yaml'), 'utf8')
  const minutes = Number(/^minimumReleaseAge:\s*(\d+)/m.exec(workspace)?.[1] ?? 0)
  return new Date(Date.now() - minutes * 60_000).toISOString()
}

before(async () => {
  for (const name of PUBLISHED) {
    assert.ok(
      existsSync(join(root, 'packages', name, 'dist', 'index.js')),
      `packages/${name} is built (run script/bootstrap or pnpm build first)`
    )
  }
  const dir = await mkdtemp(join(tmpdir(), 'peerscope-consumer-'))
  tarballs = join(dir, 'tarballs')
  project = join(dir, 'project')
  await mkdir(tarballs)
  await mkdir(project)

  let since = performance.now()
  const ours: Record<string, string> = {}
  for (const name of PUBLISHED) {
    const { stdout } = await run('pnpm', ['pack', '--pack-destination', tarballs], {
      cwd: join(root, 'packages', name)
    })
    const file = stdout.trim().split('\n').at(-1)!.split('/').at(-1)!
    ours[`@peerscope/${name}`] = `file:${join(tarballs, file)}`
  }
  console.log(`# packed ${PUBLISHED.length} packages in ${seconds(since)}`)

  const manifest = {
    name: 'peerscope-consumer',
    private: true,
    type: 'module',
    dependencies: { ...ours, ...(await lockedVersions()) },
    // Our packages depend on each other by version: the tarballs, never a registry package of the same name.
    overrides: ours
  }
  await writeFile(join(project, 'package.json'), JSON.stringify(manifest, null, 2))
  await cp(join(fixtures, 'tsconfig.json'), join(project, 'tsconfig.json'))
  since = performance.now()
  await run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--ignore-scripts', // as the workspace: no install script runs (classic-level and snappy ship prebuilds)
      `--before=${await before_()}`,
      '--loglevel=error'
    ],
    { cwd: project, timeout: 8 * 60_000, maxBuffer: 16 * 1024 * 1024 }
  )
  console.log(`# npm install in ${seconds(since)}`)
  // datastore-level is an optional peer dependency of the swarm-adapter: this project does not install it.
  assert.equal(existsSync(join(project, 'node_modules', 'datastore-level')), false)
})

after(async () => {
  if (project !== undefined) await rm(join(project, '..'), { recursive: true, force: true })
  console.log(`# consumer test: ${seconds(started)} in all`)
})

const node = (args: string[], timeout = 60_000) =>
  run(process.execPath, args, { cwd: project, timeout, maxBuffer: 16 * 1024 * 1024 })

test('every entry loads with require() from CommonJS (Node require(esm))', async () => {
  await cp(join(fixtures, 'require.cjs'), join(project, 'require.cjs'))
  const { stdout } = await node(['require.cjs'])
  assert.match(stdout, /^require\('@peerscope\/swarm-adapter'\): peerscope/m)
  assert.match(stdout, /^require\(package\.json\): every package$/m)
})

/** The first fenced block of `lang` after `heading` in a package's README, as the README has it. */
async function readmeExample(pkg: string, heading: string, lang: 'js' | 'ts'): Promise<string> {
  const readme = await readFile(join(root, 'packages', pkg, 'README.md'), 'utf8')
  const at = readme.indexOf(`\n${heading}\n`)
  assert.ok(at >= 0, `packages/${pkg}/README.md has "${heading}"`)
  const block = new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``).exec(readme.slice(at))?.[1]
  assert.ok(block, `packages/${pkg}/README.md has a ${lang} block under "${heading}"`)
  return block
}

describe('the README examples, type-checked and run', () => {
  // [package, heading, language, file name, what its output shows]
  const examples: Array<[string, string, 'js' | 'ts', string, RegExp]> = [
    ['metric-map', '## Example', 'js', 'metric-map.mjs', /^local 612$/m],
    ['leveldb-mend', '## Example', 'js', 'leveldb-mend.mjs', /^\d+ of 20000 records read/m],
    ['peerstore-level', '## Example', 'js', 'peerstore-level.mjs', /^after restart: /m],
    ['metrics', '## Use it in a node', 'ts', 'metrics.ts', /totalIn: \d+/],
    ['swarm-adapter', '## Quick start', 'ts', 'swarm-adapter.ts', /^dashboard: http:\/\/127\.0\.0\.1:\d+\/$/m]
  ]

  before(async () => {
    for (const [pkg, heading, lang, file] of examples) {
      let code = await readmeExample(pkg, heading, lang)
      // The quick start serves on 9102 like the demo; here a free port, as every test server here has.
      if (pkg === 'swarm-adapter') {
        assert.ok(code.includes('port: 9102'), 'the quick start names its port as `port: 9102`')
        code = code.replace('port: 9102', 'port: 0')
      }
      await writeFile(join(project, file), code)
    }
  })

  test('tsc (NodeNext, strict) finds no error in the TypeScript examples nor in our declarations', async () => {
    const since = performance.now()
    for (const file of ['tsconfig.types.json', 'types.ts'])
      await cp(join(fixtures, file), join(project, file))
    const tsc = join(import.meta.dirname, 'node_modules', '.bin', 'tsc')
    // The README examples as a user compiles them (skipLibCheck: a dependency's own declarations are not ours
    // to check); then our declaration files, and what they reference, with skipLibCheck off.
    for (const config of ['tsconfig.json', 'tsconfig.types.json']) {
      const checked = await run(tsc, ['-p', config], { cwd: project, timeout: 5 * 60_000 }).then(
        () => '',
        (err: { stdout?: string; message: string }) => err.stdout || err.message
      )
      assert.equal(checked, '', `tsc -p ${config}`)
    }
    console.log(`# tsc over the TypeScript README examples and our declarations in ${seconds(since)}`)
  })

  for (const [pkg, , , file, shows] of examples.filter(([pkg]) => pkg !== 'swarm-adapter')) {
    test(`${pkg}: ${file} runs`, async () => {
      const { stdout } = await node([file], 120_000)
      assert.match(stdout, shows)
    })
  }

  test('swarm-adapter: the quick start serves the dashboard and the metrics', async () => {
    const child = spawn(process.execPath, ['swarm-adapter.ts'], {
      cwd: project,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    try {
      const url = await firstMatch(child, /^dashboard: (http:\/\/\S+)$/m)
      const page = await fetch(url)
      assert.equal(page.status, 200)
      assert.match(await page.text(), /<title>[^<]*peerscope/i)
      const metrics = await (await fetch(new URL('metrics', url))).text()
      assert.match(metrics, /^libp2p_peerstore_peers \d+$/m)
      assert.match(metrics, /^# TYPE process_cpu_seconds_total counter$/m, 'the Node entry of the metrics')
      assert.ok(existsSync(join(project, 'data', 'peerstore', 'CURRENT')), 'the peer store is on disk')
    } finally {
      child.kill('SIGTERM')
    }
  })
})

/** Resolves with the first capture of `pattern` in the child's stdout; rejects if it exits first. */
function firstMatch(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    const timer = setTimeout(() => reject(new Error(`no match for ${pattern} in 60 s: ${out}${err}`)), 60_000)
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const match = pattern.exec(out)
      if (match !== null) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    })
    child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()))
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`exited with ${code} before printing ${pattern}: ${out}${err}`))
    })
  })
}

describe('the browser-safe entries in a browser', () => {
  const bundles = new Map<string, string>()

  before(async () => {
    const since = performance.now()
    for (const pkg of BROWSER_SAFE) {
      // The whole entry (everything it exports), and a page that uses it.
      await writeFile(join(project, `all-${pkg}.js`), `export * from '@peerscope/${pkg}'\n`)
      await cp(join(fixtures, 'browser', `${pkg}.js`), join(project, `page-${pkg}.js`))
      for (const entry of [`all-${pkg}.js`, `page-${pkg}.js`]) {
        const result = await build({
          absWorkingDir: project,
          entryPoints: [entry],
          bundle: true,
          platform: 'browser',
          format: 'esm',
          write: false,
          metafile: true,
          logLevel: 'silent'
        }).catch((err: { errors?: Array<{ text: string }> }) => {
          throw new Error(
            `${entry} does not bundle for the browser:\n${err.errors?.map((e) => e.text).join('\n')}`
          )
        })
        const inputs = Object.keys(result.metafile.inputs)
        const imports = Object.values(result.metafile.inputs).flatMap((i) => i.imports.map((imp) => imp.path))
        const nodeOnly = [...inputs, ...imports].filter(
          (path) =>
            path.startsWith('node:') ||
            /node_modules\/(@peerscope\/leveldb-mend|level|classic-level|snappy|@node-rs)\//.test(path) ||
            /@peerscope\/[^/]+\/dist\/node\.js$/.test(path)
        )
        assert.deepEqual(nodeOnly, [], `${entry} reaches nothing Node-only`)
        bundles.set(entry, result.outputFiles[0]!.text)
      }
    }
    console.log(`# esbuild --platform=browser: ${bundles.size} bundles in ${seconds(since)}`)
  })

  test('each whole entry and each page bundles without a node: import', () => {
    assert.equal(bundles.size, BROWSER_SAFE.length * 2)
  })

  test('the pages run in Chromium', {
    skip: !existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM}`
  }, async () => {
    // A cross-origin isolated page (SharedArrayBuffer) on a real origin (IndexedDB), served from loopback.
    const server: Server = createServer((req, res) => {
      const name = req.url?.slice(1) ?? ''
      const headers = {
        'Cross-Origin-Opener-Policy': 'same-origin',
        'Cross-Origin-Embedder-Policy': 'require-corp'
      }
      const body = bundles.get(name)
      if (body !== undefined) res.writeHead(200, { ...headers, 'Content-Type': 'text/javascript' }).end(body)
      else
        res.writeHead(200, { ...headers, 'Content-Type': 'text/html' }).end('<!doctype html><title>t</title>')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    const profile = await mkdtemp(join(tmpdir(), 'peerscope-consumer-chromium-'))
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking']
    })
    try {
      const page = await context.newPage()
      const errors: string[] = []
      page.on('pageerror', (err) => errors.push(err.message))
      await page.goto(`http://127.0.0.1:${port}/`)
      const results: Record<string, unknown> = {}
      for (const pkg of BROWSER_SAFE) {
        results[pkg] = await page.evaluate(
          async (src) => (await import(src)).run(),
          `http://127.0.0.1:${port}/page-${pkg}.js`
        )
      }
      assert.deepEqual(errors, [])
      assert.deepEqual(results['metric-map'], { local: 612, shared: 7 })
      assert.deepEqual(results.metrics, { totalOut: 1200, totalIn: 64, prometheus: true })
      const stores = results['peerstore-level'] as Record<string, { addrs: string[]; protocols: string[] }>
      for (const backend of ['memory-level', 'browser-level']) {
        assert.deepEqual(stores[backend]?.addrs, ['/ip4/192.0.2.1/tcp/4001'], backend)
        assert.deepEqual(stores[backend]?.protocols, ['/ipfs/id/1.0.0'], backend)
      }
    } finally {
      await context.close()
      await rm(profile, { recursive: true, force: true })
      server.close()
    }
  })
})

describe('the peerscope CLI as installed', () => {
  const cli = (args: string[]) => node([join('node_modules', '.bin', 'peerscope'), ...args])

  test('runs from the package bin', async () => {
    const { stdout } = await cli(['--help'])
    assert.match(stdout, /peerscope/)
  })

  test('a command that needs an optional peer dependency names the package to install', async () => {
    const dir = join(project, 'cli')
    // A real LevelDB directory: the command checks its source before it loads datastore-level.
    const legacy = new Level(join(dir, 'legacy'))
    await legacy.open()
    await legacy.close()
    const failed = await cli([
      'import',
      '--db',
      join(dir, 'db'),
      '--libp2p-datastore',
      join(dir, 'legacy')
    ]).then(
      () => undefined,
      (err: { code?: number; stderr?: string }) => err
    )
    assert.ok(failed !== undefined, 'the command fails')
    assert.match(failed.stderr ?? '', /needs the package datastore-level, which is not installed/)
    assert.match(failed.stderr ?? '', /npm install datastore-level@\^\d/)
  })
})

test('the packed files are what the project installed', async () => {
  const installed = await readdir(join(project, 'node_modules', '@peerscope'))
  assert.deepEqual(installed.sort(), [...PUBLISHED].sort())
})
