// The PeerStore conformance suite on ours (LevelDB, memory-level) and on @libp2p/peer-store (the control), and
// the check that the README's differences table lists exactly the differences the suite asserts.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { DIFFERENCE_IDS, viewConformanceSuite } from './suite/view-conformance/index.ts'
import { VIEW_FACTORIES } from './suite/view-factories.ts'

for (const factory of VIEW_FACTORIES) viewConformanceSuite(factory)

test('README "Differences from @libp2p/peer-store" has one row per difference the suite asserts', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  const start = readme.indexOf('### Differences from @libp2p/peer-store')
  assert.ok(start >= 0, 'the README has the section')
  const section = readme.slice(start, readme.indexOf('\n#', start + 1))
  const rows = [...section.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1])
  assert.deepEqual([...new Set(rows)].sort(), rows.slice().sort(), 'no row twice')
  assert.deepEqual(rows.slice().sort(), [...DIFFERENCE_IDS].sort())
})
