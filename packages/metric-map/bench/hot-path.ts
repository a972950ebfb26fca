// Where the time of one SharedMetricMap update goes: each primitive of the hot path alone, in ns per operation,
// next to the whole update (WebAssembly and `Atomics` forms) and a plain Map. Not part of `pnpm bench`; run it when changing the hot path:
//   node --conditions=@peerscope/source bench/hot-path.ts
import { envInteger, startBench } from '@peerscope/bench-kit'
import { SharedMetricMap } from '../src/index.ts'
import { int64ToNumber } from '../src/int64.ts'
import { sharedMemory, wasmAdd } from '../src/update-wasm.ts'
import { KEY_COUNT, workload } from './workload.ts'

const OPS = envInteger('BENCH_OPS', 2_000_000, { min: 1 })
const ROUNDS = 5
const bench = startBench('metric-map-hot-path', { operations: OPS, rounds: ROUNDS })
const { keys, sequence, deltas } = workload(OPS, 0x12345)
const slots = sequence // key index doubles as a slot index in the raw views below

const raw = new SharedArrayBuffer(KEY_COUNT * 12 + 64 * 4)
const ctrl = new Int32Array(raw, 0, KEY_COUNT)
const values = new BigInt64Array(raw, KEY_COUNT * 4, KEY_COUNT)
const pins = new Int32Array(raw, KEY_COUNT * 12, 64)
const smallBigInts = Array.from({ length: 1501 }, (_, i) => BigInt(i))
for (let i = 0; i < KEY_COUNT; i++) values[i] = BigInt(i) * 1_000_000n

const map = SharedMetricMap.create({ capacity: KEY_COUNT * 2 })
const handles = keys.map((k) => map.handle(k))
// The same map attached through its buffer alone: updates by JavaScript `Atomics` calls.
const viaBuffer = SharedMetricMap.attach(map.buffer)
const bufferHandles = keys.map((k) => viaBuffer.handle(k))
// The WebAssembly update alone, on a bare memory laid out like the raw views above.
const memory = sharedMemory(KEY_COUNT * 12 + 64 * 4)
if (memory === undefined) throw new Error('this benchmark needs WebAssembly threads')
const wasm = wasmAdd(memory)
const VALUES_AT = KEY_COUNT * 4
const PINS_AT = KEY_COUNT * 12
const plain = new Map<string, number>()
let sink = 0

const cases: Record<string, () => void> = {
  'loop only (read key index and delta)': () => {
    let acc = 0
    for (let i = 0; i < OPS; i++) acc += (slots[i] as number) + (deltas[i] as number)
    sink += acc
  },
  'Atomics.load Int32': () => {
    let acc = 0
    for (let i = 0; i < OPS; i++) acc += Atomics.load(ctrl, slots[i] as number)
    sink += acc
  },
  'Atomics.store Int32': () => {
    for (let i = 0; i < OPS; i++) Atomics.store(pins, 0, slots[i] as number)
  },
  'BigInt(delta)': () => {
    let b = 0n
    for (let i = 0; i < OPS; i++) b = BigInt(deltas[i] as number)
    sink += Number(b)
  },
  'Atomics.add BigInt64, BigInt(delta)': () => {
    for (let i = 0; i < OPS; i++) Atomics.add(values, slots[i] as number, BigInt(deltas[i] as number))
  },
  'Atomics.add BigInt64, cached BigInt': () => {
    for (let i = 0; i < OPS; i++)
      Atomics.add(values, slots[i] as number, smallBigInts[deltas[i] as number] as bigint)
  },
  'Atomics.add BigInt64 + Number(before)': () => {
    let acc = 0
    for (let i = 0; i < OPS; i++)
      acc += Number(Atomics.add(values, slots[i] as number, BigInt(deltas[i] as number)))
    sink += acc
  },
  'Atomics.add BigInt64 + int64ToNumber(before)': () => {
    let acc = 0
    for (let i = 0; i < OPS; i++)
      acc += int64ToNumber(Atomics.add(values, slots[i] as number, BigInt(deltas[i] as number)))
    sink += acc
  },
  'pin + check + add + unpin (no result)': () => {
    for (let i = 0; i < OPS; i++) {
      const s = slots[i] as number
      Atomics.store(pins, 0, s + 1)
      if (Atomics.load(ctrl, s) === 0) Atomics.add(values, s, BigInt(deltas[i] as number))
      Atomics.store(pins, 0, 0)
    }
  },
  'check + add (no pin, no result: unsafe)': () => {
    for (let i = 0; i < OPS; i++) {
      const s = slots[i] as number
      if (Atomics.load(ctrl, s) === 0) Atomics.add(values, s, BigInt(deltas[i] as number))
    }
  },
  'WebAssembly pin + check + add + unpin (with result)': () => {
    let acc = 0
    for (let i = 0; i < OPS; i++) {
      const s = slots[i] as number
      acc += wasm(PINS_AT, s * 4, VALUES_AT + s * 8, 0, s + 1, deltas[i] as number)
    }
    sink += acc
  },
  'SharedMetricMap handle.add, attached by buffer (Atomics)': () => {
    for (let i = 0; i < OPS; i++)
      (bufferHandles[sequence[i] as number] as (typeof bufferHandles)[0]).add(deltas[i] as number)
  },
  'SharedMetricMap handle.add': () => {
    for (let i = 0; i < OPS; i++)
      (handles[sequence[i] as number] as (typeof handles)[0]).add(deltas[i] as number)
  },
  'SharedMetricMap map.add(key)': () => {
    for (let i = 0; i < OPS; i++) map.add(keys[sequence[i] as number] as string, deltas[i] as number)
  },
  'plain Map get + set': () => {
    for (let i = 0; i < OPS; i++) {
      const k = keys[sequence[i] as number] as string
      plain.set(k, (plain.get(k) ?? 0) + (deltas[i] as number))
    }
  }
}

const best: Record<string, number> = {}
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of Object.entries(cases)) {
    const t0 = performance.now()
    run()
    const ns = ((performance.now() - t0) * 1e6) / OPS
    if (round > 0) best[name] = Math.min(best[name] ?? Number.POSITIVE_INFINITY, ns)
  }
}
console.log(`metric-map hot path: ns per operation, best of ${ROUNDS - 1} after a warm-up, ${OPS} ops`)
console.log('| case | ns/op |\n|---|---:|')
for (const [name, ns] of Object.entries(best)) console.log(`| ${name} | ${ns.toFixed(1)} |`)
bench.finish({ nsPerOp: best, sink: sink > 0 })
