// Giving the event loop a turn between slices of long work (GC, listing every peer, a flush). setImmediate is Node's;
// a browser yields with a timeout.
export const yieldToLoop = (): Promise<void> =>
  new Promise((resolve) =>
    typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)
  )
