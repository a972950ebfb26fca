import { assertDelta, assertKey, MetricMapError } from './errors.ts'
import { int64ToNumber } from './int64.ts'
import {
  byteLengthOf,
  initBuffer,
  MAX_CAPACITY,
  MAX_KEY_BYTES_LIMIT,
  MAX_LANES,
  MAX_THREADS_LIMIT,
  slotsFor,
  viewsOf
} from './shared-layout.ts'
import { LIVE, type Resolved, SharedTable, stateOf } from './shared-table.ts'
import type { CounterHandle, MetricMap } from './types.ts'
import { isWasmMemory, sharedMemory, type WasmAdd, type WasmMemory, wasmAdd } from './update-wasm.ts'
import { encodeKey, hashBytes } from './utf8-key.ts'

export interface SharedMetricMapOptions {
  /** Most keys present at once; adding one more throws `ERR_METRIC_MAP_FULL`. Default 4096, at most 4,194,304. */
  capacity?: number
  /** Longest key in UTF-8 bytes; longer keys throw `ERR_INVALID_KEY`. Default 128, at most 4096. */
  maxKeyBytes?: number
  /** Most instances (threads) attached at once, counting the creator. Default 64, at most 1024. */
  maxThreads?: number
  /**
   * Counter lanes, default 1, at most 64. Each attached instance adds into one lane (round-robin in attach order)
   * and a read sums the lanes, so with at least as many lanes as writing threads, `handle.increment` never makes
   * two threads fight over a cache line. Costs `lanes × 8` bytes per slot; `add` then returns a sum read after
   * the add rather than the atomic result (see the README, "Lanes").
   */
  lanes?: number
}

export const DEFAULT_CAPACITY = 4096
export const DEFAULT_MAX_KEY_BYTES = 128
export const DEFAULT_MAX_THREADS = 64
export const DEFAULT_LANES = 1

const decoder = new TextDecoder()

function intOption(name: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new MetricMapError(
      'ERR_INVALID_OPTIONS',
      `${name} must be an integer in [1, ${max}], got ${String(value)}`
    )
  }
  return value
}

/**
 * A counter map in a SharedArrayBuffer that any number of worker threads update and read at once, without
 * locks. Create it in one thread, post `map.memory` (or `map.buffer`) to the others, and
 * `SharedMetricMap.attach(memory)` there.
 */
export class SharedMetricMap implements MetricMap {
  /** The map's bytes. Attached through the buffer alone, a thread updates with `Atomics` calls (slower). */
  readonly buffer: SharedArrayBuffer
  /**
   * The shared WebAssembly memory holding `buffer`, where the runtime supports it (Node does). Post this to other
   * threads and `attach` it there: updates by handle then run as WebAssembly atomics, about 4× faster.
   */
  readonly memory: WasmMemory | undefined
  readonly #wasmAdd: WasmAdd | undefined
  readonly capacity: number
  readonly maxKeyBytes: number
  readonly lanes: number
  readonly #table: SharedTable
  readonly #scratch: Uint8Array
  readonly #context: HandleContext
  /**
   * Per-thread cache of handles, so `add(key)` hashes a key once per thread, not once per call. A null-prototype
   * object rather than a `Map`: V8 looks a string property up faster than `Map.get` (+14% by key, more on keys
   * built at run time; see the README), and without a prototype `'__proto__'` or `'toString'` are plain keys.
   */
  #handles: Record<string, SharedCounterHandle | undefined> = Object.create(null)
  #handleCount = 0
  readonly #handleCacheLimit: number
  /** Keys decoded by `entries()`, by slot, with the control word they were read under; made by the first one. */
  #keyCache: { words: Int32Array; keys: Array<string | undefined> } | undefined

  static create(options: SharedMetricMapOptions = {}): SharedMetricMap {
    if (options === null || typeof options !== 'object') {
      throw new MetricMapError('ERR_INVALID_OPTIONS', 'options must be an object')
    }
    const capacity = intOption('capacity', options.capacity, DEFAULT_CAPACITY, MAX_CAPACITY)
    const maxKeyBytes = intOption(
      'maxKeyBytes',
      options.maxKeyBytes,
      DEFAULT_MAX_KEY_BYTES,
      MAX_KEY_BYTES_LIMIT
    )
    const maxThreads = intOption('maxThreads', options.maxThreads, DEFAULT_MAX_THREADS, MAX_THREADS_LIMIT)
    const lanes = intOption('lanes', options.lanes, DEFAULT_LANES, MAX_LANES)
    const geometry = { slots: slotsFor(capacity), capacity, maxKeyBytes, maxThreads, lanes }
    const bytes = byteLengthOf(geometry)
    const memory = sharedMemory(bytes)
    const buffer = memory === undefined ? new SharedArrayBuffer(bytes) : (memory.buffer as SharedArrayBuffer)
    initBuffer(buffer, geometry)
    return new SharedMetricMap(buffer, memory)
  }

