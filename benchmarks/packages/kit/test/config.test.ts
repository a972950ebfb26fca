import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { describe, it } from 'node:test'
import { BenchConfigError, envChoice, envInteger, envList, parseInteger, readConfig } from '../src/config.ts'

function refused(fn: () => unknown, setting: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof BenchConfigError)
    assert.equal(err.code, 'ERR_BENCH_CONFIG')
    assert.equal(err.setting, setting)
    assert.match(err.message, message)
    return true
  })
}

describe('parseInteger and envInteger', () => {
  it('reads digits, and takes the default when unset or empty', () => {
    assert.equal(parseInteger('--runs', '12', 5), 12)
    assert.equal(parseInteger('--runs', undefined, 5), 5)
    assert.equal(envInteger('BENCH_ROUNDS', 5, { min: 1 }, { BENCH_ROUNDS: ' 3 ' }), 3)
    assert.equal(envInteger('BENCH_ROUNDS', 5, { min: 1 }, { BENCH_ROUNDS: '' }), 5)
    assert.equal(envInteger('BENCH_ROUNDS', 5, { min: 1 }, {}), 5)
  })

  it('refuses what is not a whole number in range, naming the setting and the default', () => {
    refused(
      () => envInteger('BENCH_ROUNDS', 5, { min: 1 }, { BENCH_ROUNDS: 'five' }),
      'BENCH_ROUNDS',
      /"five".*default \(5\)/
    )
    refused(
      () => envInteger('BENCH_ROUNDS', 5, { min: 1 }, { BENCH_ROUNDS: '0' }),
      'BENCH_ROUNDS',
      /at least 1/
    )
    refused(
      () => envInteger('BENCH_ROUNDS', 5, { min: 1 }, { BENCH_ROUNDS: '2.5' }),
      'BENCH_ROUNDS',
      /whole number/
    )
    refused(
      () => envInteger('BENCH_ROUNDS', 5, { min: 1 }, { BENCH_ROUNDS: '1e3' }),
      'BENCH_ROUNDS',
      /whole number/
    )
    refused(
      () => envInteger('BENCH_MIB', 5, { min: 1, max: 64 }, { BENCH_MIB: '65' }),
      'BENCH_MIB',
      /from 1 to 64/
    )
    refused(
      () => parseInteger('--runs', '-1', 5),
      '--runs',
      /at least 0, got "-1"; leave it out for the default \(5\)/
    )
    refused(() => parseInteger('--runs', '99999999999999999999', 5), '--runs', /whole number/)
  })
})

describe('envChoice', () => {
  const pins = { '1': 'split', split: 'split', same: 'same' } as const
  it('maps a value to its meaning, the default when unset', () => {
    assert.equal(envChoice('BENCH_PIN', pins, undefined, { BENCH_PIN: '1' }), 'split')
    assert.equal(envChoice('BENCH_PIN', pins, undefined, { BENCH_PIN: 'same' }), 'same')
    assert.equal(envChoice('BENCH_PIN', pins, undefined, {}), undefined)
  })

  it('refuses another value, listing the accepted ones', () => {
    refused(
      () => envChoice('BENCH_PIN', pins, undefined, { BENCH_PIN: 'yes' }),
      'BENCH_PIN',
      /one of 1, split, same/
    )
    refused(() => envChoice('BENCH_PIN', pins, undefined, { BENCH_PIN: 'toString' }), 'BENCH_PIN', /one of/)
  })
})

describe('envList', () => {
  const names = ['none', 'ours', 'ours+scrapes'] as const
  it('reads a comma-separated list of known names, repeats dropped', () => {
    assert.deepEqual(envList('BENCH_VARIANTS', names, { BENCH_VARIANTS: 'ours, none,ours' }), [
      'ours',
      'none'
    ])
    assert.equal(envList('BENCH_VARIANTS', names, {}), undefined)
  })

  it('refuses an unknown name, listing the known ones', () => {
    refused(
      () => envList('BENCH_VARIANTS', names, { BENCH_VARIANTS: 'none,ours+scrape' }),
      'BENCH_VARIANTS',
      /"ours\+scrape", not one of none, ours, ours\+scrapes/
    )
    refused(() => envList('BENCH_VARIANTS', names, { BENCH_VARIANTS: 'none,' }), 'BENCH_VARIANTS', /""/)
  })
})

describe('readConfig', () => {
  it('returns the settings read', () => {
    assert.deepEqual(
      readConfig(() => ({ rounds: envInteger('BENCH_ROUNDS', 5, { min: 1 }, {}) })),
      { rounds: 5 }
    )
  })

  it('ends the process with the message and exit code 2 on a bad setting', () => {
    const script = `
      import { envInteger, readConfig } from ${JSON.stringify(new URL('../src/config.ts', import.meta.url).href)}
      readConfig(() => envInteger('BENCH_ROUNDS', 5, { min: 1 }))
      console.log('not reached')`
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, BENCH_ROUNDS: 'lots' },
      encoding: 'utf8'
    })
    assert.equal(child.status, 2)
    assert.equal(child.stdout, '')
    assert.equal(
      child.stderr.trim(),
      'BENCH_ROUNDS must be a whole number at least 1, got "lots"; unset it for the default (5) (ERR_BENCH_CONFIG)'
    )
  })

  it('throws other errors on', () => {
    assert.throws(
      () =>
        readConfig(() => {
          throw new TypeError('a bug')
        }),
      TypeError
    )
  })
})
