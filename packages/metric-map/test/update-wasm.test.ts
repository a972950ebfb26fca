// The WebAssembly update: the bytes shipped in src/update-wasm.ts are what src/wasm/update.wat assembles to, and
// the function does the README's four steps (checked here on a bare memory, without the map around it).
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { describe, test } from 'node:test'
import wabtInit from 'wabt'
import { sharedMemory, UPDATE_WASM_BASE64, wasmAdd } from '../src/update-wasm.ts'

describe('the WebAssembly update', () => {
  test('the shipped bytes are the assembled update.wat', async () => {
    const wabt = await wabtInit()
    const source = await readFile(new URL('../src/wasm/update.wat', import.meta.url), 'utf8')
    const module = wabt.parseWat('update.wat', source, { threads: true })
    const { buffer } = module.toBinary({})
    module.destroy()
    assert.equal(
      Buffer.from(buffer).toString('base64'),
      UPDATE_WASM_BASE64,
      'update.wat changed: paste the new base64 into src/update-wasm.ts'
    )
  })

  test('adds when the control word matches, returns NaN when not, and always clears the pin', () => {
    const memory = sharedMemory(1024)
    assert.ok(memory !== undefined)
    const add = wasmAdd(memory)
    const i32 = new Int32Array(memory.buffer)
    const i64 = new BigInt64Array(memory.buffer)
    const PIN = 0
    const CTRL = 64
    const VALUE = 128
    i32[CTRL / 4] = 0x1235
    i64[VALUE / 8] = 2n ** 53n - 10n
    assert.equal(add(PIN, CTRL, VALUE, 0x1235, 7, 4), 2 ** 53 - 6)
    assert.equal(i64[VALUE / 8], 2n ** 53n - 6n)
    assert.equal(i32[PIN], 0, 'unpinned after the add')
    assert.ok(Number.isNaN(add(PIN, CTRL, VALUE, 0x1236, 7, 4)), 'another binding: no add')
    assert.equal(i64[VALUE / 8], 2n ** 53n - 6n)
    assert.equal(i32[PIN], 0, 'unpinned after the refusal')
    assert.equal(add(PIN, CTRL, VALUE, 0x1235, 7, -(2 ** 53 - 6)), 0, 'negative deltas subtract')
  })
})
