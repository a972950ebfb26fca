import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { runJsonChild } from '../src/child.ts'

describe('runJsonChild', () => {
  const dirs: string[] = []
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  })
  async function script(text: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'kit-child-'))
    dirs.push(dir)
    const path = join(dir, 'child.mjs')
    await writeFile(path, text)
    return path
  }

  it('returns the JSON of the last line, the arguments passed on', async () => {
    const path = await script(
      'console.log("warming up"); console.log(JSON.stringify({ args: process.argv.slice(2) }))'
    )
    assert.deepEqual(runJsonChild(path, ['a', '2'], 'demo'), { args: ['a', '2'] })
  })

  it('throws with the child’s stderr when it fails or prints no JSON', async () => {
    const failing = await script('console.error("no room"); process.exit(3)')
    assert.throws(() => runJsonChild(failing, [], 'demo a'), /demo a failed: no room/)
    const silent = await script('console.log("done")')
    assert.throws(() => runJsonChild(silent, [], 'demo b'), /demo b failed: done/)
  })
})
