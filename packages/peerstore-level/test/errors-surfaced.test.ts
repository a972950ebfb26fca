// Nothing fails silently: a LevelDB batch that fails is logged and surfaced (`flush-error`) when it fails, and a
// background GC run that fails is logged. The failures are simulated at LevelDB's batch call (a disk that stops
// taking writes); everything else is the real store.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ComponentLogger, Logger } from '@libp2p/interface'
import { Level } from 'level'
import { MemoryLevel } from 'memory-level'
import { type BatchFailure, type OpenReport, openPeerStore, openReportWarnings } from '../src/node.ts'
import { failLevelWrites, MockClock, makeAddrs, makePeer, strings, tempDirs } from './suite/helpers.ts'

const h = 3600_000

/** A component logger that keeps every error line, by component. */
function recordingLogger(): {
  logger: ComponentLogger
  errors: string[]
  next(match: RegExp): Promise<string>
} {
  const errors: string[] = []
  const waiting: Array<{ match: RegExp; resolve: (line: string) => void }> = []
  const make = (name: string): Logger => {
    const log = (() => {}) as unknown as Logger
    log.error = (formatter: unknown, ...args: unknown[]) => {
      const line = `${name}: ${String(formatter)} ${args.map(String).join(' ')}`
      errors.push(line)
      for (const w of waiting.splice(0)) {
        if (w.match.test(line)) w.resolve(line)
        else waiting.push(w)
      }
    }
    log.trace = () => {}
    log.enabled = true
    log.newScope = (scope: string) => make(`${name}:${scope}`)
    return log
  }
  return {
    logger: { forComponent: make },
    errors,
    next: (match) => new Promise((resolve) => waiting.push({ match, resolve }))
  }
}

type BatchFn = (this: unknown, ...args: unknown[]) => Promise<void>

describe('errors are logged and surfaced, not swallowed', () => {
  const dirs = tempDirs('peerstore-errors-')

  it('a failing LevelDB batch is reported when it fails; the journal keeps the write and a later flush lands it', async () => {
    const path = await dirs.path()
    const logged = recordingLogger()
    const store = await openPeerStore({ path, gc: { interval: 0 }, logger: logged.logger })
    const { id } = await makePeer()
    const addrs = makeAddrs(2)
    const restore = failLevelWrites(Level, {
      times: Number.POSITIVE_INFINITY,
      error: () => new Error('simulated I/O error')
    })
    let failure: BatchFailure
    try {
      const failed = new Promise<BatchFailure>((resolve) => {
        store.addEventListener('flush-error', (evt) => resolve(evt.detail), { once: true })
      })
      // Durable in the journal: the write itself resolves.
      await store.addAddrs(id, addrs, h)
      failure = await failed
      await assert.rejects(store.flush(), /simulated I\/O error/)
    } finally {
      restore()
    }
    assert.equal(failure.retried, true)
    assert.equal(failure.peers, 1)
    assert.match((failure.error as Error).message, /simulated I\/O error/)
    assert.ok(
      logged.errors.some((line) => /peerscope:peer-store: a LevelDB batch/.test(line)),
      logged.errors.join('\n')
    )
    await store.flush()
    await store.close()
    const reopened = await openPeerStore({ path, gc: { interval: 0 } })
    assert.deepEqual(strings(reopened.addrs(id)), strings(addrs))
    await reopened.close()
  })

  it('without a journal the write waiting on the failed batch rejects, and the failure is reported too', async () => {
    const db = new MemoryLevel<string, string>()
    const logged = recordingLogger()
    const store = await openPeerStore({ db, gc: { interval: 0 }, logger: logged.logger })
    const failures: BatchFailure[] = []
    store.addEventListener('flush-error', (evt) => failures.push(evt.detail))
    const live = db as unknown as { batch: BatchFn }
    const batch = live.batch
    live.batch = async () => {
      throw new Error('simulated I/O error')
    }
    const { id } = await makePeer()
    try {
      await assert.rejects(store.setProtocols(id, ['/a']), /simulated I\/O error/)
    } finally {
      live.batch = batch
    }
    assert.deepEqual(
      failures.map((f) => [f.peers, f.retried]),
      [[1, false]]
    )
    assert.equal(logged.errors.length, 1)
    await store.close()
  })

  it('a background GC run that fails is logged', async () => {
    const db = new MemoryLevel<string, string>()
    const logged = recordingLogger()
    const clock = new MockClock()
    const store = await openPeerStore({ db, clock: clock.read, gc: { interval: 5 }, logger: logged.logger })
    const { id } = await makePeer()
    await store.addAddrs(id, makeAddrs(1), 1000)
    clock.advance(1000)
    const live = db as unknown as { batch: BatchFn }
    const batch = live.batch
    live.batch = async () => {
      throw new Error('simulated I/O error')
    }
    try {
      const line = await logged.next(/background GC failed/)
      assert.match(line, /simulated I\/O error/)
    } finally {
      live.batch = batch
      await store.close()
    }
  })
})

describe('openReportWarnings', () => {
  const clean: OpenReport = {
    peers: 3,
    quarantined: [],
    downgraded: 2,
    unreadable: [],
    mended: [],
    logDamage: [],
    journal: { replayed: 0, damage: [], keptAt: [] }
  }

  it('has nothing to say about a clean open', () => {
    assert.deepEqual(openReportWarnings(clean, '/db'), [])
  })

  it('one line per problem, naming the file, the kept original and the repair command', () => {
    const lines = openReportWarnings(
      {
        ...clean,
        quarantined: [{ kind: 'addrs', key: 'k', reason: 'not JSON' }],
        mended: [
          {
            file: '000005.ldb',
            blocks: 7,
            badBlocks: 1,
            blankedBlocks: 1,
            emptied: false,
            filterDropped: false,
            original: '/db/lost/000005.ldb.damaged'
          }
        ],
        unreadable: [{ kind: 'protos', code: 'LEVEL_CORRUPTION', message: 'Corruption: bad block' }]
      },
      '/db'
    )
    assert.deepEqual(lines, [
      '1 damaged record(s) were quarantined on open',
      'damaged table file 000005.ldb: 1 of 7 blocks failed their checksum and were mended (their records are ' +
        'lost); the original is at /db/lost/000005.ldb.damaged',
      'damaged table file: some protos records could not be read (Corruption: bad block); run `peerscope repair /db`'
    ])
  })
})