  /**
   * Attaches to a map created in another thread (or this one), given its `memory` (fast updates) or its
   * `buffer`. Throws `ERR_INVALID_BUFFER`.
   */
  static attach(target: WasmMemory | SharedArrayBuffer): SharedMetricMap {
    if (isWasmMemory(target)) return new SharedMetricMap(target.buffer, target)
    return new SharedMetricMap(target)
  }

  /** Bytes a map with these options occupies. */
  static byteLength(options: SharedMetricMapOptions = {}): number {
    const capacity = intOption('capacity', options.capacity, DEFAULT_CAPACITY, MAX_CAPACITY)
    return byteLengthOf({
      slots: slotsFor(capacity),
      capacity,
      maxKeyBytes: intOption('maxKeyBytes', options.maxKeyBytes, DEFAULT_MAX_KEY_BYTES, MAX_KEY_BYTES_LIMIT),
      maxThreads: intOption('maxThreads', options.maxThreads, DEFAULT_MAX_THREADS, MAX_THREADS_LIMIT),
      lanes: intOption('lanes', options.lanes, DEFAULT_LANES, MAX_LANES)
    })
  }

  private constructor(buffer: ArrayBufferLike, memory?: WasmMemory) {
    const views = viewsOf(buffer)
    this.buffer = buffer as SharedArrayBuffer
    this.memory = memory
    this.#wasmAdd = memory === undefined ? undefined : wasmAdd(memory)
    this.capacity = views.capacity
    this.maxKeyBytes = views.maxKeyBytes
    this.lanes = views.lanes
    this.#table = new SharedTable(views)
    this.#scratch = new Uint8Array(views.maxKeyBytes)
    this.#context = new HandleContext(this.#table, this.#scratch, this.#wasmAdd, (key) => this.#encode(key))
    this.#handleCacheLimit = views.slots * 2
  }

  get size(): number {
    return this.#table.size()
  }

  add(key: string, delta: number): number {
    // Checked before the key is resolved: a bad delta must not create the key.
    assertDelta(delta)
    return this.#cachedHandle(key).add(delta)
  }

