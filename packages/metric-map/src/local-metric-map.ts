import { assertDelta, assertKey } from './errors.ts'
import type { CounterHandle, MetricMap } from './types.ts'

/**
 * A counter cell; handles keep a reference to it so updates skip the hash lookup. The count lives in a one-element
 * `Float64Array`: V8 stores a number above the small-integer range (2^30, which byte counts pass quickly) in an
 * object field as a new heap number on every write, garbage at every update; a typed array element is written in
 * place. Integers stay exact up to 2^53, as for any JS number.
 */
interface Cell {
  value: Float64Array
  /** False once the key was deleted: a handle holding this cell must re-resolve. */
  live: boolean
}

/**
 * In-thread counter map: one `Map` lookup and one field write per update, no copy of the map (the seed cloned
 * the whole map on every update).
 */
export class LocalMetricMap implements MetricMap {
  readonly #cells = new Map<string, Cell>()

  get size(): number {
    return this.#cells.size
  }

  add(key: string, delta: number): number {
    assertDelta(delta)
    const cell = this.#cell(key)
    cell.value[0] = (cell.value[0] as number) + delta
    return cell.value[0] as number
  }

  storeOrModify(key: string, value: number, onModify: (key: string, current: number) => number): number {
    assertKey(key)
    assertDelta(value)
    const cell = this.#cells.get(key)
    if (cell === undefined) {
      this.#cells.set(key, { value: Float64Array.of(value), live: true })
      return value
    }
    const next = onModify(key, cell.value[0] as number)
    assertDelta(next)
    cell.value[0] = next
    return next
  }

  get(key: string): number | undefined {
    return this.#cells.get(key)?.value[0]
  }

  has(key: string): boolean {
    return this.#cells.has(key)
  }

  delete(key: string): boolean {
    const cell = this.#cells.get(key)
    if (cell === undefined) return false
    cell.live = false
    return this.#cells.delete(key)
  }

  clear(): void {
    for (const cell of this.#cells.values()) cell.live = false
    this.#cells.clear()
  }

  *entries(): IterableIterator<[string, number]> {
    for (const [key, cell] of this.#cells) yield [key, cell.value[0] as number]
  }

  keys(): IterableIterator<string> {
    return this.#cells.keys()
  }

  [Symbol.iterator](): IterableIterator<[string, number]> {
    return this.entries()
  }

  snapshot(): Map<string, number> {
    const copy = new Map<string, number>()
    for (const [key, cell] of this.#cells) copy.set(key, cell.value[0] as number)
    return copy
  }

  handle(key: string): CounterHandle {
    assertKey(key)
    let cell = this.#cell(key)
    const add = (delta: number): number => {
      assertDelta(delta)
      if (!cell.live) cell = this.#cell(key)
      cell.value[0] = (cell.value[0] as number) + delta
      return cell.value[0] as number
    }
    return {
      key,
      add,
      // Not through `add`, whose returned number is itself a new heap number when it is not inlined.
      increment: (delta: number): void => {
        assertDelta(delta)
        if (!cell.live) cell = this.#cell(key)
        cell.value[0] = (cell.value[0] as number) + delta
      },
      get: (): number => (cell.live ? (cell.value[0] as number) : (this.#cells.get(key)?.value[0] ?? 0))
    }
  }

  #cell(key: string): Cell {
    let cell = this.#cells.get(key)
    if (cell === undefined) {
      assertKey(key)
      cell = { value: new Float64Array(1), live: true }
      this.#cells.set(key, cell)
    }
    return cell
  }
}
