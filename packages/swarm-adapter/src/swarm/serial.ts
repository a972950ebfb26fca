/**
 * Runs tasks one after another per key. Swarm events for one peer (connection open, identify, disconnect)
 * arrive close together and each is several store calls; running them in arrival order keeps go's sequence of
 * TTL steps intact, while different peers proceed independently.
 */
export class KeyedSerialQueue {
  readonly #tails = new Map<string, Promise<void>>()
  readonly #onError: (err: unknown) => void

  constructor(onError: (err: unknown) => void) {
    this.#onError = onError
  }

  run(key: string, task: () => Promise<void>): Promise<void> {
    const previous = this.#tails.get(key) ?? Promise.resolve()
    const next = previous.then(task).catch(this.#onError)
    this.#tails.set(key, next)
    void next.then(() => {
      if (this.#tails.get(key) === next) this.#tails.delete(key)
    })
    return next
  }

  /** Resolves when every queued task has settled. */
  async idle(): Promise<void> {
    while (this.#tails.size > 0) await Promise.all(this.#tails.values())
  }
}
