/**
 * Peer ids and protocol ids held by the history rings, each stored once and referred to by a small integer.
 * A key lives while some sample refers to it: the rings release their references when they overwrite a slot,
 * so the table never holds more than the keys of the samples kept, and never more than `maxKeys`.
 */
export class KeyTable {
  readonly maxKeys: number
  readonly maxKeyLength: number
  readonly #ids = new Map<string, number>()
  readonly #names: Array<string | undefined>
  readonly #refs: Int32Array
  readonly #free: number[] = []
  #next = 0
  /** Keys refused because the table was full or the key too long (their entries are left out of a sample). */
  refused = 0

  constructor(maxKeys: number, maxKeyLength: number) {
    this.maxKeys = maxKeys
    this.maxKeyLength = maxKeyLength
    this.#names = new Array<string | undefined>(maxKeys)
    this.#refs = new Int32Array(maxKeys)
  }

  get size(): number {
    return this.#ids.size
  }

  /** One more reference to `name`; -1 when it cannot be kept (table full, or longer than `maxKeyLength`). */
  acquire(name: string): number {
    let id = this.#ids.get(name)
    if (id === undefined) {
      if (name.length > this.maxKeyLength) {
        this.refused++
        return -1
      }
      id = this.#free.pop() ?? (this.#next < this.maxKeys ? this.#next++ : -1)
      if (id === -1) {
        this.refused++
        return -1
      }
      this.#ids.set(name, id)
      this.#names[id] = name
    }
    this.#refs[id] = (this.#refs[id] ?? 0) + 1
    return id
  }

  release(id: number): void {
    if (id < 0) return
    const refs = (this.#refs[id] ?? 0) - 1
    this.#refs[id] = refs
    if (refs > 0) return
    const name = this.#names[id]
    if (name !== undefined) this.#ids.delete(name)
    this.#names[id] = undefined
    this.#free.push(id)
  }

  name(id: number): string | undefined {
    return id < 0 ? undefined : this.#names[id]
  }

  id(name: string): number {
    return this.#ids.get(name) ?? -1
  }

  /**
   * Upper bound of the bytes this table can hold: every slot used by a key of the longest length, stored as
   * two-byte characters, plus the map entry, the name slot, the reference count and the free list.
   */
  static bound(maxKeys: number, maxKeyLength: number): number {
    return maxKeys * (KEY_OVERHEAD_BYTES + 2 * maxKeyLength)
  }
}

/** V8's cost of one key besides its characters: string header, Map entry, array slots, counters (generous). */
export const KEY_OVERHEAD_BYTES = 128
