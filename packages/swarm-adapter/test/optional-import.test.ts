// Optional peer dependencies (memory-level, datastore-level) are loaded on first use; a missing one fails with
// ERR_MISSING_DEPENDENCY naming the package, the declared range and what needed it. The consumer test
// (test-consumer/) shows the same on a real install without memory-level.
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { test } from 'node:test'
import { importOptional, MissingDependencyError } from '../src/optional-import.ts'

test('an installed optional dependency is imported', async () => {
  const { MemoryLevel } = await importOptional<typeof import('memory-level')>('memory-level', 'a test')
  assert.equal(typeof MemoryLevel, 'function')
})

test('a missing one fails naming the package, what needs it and the install command', async () => {
  await assert.rejects(importOptional('peerscope-no-such-package', 'some option'), (err: unknown) => {
    assert.ok(err instanceof MissingDependencyError)
    assert.equal(err.code, 'ERR_MISSING_DEPENDENCY')
    assert.equal(err.dependency, 'peerscope-no-such-package')
    assert.match(
      err.message,
      /^some option needs the package peerscope-no-such-package, which is not installed/
    )
    assert.match(err.message, /`npm install peerscope-no-such-package@latest`/)
    return true
  })
})

test('the install command carries the range package.json declares', async () => {
  const manifest = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'))
  const range = manifest.peerDependencies['datastore-level']
  assert.ok(manifest.peerDependenciesMeta['datastore-level'].optional)
  const err = new MissingDependencyError('datastore-level', 'peerscope import --libp2p-datastore')
  assert.match(err.message, new RegExp(`npm install datastore-level@\\${range}`))
})
