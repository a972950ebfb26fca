// The calling thread's scheduler figures on Linux (/proc/thread-self/schedstat): how long it ran and how long it
// waited on a run queue for a core, in ms. The wait is exact once the thread runs again (the kernel adds each wait
// when it schedules the thread in); the run time of the running thread is only brought up to date at scheduler
// ticks, so over a few ms it reads in steps (a 0.3 ms busy loop read 0 or 3.5-4.5 ms on the project's machine).
import { readFileSync } from 'node:fs'

/** The thread's run time and run-queue wait so far (ms), or undefined where /proc has no schedstat. */
export function readSchedStat(): { ranMs: number; waitedMs: number } | undefined {
  try {
    const [ran, waited] = readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')
    const ranMs = Number(ran) / 1e6
    const waitedMs = Number(waited) / 1e6
    return Number.isFinite(ranMs) && Number.isFinite(waitedMs) ? { ranMs, waitedMs } : undefined
  } catch {
    return undefined
  }
}
