import { Worker } from 'node:worker_threads'

/** Runs a worker script to completion and resolves with its one message. */
export function runWorker<T>(script: string, workerData: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(script, import.meta.url), { workerData })
    let result: { value: T } | undefined
    worker.once('message', (value: T) => {
      result = { value }
    })
    worker.once('error', reject)
    worker.once('exit', (code) => {
      if (result !== undefined && code === 0) resolve(result.value)
      else reject(new Error(`worker ${script} exited with code ${code} without a result`))
    })
  })
}
