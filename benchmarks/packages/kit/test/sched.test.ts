import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { describe, it } from 'node:test'
import { readSchedStat } from '../src/sched.ts'

describe('readSchedStat', () => {
  it('gives the thread run time and run-queue wait in ms, never going back (undefined without /proc)', (t) => {
    const first = readSchedStat()
    if (!existsSync('/proc/thread-self/schedstat')) {
      t.diagnostic('no /proc/thread-self/schedstat here: readSchedStat gives undefined')
      assert.equal(first, undefined)
      return
    }
    assert.ok(first !== undefined)
    const until = Date.now() + 30
    while (Date.now() < until) {} // run long enough for a scheduler tick to count it
    const second = readSchedStat()
    assert.ok(second !== undefined)
    assert.ok(first.ranMs > 0 && second.ranMs > first.ranMs, `ran ${first.ranMs} then ${second.ranMs}`)
    assert.ok(first.waitedMs >= 0 && second.waitedMs >= first.waitedMs)
  })
})
