import assert from 'node:assert/strict'
import { BenchConfigError } from '@peerscope/bench-kit'

/** Asserts that `fn` throws the benchmarks' typed configuration error naming `setting`. */
export function refused(fn: () => unknown, setting: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof BenchConfigError, String(err))
    assert.equal(err.code, 'ERR_BENCH_CONFIG')
    assert.equal(err.setting, setting)
    return true
  })
}
