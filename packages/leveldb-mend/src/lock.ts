// Whether a running process holds a LevelDB database open. LevelDB's lock is an fcntl lock on the `LOCK` file
// in its directory, and Linux lists every such lock in /proc/locks (device and inode); elsewhere there is no
// way to see it without taking the lock, which a check must not do.
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * True when a running process holds LevelDB's lock on the database in `dir`, false when none does (or there is
 * no `LOCK` file), undefined where this cannot be told (no /proc/locks: not Linux).
 */
export async function lockHeld(dir: string): Promise<boolean | undefined> {
  let locks: string
  try {
    locks = await readFile('/proc/locks', 'utf8')
  } catch {
    return undefined
  }
  let st: Awaited<ReturnType<typeof stat>>
  try {
    st = await stat(join(dir, 'LOCK'))
  } catch {
    return false
  }
  // /proc/locks names the device as major:minor in hex; stat gives the kernel's encoded dev_t.
  const dev = Number(st.dev)
  const major = (dev >>> 8) & 0xfff
  const minor = (dev & 0xff) | ((dev >>> 12) & 0xfff00)
  for (const line of locks.split('\n')) {
    const id = line.trim().split(/\s+/)[5]
    const [ma, mi, ino] = id?.split(':') ?? []
    if (
      ino !== undefined &&
      Number(ino) === Number(st.ino) &&
      Number.parseInt(ma!, 16) === major &&
      Number.parseInt(mi!, 16) === minor
    ) {
      return true
    }
  }
  return false
}