  storeOrModify(key: string, value: number, onModify: (key: string, current: number) => number): number {
    assertDelta(value)
    const length = this.#encode(key)
    const table = this.#table
    const { ctrl, values, pins } = table.views
    const hash = hashBytes(this.#scratch, length)
    for (;;) {
      const r = table.resolve(this.#scratch, length, hash, BigInt(value))
      if (r.created) return value
      // The change is written into this instance's lane as a compare-and-swap of that lane's cell. With one lane
      // that cell is the whole counter; with more, an add landing in another lane meanwhile is kept on top.
      const cell = table.laneBase + r.slot
      const own = Atomics.load(values, cell)
      const current = table.sum(r.slot)
      if (Atomics.load(ctrl, r.slot) !== r.word) continue
      const next = onModify(key, toNumber(current))
      assertDelta(next)
      // onModify may have re-entered this map and used the scratch buffer.
      this.#encode(key)
      Atomics.store(pins, table.pin, r.slot + 1)
      const still = Atomics.load(ctrl, r.slot) === r.word
      const swapped =
        still && Atomics.compareExchange(values, cell, own, own + BigInt(next) - current) === own
      Atomics.store(pins, table.pin, 0)
      if (swapped) return next
    }
  }

  get(key: string): number | undefined {
    const length = this.#encode(key)
    const { ctrl } = this.#table.views
    for (;;) {
      const r = this.#table.find(this.#scratch, length, hashBytes(this.#scratch, length))
      if (r === undefined) return undefined
      const value = this.#table.sum(r.slot)
      if (Atomics.load(ctrl, r.slot) === r.word) return toNumber(value)
    }
  }

  has(key: string): boolean {
    const length = this.#encode(key)
    return this.#table.find(this.#scratch, length, hashBytes(this.#scratch, length)) !== undefined
  }

  delete(key: string): boolean {
    const length = this.#encode(key)
    return this.#table.delete(this.#scratch, length, hashBytes(this.#scratch, length))
  }

  /** Tombstones every key present when the sweep passes its slot; not atomic against concurrent adds. */
  clear(): void {
    const table = this.#table
    const { ctrl, slots } = table.views
    for (let slot = 0; slot < slots; slot++) {
      for (;;) {
        const w = Atomics.load(ctrl, slot)
        if (stateOf(w) !== LIVE || table.tombstone(slot, w)) break
      }
    }
  }

  *entries(): IterableIterator<[string, number]> {
    const table = this.#table
    const { ctrl, lengths, keys, slots, maxKeyBytes } = table.views
    const copy = new Uint8Array(maxKeyBytes)
    // A reader that iterates again and again (a worker rendering every scrape) decodes each key once: a slot's
    // key is kept with the control word it was read under, whose generation changes whenever the slot is rebound.
    this.#keyCache ??= { words: new Int32Array(slots), keys: new Array<string | undefined>(slots) }
    const cache = this.#keyCache
    for (let slot = 0; slot < slots; slot++) {
      const w = Atomics.load(ctrl, slot)
      if (stateOf(w) !== LIVE) continue
      let key = cache.words[slot] === w ? cache.keys[slot] : undefined
      if (key === undefined) {
        const length = lengths[slot] as number
        copy.set(keys.subarray(slot * maxKeyBytes, slot * maxKeyBytes + length))
        // Skip a slot rebound or deleted while we copied it: its bytes may mix two keys.
        if (Atomics.load(ctrl, slot) !== w) continue
        key = decoder.decode(copy.subarray(0, length))
        cache.words[slot] = w
        cache.keys[slot] = key
      }
      const value = table.sum(slot)
      if (Atomics.load(ctrl, slot) !== w) continue
      yield [key, toNumber(value)]
    }
  }

  *keys(): IterableIterator<string> {
    for (const [key] of this.entries()) yield key
  }

  [Symbol.iterator](): IterableIterator<[string, number]> {
    return this.entries()
  }

  snapshot(): Map<string, number> {
    return new Map(this.entries())
  }

  handle(key: string): CounterHandle {
    return this.#newHandle(key)
  }

  #newHandle(key: string): SharedCounterHandle {
    const length = this.#encode(key)
    const hash = hashBytes(this.#scratch, length)
    return new SharedCounterHandle(
      key,
      this.#context,
      hash,
      this.#table.resolve(this.#scratch, length, hash, 0n)
    )
  }

  /**
   * Gives this instance's thread slot back (see `maxThreads`). Call it when a thread is done with the map;
   * the instance must not be used afterwards. The data stays for the other instances.
   */
  detach(): void {
    this.#handles = Object.create(null)
    this.#handleCount = 0
    this.#table.release()
  }

  #cachedHandle(key: string): SharedCounterHandle {
    // A property lookup coerces its key: without this check `add(1, d)` would hit the cached handle of '1'.
    let h = typeof key === 'string' ? this.#handles[key] : undefined
    if (h === undefined) {
      if (this.#handleCount >= this.#handleCacheLimit) {
        this.#handles = Object.create(null)
        this.#handleCount = 0
      }
      h = this.#newHandle(key)
      this.#handles[key] = h
      this.#handleCount++
    }
    return h
  }

  /** UTF-8 bytes of the key into the scratch buffer; their length. */
  #encode(key: string): number {
    assertKey(key)
    if (!key.isWellFormed()) {
      // A lone surrogate has no UTF-8 form: two different keys would share one stored key.
      throw new MetricMapError('ERR_INVALID_KEY', 'key contains a lone UTF-16 surrogate')
    }
    const length = encodeKey(key, this.#scratch)
    if (length < 0) {
      throw new MetricMapError('ERR_INVALID_KEY', `key is longer than ${this.maxKeyBytes} UTF-8 bytes`)
    }
    return length
  }
}

/** A summed counter as a number: the sum of several int64 lanes can leave the int64 range `int64ToNumber` takes. */
function toNumber(value: bigint): number {
  return value >= -0x8000000000000000n && value <= 0x7fffffffffffffffn ? int64ToNumber(value) : Number(value)
}

/**
 * What every handle of one map instance shares: the table, this instance's pin and lane, the update function and
 * the byte addresses it works on, and a scratch buffer to encode a key again. Kept once per instance, so a handle
 * is five fields (a metrics series keeps six handles).
 */
class HandleContext {
  readonly table: SharedTable
  readonly ctrl: Int32Array
  readonly values: BigInt64Array
  readonly pins: Int32Array
  readonly pin: number
  readonly laneBase: number
  readonly oneLane: boolean
  /** The WebAssembly update and the byte addresses it works on, when the map was attached through its memory. */
  readonly wasmAdd: WasmAdd | undefined
  readonly pinAt: number
  readonly ctrlAt: number
  readonly laneAt: number
  readonly scratch: Uint8Array
  /** A key's UTF-8 bytes into `scratch`; their length. */
  readonly encode: (key: string) => number

