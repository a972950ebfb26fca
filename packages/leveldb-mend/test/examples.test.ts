// The README's example is examples/readme-example.mjs, word for word, and it runs and prints what it says.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const example = fileURLToPath(new URL('../examples/readme-example.mjs', import.meta.url))

test('the README shows examples/readme-example.mjs as it is', async () => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8')
  const block = /```js\n(\/\/ example\.mjs[\s\S]*?)```/.exec(readme)?.[1]
  assert.ok(block, 'the README has the example')
  assert.equal(block, await readFile(example, 'utf8'))
})

test('the README example mends the damaged block and LevelDB reads every other record', async () => {
  const { stdout } = await run(process.execPath, ['--conditions=@peerscope/source', example], {
    timeout: 60_000
  })
  const [checked, mended, read] = stdout.trim().split('\n')
  assert.match(checked!, /^\d{6}\.ldb: 1 of \d+ blocks fail their checksum$/)
  assert.match(mended!, /^\d{6}\.ldb: 1 block\(s\) blanked, original in .*\/lost\/\d{6}\.ldb\.damaged$/)
  const n = Number(/^(\d+) of 20000 records read/.exec(read!)?.[1])
  assert.ok(n > 19_500 && n < 20_000, read)
})
