// Checking LevelDB's write-ahead log files (`*.log`): what LevelDB will drop from them when it next opens.
//
// Layout: 32 KiB blocks; each holds physical records of a 7-byte header (masked CRC32C of the type byte and the
// data, 4 bytes; data length, 2 bytes; type, 1 byte: FULL, or FIRST / MIDDLE / LAST fragments of a longer one)
// and the data. Fewer than 7 bytes left in a block are zero padding. On open LevelDB replays the log: a record
// that fails its checksum or claims more bytes than its block holds makes it drop the rest of that block (and a
// fragment whose start went with it), then it goes on with the next block. A record cut short at the very end of
// the file is what a crash in the middle of an append leaves: dropped silently, it was never acknowledged.
//
// A failed append (disk full) can leave a torn record in the middle of the log, with later appends after it: then
// LevelDB drops writes it had acknowledged. That is what this check finds.

import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { crc32c, unmaskChecksum } from './checksum.ts'

const BLOCK = 32 * 1024
const HEADER = 7
const FULL = 1
const FIRST = 2
const MIDDLE = 3
const LAST = 4

/** The check of one log file. */
export interface LogFileCheck {
  file: string
  bytes: number
  /** Complete logical records (write batches) LevelDB will replay. */
  records: number
  /** Where the first damage starts (byte offset), and why; absent when the file is sound. */
  damageAt?: number
  reason?: string
  /** Bytes LevelDB will drop because of damage (not counting a record cut short at the end of the file). */
  droppedBytes: number
  /** Bytes of a record cut short at the end of the file (a crash or a failed last append), dropped silently. */
  cutShortBytes: number
}

/** Checks one log file's bytes as LevelDB's reader would replay them. Reads only. */
export function checkLogFile(file: string, bytes: Uint8Array): LogFileCheck {
  const check: LogFileCheck = { file, bytes: bytes.length, records: 0, droppedBytes: 0, cutShortBytes: 0 }
  const damage = (at: number, reason: string, dropped: number): void => {
    if (check.damageAt === undefined) {
      check.damageAt = at
      check.reason = reason
    }
    check.droppedBytes += dropped
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  // A logical record being assembled from fragments: where it started and its bytes so far.
  let fragmentStart: number | undefined
  let fragmentBytes = 0
  for (let block = 0; block < bytes.length; block += BLOCK) {
    const end = Math.min(block + BLOCK, bytes.length)
    let at = block
    while (end - at >= HEADER) {
      const length = view.getUint16(at + 4, true)
      const type = bytes[at + 6] as number
      if (at + HEADER + length > end) {
        if (end === bytes.length) check.cutShortBytes += end - at
        else damage(at, 'a record claims more bytes than its block holds', end - at)
        at = end
        break
      }
      if (type === 0 && length === 0) {
        // Zeroes (a preallocated file): LevelDB skips the rest of the block without a report.
        at = end
        break
      }
      const stored = unmaskChecksum(view.getUint32(at, true))
      if (crc32c(bytes, at + 6, at + HEADER + length) !== stored) {
        damage(at, 'a record fails its checksum', end - at)
        if (fragmentStart !== undefined) {
          check.droppedBytes += fragmentBytes
          fragmentStart = undefined
        }
        at = end
        break
      }
      const size = HEADER + length
      if (type === FULL) {
        if (fragmentStart !== undefined)
          damage(fragmentStart, 'a fragmented record has no end', fragmentBytes)
        fragmentStart = undefined
        check.records++
      } else if (type === FIRST) {
        if (fragmentStart !== undefined)
          damage(fragmentStart, 'a fragmented record has no end', fragmentBytes)
        fragmentStart = at
        fragmentBytes = size
      } else if (type === MIDDLE || type === LAST) {
        if (fragmentStart === undefined) damage(at, 'a record fragment has lost its start', size)
        else if (type === LAST) {
          check.records++
          fragmentStart = undefined
        } else fragmentBytes += size
      } else {
        damage(at, `unknown record type ${type}`, end - at)
        at = end
        break
      }
      at += size
    }
    // Fewer than 7 bytes left: padding, unless the file ends there (a header cut short).
    if (
      at < end &&
      end === bytes.length &&
      end - at < HEADER &&
      bytes.subarray(at, end).some((b) => b !== 0)
    ) {
      check.cutShortBytes += end - at
    }
  }
  // A fragmented record still open at the end of the file was cut short.
  if (fragmentStart !== undefined) check.cutShortBytes += fragmentBytes
  return check
}

/** Checks every log file (`*.log`) in `dir`, in name order. Reads only. */
export async function checkLogs(dir: string): Promise<LogFileCheck[]> {
  let names: string[]
  try {
    names = (await readdir(dir)).filter((n) => /^\d+\.log$/.test(n)).sort()
  } catch {
    return []
  }
  const checks: LogFileCheck[] = []
  for (const name of names) {
    let bytes: Uint8Array
    try {
      bytes = await readFile(join(dir, name))
    } catch (err) {
      // LevelDB deleted it since the listing (it is obsolete): nothing of it will be replayed.
      if ((err as { code?: string }).code === 'ENOENT') continue
      throw err
    }
    checks.push(checkLogFile(name, bytes))
  }
  return checks
}