  constructor(
    table: SharedTable,
    scratch: Uint8Array,
    wasmAdd: WasmAdd | undefined,
    encode: (key: string) => number
  ) {
    this.table = table
    this.ctrl = table.views.ctrl
    this.values = table.views.values
    this.pins = table.views.pins
    this.pin = table.pin
    this.laneBase = table.laneBase
    this.oneLane = table.views.lanes === 1
    this.wasmAdd = wasmAdd
    this.pinAt = table.views.pins.byteOffset + table.pin * 4
    this.ctrlAt = table.views.ctrl.byteOffset
    this.laneAt = table.views.values.byteOffset + table.laneBase * 8
    this.scratch = scratch
    this.encode = encode
  }
}

/**
 * A key resolved to its slot. An update pins the slot (so it cannot be rebound to another key underneath),
 * checks the slot's control word is the one it resolved, and does one atomic add into this instance's lane; on a
 * mismatch (the key was deleted, or its slot reused) it encodes the key again and resolves it.
 */
class SharedCounterHandle implements CounterHandle {
  readonly key: string
  readonly #context: HandleContext
  readonly #hash: number
  #slot: number
  #word: number

  constructor(key: string, context: HandleContext, hash: number, resolved: Resolved) {
    this.key = key
    this.#context = context
    this.#hash = hash
    this.#slot = resolved.slot
    this.#word = resolved.word
  }

  add(delta: number): number {
    const after = this.#update(delta)
    // With one lane the atomic add's result is the counter; with more, the other lanes are read afterwards.
    return this.#context.oneLane ? after : this.get()
  }

  increment(delta: number): void {
    this.#update(delta)
  }

  /**
   * The four atomics of the README's "Update"; returns this lane's new value. The rare retry is out of line, so
   * this stays small to inline.
   */
  #update(delta: number): number {
    assertDelta(delta)
    const c = this.#context
    const wasm = c.wasmAdd
    if (wasm !== undefined) {
      const slot = this.#slot
      const after = wasm(c.pinAt, c.ctrlAt + slot * 4, c.laneAt + slot * 8, this.#word, slot + 1, delta)
      // NaN: the binding the handle resolved is gone.
      return Number.isNaN(after) ? this.#addAfterRebind(delta, BigInt(delta)) : after
    }
    const d = BigInt(delta)
    const pins = c.pins
    const pin = c.pin
    const slot = this.#slot
    Atomics.store(pins, pin, slot + 1)
    if (Atomics.load(c.ctrl, slot) === this.#word) {
      const before = Atomics.add(c.values, c.laneBase + slot, d)
      Atomics.store(pins, pin, 0)
      // Number arithmetic: no BigInt allocated for the result; exact while the counter is a safe integer.
      return int64ToNumber(before) + delta
    }
    Atomics.store(pins, pin, 0)
    return this.#addAfterRebind(delta, d)
  }

  /** The binding the handle resolved is gone (deleted, or the slot rebound): resolve again and retry. */
  #addAfterRebind(delta: number, d: bigint): number {
    const c = this.#context
    for (;;) {
      const length = c.encode(this.key)
      const r = c.table.resolve(c.scratch, length, this.#hash, 0n)
      this.#slot = r.slot
      this.#word = r.word
      const slot = r.slot
      Atomics.store(c.pins, c.pin, slot + 1)
      if (Atomics.load(c.ctrl, slot) === r.word) {
        const before = Atomics.add(c.values, c.laneBase + slot, d)
        Atomics.store(c.pins, c.pin, 0)
        return int64ToNumber(before) + delta
      }
      Atomics.store(c.pins, c.pin, 0)
    }
  }

  get(): number {
    const c = this.#context
    for (;;) {
      const slot = this.#slot
      if (Atomics.load(c.ctrl, slot) === this.#word) {
        const value = c.oneLane ? Atomics.load(c.values, slot) : c.table.sum(slot)
        // Still the same binding after the read: the value is this key's.
        if (Atomics.load(c.ctrl, slot) === this.#word) return toNumber(value)
        continue
      }
      const length = c.encode(this.key)
      const r = c.table.find(c.scratch, length, this.#hash)
      if (r === undefined) return 0
      this.#slot = r.slot
      this.#word = r.word
    }
  }
}
