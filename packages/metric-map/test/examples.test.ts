import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const example = (name: string): string => fileURLToPath(new URL(`../examples/${name}`, import.meta.url))
const node = (file: string): Promise<{ stdout: string }> =>
  run(process.execPath, ['--conditions=@peerscope/source', file], { timeout: 60_000 })

test('the README example runs and prints what the README says', async () => {
  const { stdout } = await node(example('readme-example.mjs'))
  assert.match(stdout, /^local 612$/m)
  assert.match(stdout, /'peer-a': 200000/)
  assert.match(stdout, /'peer-b': 100000/)
})

test('the workers demo counts without losing an update and exits by itself', async () => {
  const { stdout } = await node(example('workers-demo.ts'))
  assert.match(stdout, /no update lost, no lock taken\./)
  assert.match(stdout, /^final \(5 keys\)$/m)
})
