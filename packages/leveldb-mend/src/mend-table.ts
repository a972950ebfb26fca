// Mending one table file's bytes in place, so that LevelDB never reads a block whose checksum fails.
//
// classic-level gives no way to turn on LevelDB's checksum verification (`verify_checksums`,
// `paranoid_checks`), so LevelDB parses a damaged block as if it were sound. Sometimes that only loses records;
// sometimes a garbled key reaches LevelDB's key comparator, whose assertion aborts the whole process. A block
// that fails its checksum is therefore replaced by a valid empty block of the same size before LevelDB reads
// the file: the file keeps its size, which LevelDB's MANIFEST records.

import { crc32c, maskChecksum } from './checksum.ts'
import { LevelDbMendError } from './errors.ts'
import { type BlockHandle, FOOTER, hasTableMagic, type TableInspection, TRAILER } from './table-file.ts'

/** What mending did to one table file. */
export interface TableMend {
  /** Data blocks replaced by empty ones: their records are gone. */
  blankedBlocks: number
  /** The whole file now reads as empty (its index or structure was damaged). */
  emptied: boolean
  /** The bloom filter was dropped (damaged); LevelDB reads the file without it. */
  filterDropped: boolean
}

/**
 * Overwrites `buf[offset, offset + size + 5)` with a valid empty block: zero bytes end in a restart count of 0,
 * which LevelDB reads as a block without entries; type 0 (plain) and a matching checksum follow.
 */
function writeEmptyBlock(buf: Uint8Array, h: BlockHandle): void {
  const end = h.offset + h.size
  buf.fill(0, h.offset, end + 1)
  const crc = maskChecksum(crc32c(buf, h.offset, end + 1))
  buf[end + 1] = crc & 0xff
  buf[end + 2] = (crc >>> 8) & 0xff
  buf[end + 3] = (crc >>> 16) & 0xff
  buf[end + 4] = crc >>> 24
}

function writeVarint(buf: Uint8Array, pos: number, value: number): number {
  let v = value
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80
    v = Math.floor(v / 128)
  }
  buf[pos++] = v
  return pos
}

// An empty block fits in the footer's padding: the two handles take at most 20 bytes (offsets and sizes of a
// table file stay below 2^35), and the 4 zero bytes, type byte and CRC end where the magic number starts.
const EMPTY_IN_FOOTER = 40 - 4 - TRAILER

/**
 * Rewrites the footer so the meta-index (and, when `index` is undefined, the index too) is the empty block in
 * the footer's padding. Nothing outside the footer is written: a handle that failed its checks may point into
 * sound data.
 */
function rewriteFooter(buf: Uint8Array, index: BlockHandle | undefined): void {
  const footer = buf.length - FOOTER
  const empty = { offset: footer + EMPTY_IN_FOOTER, size: 4 }
  buf.fill(0, footer, footer + 40)
  let p = writeVarint(buf, footer, empty.offset)
  p = writeVarint(buf, p, empty.size)
  p = writeVarint(buf, p, (index ?? empty).offset)
  writeVarint(buf, p, (index ?? empty).size)
  writeEmptyBlock(buf, empty)
}

/**
 * Mends a damaged table file in place, keeping its size: each data block that fails its checksum becomes an
 * empty block; a damaged meta-index or filter is dropped (the footer then names an empty meta-index); a damaged
 * index or footer empties the whole file (the footer names an empty index). `inspection` must be
 * `inspectTableFile` of these same bytes. Returns undefined when there is nothing to mend, or nothing that can
 * be (a truncated file, a bad magic number: LevelDB reports those as errors without parsing garbage).
 * Checksums of the result all match.
 */
export function mendTableFile(bytes: Uint8Array, inspection: TableInspection): TableMend | undefined {
  if (!(bytes instanceof Uint8Array)) {
    throw new LevelDbMendError('ERR_INVALID_ARGUMENT', 'mendTableFile: bytes must be a Uint8Array')
  }
  if (inspection?.bytes !== bytes.length) {
    throw new LevelDbMendError(
      'ERR_INVALID_ARGUMENT',
      `mendTableFile: the inspection is of ${inspection?.bytes} bytes, the file has ${bytes.length}; ` +
        'pass inspectTableFile() of these same bytes'
    )
  }
  if (inspection.badBlocks === 0 && !inspection.badStructure) return undefined
  if (!hasTableMagic(bytes)) return undefined
  if (inspection.badIndex || inspection.badStructure || inspection.index === undefined) {
    rewriteFooter(bytes, undefined)
    return { blankedBlocks: 0, emptied: true, filterDropped: true }
  }
  // These handles come from an index whose checksum matched: they are where the blocks really are.
  for (const h of inspection.badData) writeEmptyBlock(bytes, h)
  if (inspection.badMeta) rewriteFooter(bytes, inspection.index)
  return { blankedBlocks: inspection.badData.length, emptied: false, filterDropped: inspection.badMeta }
}
