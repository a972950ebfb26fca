// The WebAssembly form of a handle update (source: wasm/update.wat; `test/update-wasm.test.ts` checks that these
// bytes are what that source assembles to). Used when the map's memory is a shared `WebAssembly.Memory`.

/** Pins, checks, adds and unpins; returns the new value, or NaN when the handle's binding is gone. */
export type WasmAdd = (
  pin: number,
  ctrl: number,
  value: number,
  word: number,
  slot1: number,
  delta: number
) => number

export const UPDATE_WASM_BASE64 =
  'AGFzbQEAAAABCwFgBn9/f39/fAF8AhIBA21hcAZtZW1vcnkCAwGAgAQDAgEABwcBA2FkZAAACkUBQwEBfiAAIAT+FwIAIAH+EAIAIANHBEAgAEEA' +
  '/hcCAEQAAAAAAAD4fw8LIAIgBbD+HwMAIQYgAEEA/hcCACAGuSAFoAs='

/** A shared `WebAssembly.Memory` (declared here by shape: Node's types do not declare the WebAssembly API). */
export interface WasmMemory {
  readonly buffer: ArrayBufferLike
}

interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> }
}

const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly

export function isWasmMemory(value: unknown): value is WasmMemory {
  return api !== undefined && value instanceof api.Memory
}

/** Largest shared memory a wasm32 module can import: 65,536 pages of 64 KiB. */
export const MAX_WASM_BYTES = 65536 * 65536

let compiled: object | null | undefined

function updateModule(): object | null {
  if (compiled === undefined) {
    try {
      if (api === undefined) throw new Error('no WebAssembly')
      const bytes = Uint8Array.from(atob(UPDATE_WASM_BASE64), (c) => c.charCodeAt(0))
      compiled = new api.Module(bytes)
    } catch {
      compiled = null // no WebAssembly, or no threads support: the JavaScript path is used
    }
  }
  return compiled
}

/** A shared memory of `bytes` (rounded up to whole pages), or undefined where WebAssembly cannot provide one. */
export function sharedMemory(bytes: number): WasmMemory | undefined {
  if (bytes > MAX_WASM_BYTES || updateModule() === null || api === undefined) return undefined
  const pages = Math.max(1, Math.ceil(bytes / 65536))
  try {
    return new api.Memory({ initial: pages, maximum: pages, shared: true })
  } catch {
    return undefined
  }
}

/** The update function over `memory`. */
export function wasmAdd(memory: WasmMemory): WasmAdd {
  const module = updateModule()
  if (module === null || api === undefined) throw new Error('WebAssembly threads are not available')
  const instance = new api.Instance(module, { map: { memory } })
  return instance.exports.add as WasmAdd
}
