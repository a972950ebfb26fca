// Reading the LevelDB table file format (`*.ldb` / `*.sst`) and checking every block checksum in it.
//
// Layout: data blocks, meta blocks (the bloom filter), a meta-index block, an index block, then a 48-byte footer
// holding the meta-index and index handles and a magic number. Every block is followed by a 5-byte trailer: a
// type byte (0 plain, 1 Snappy) and the masked CRC32C of the block and its type byte. Data blocks are only
// checksummed here, never decompressed; the index and meta-index are decompressed to find the other blocks.

import { uncompressSync } from 'snappy'
import { crc32c, unmaskChecksum } from './checksum.ts'
import { LevelDbMendError } from './errors.ts'

/** The checksum scan of one table file. */
export interface TableFileCheck {
  file: string
  bytes: number
  /** Blocks whose checksum was checked: data, index, meta-index and filter blocks. */
  blocks: number
  /** Blocks whose checksum did not match, or that lie past the end of the file. */
  badBlocks: number
  /** Set when the file could not be checked past its footer or index: every record in it is unreadable. */
  error?: string
}

/** Where a block sits in a table file (its trailer follows it). */
export interface BlockHandle {
  offset: number
  size: number
}

/** What the scan of one table file found, for checking and for mending. */
export interface TableInspection extends TableFileCheck {
  /** Where the blocks are (as far as the footer and index could be read). */
  index?: BlockHandle
  metaindex?: BlockHandle
  dataBlocks: BlockHandle[]
  metaBlocks: BlockHandle[]
  /** Data blocks whose checksum failed. */
  badData: BlockHandle[]
  /** The index block failed: no record of the file can be found. */
  badIndex: boolean
  /** The meta-index or a block it names (the bloom filter) failed. */
  badMeta: boolean
  /** The footer (magic number intact) names blocks that are not there: the whole file must be emptied. */
  badStructure: boolean
}

const TABLE_MAGIC = [0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb] // 0xdb4775248b80fb57, little-endian
export const FOOTER = 48
export const TRAILER = 5
// LevelDB's blocks are about 4 KiB before compression (a single large value makes one larger): a Snappy header
// claiming more than this is damage, and is refused before anything that size is allocated.
const MAX_BLOCK = 64 * 1024 * 1024

/** The footer ends in LevelDB's table magic number. */
export function hasTableMagic(buf: Uint8Array): boolean {
  const at = buf.length - FOOTER + 40
  return buf.length >= FOOTER && TABLE_MAGIC.every((b, i) => buf[at + i] === b)
}

/** The file does not follow the table format where it was read; never escapes this package. */
class FormatError extends Error {}

function varint(buf: Uint8Array, pos: number): [number, number] {
  let value = 0
  for (let shift = 0; shift < 64; shift += 7) {
    const b = buf[pos++]
    if (b === undefined) throw new FormatError('varint past end')
    value += (b & 0x7f) * 2 ** shift
    if (b < 0x80) return [value, pos]
  }
  throw new FormatError('varint too long')
}

function handleAt(buf: Uint8Array, pos: number): [BlockHandle, number] {
  const [offset, p1] = varint(buf, pos)
  const [size, p2] = varint(buf, p1)
  return [{ offset, size }, p2]
}

/** Snappy block decompression (index and meta-index blocks may be compressed); the `snappy` package is strict. */
function unsnappy(raw: Uint8Array): Uint8Array {
  const [length] = varint(raw, 0)
  if (length > MAX_BLOCK) throw new FormatError('snappy length')
  try {
    return uncompressSync(raw, { asBuffer: true }) as Buffer
  } catch (err) {
    throw new FormatError(`snappy: ${(err as Error).message}`)
  }
}

/** True when the block's stored checksum matches; throws FormatError when it lies past the file's end. */
function blockOk(file: Uint8Array, h: BlockHandle): boolean {
  const end = h.offset + h.size
  if (end + TRAILER > file.length) throw new FormatError('block past end of file')
  const stored =
    (file[end + 1]! | (file[end + 2]! << 8) | (file[end + 3]! << 16) | (file[end + 4]! << 24)) >>> 0
  return crc32c(file, h.offset, end + 1) === unmaskChecksum(stored)
}

function blockContents(file: Uint8Array, h: BlockHandle): Uint8Array {
  const raw = file.subarray(h.offset, h.offset + h.size)
  const type = file[h.offset + h.size]
  if (type === 0) return raw
  if (type === 1) return unsnappy(raw)
  throw new FormatError(`unknown block type ${type}`)
}

/** The values of a block's entries (for index and meta-index blocks: handles of other blocks). */
function blockHandles(block: Uint8Array): BlockHandle[] {
  if (block.length < 4) throw new FormatError('block too short')
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength)
  const restarts = view.getUint32(block.length - 4, true)
  // As LevelDB: no restart points, no entries, whatever bytes come before (a mended block is all zeros).
  if (restarts === 0) return []
  const end = block.length - 4 - restarts * 4
  if (end < 0) throw new FormatError('bad restart count')
  const out: BlockHandle[] = []
  let p = 0
  while (p < end) {
    const [, p1] = varint(block, p) // shared key bytes
    const [unshared, p2] = varint(block, p1)
    const [valueLength, p3] = varint(block, p2)
    const valueStart = p3 + unshared
    if (valueStart + valueLength > end) throw new FormatError('entry past end of block')
    out.push(handleAt(block, valueStart)[0])
    p = valueStart + valueLength
  }
  return out
}

function assertBytes(bytes: unknown, name: string): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array)) {
    throw new LevelDbMendError('ERR_INVALID_ARGUMENT', `${name} must be a Uint8Array (a table file's bytes)`)
  }
}

/**
 * Checks every block checksum of one table file and finds where its blocks are. Read-only. `file` is only a
 * name for the report.
 */
export function inspectTableFile(file: string, bytes: Uint8Array): TableInspection {
  assertBytes(bytes, 'inspectTableFile: bytes')
  return inspect(file, bytes)
}

function inspect(file: string, buf: Uint8Array): TableInspection {
  const result: TableInspection = {
    file,
    bytes: buf.length,
    blocks: 0,
    badBlocks: 0,
    dataBlocks: [],
    metaBlocks: [],
    badData: [],
    badIndex: false,
    badMeta: false,
    badStructure: false
  }
  if (buf.length < FOOTER) {
    result.error = `too short to be a table (${buf.length} bytes): truncated`
    return result
  }
  if (!hasTableMagic(buf)) {
    result.error = 'bad magic number: truncated or overwritten'
    return result
  }
  const footer = buf.subarray(buf.length - FOOTER)
  try {
    const [metaindex, p] = handleAt(footer, 0)
    const [index] = handleAt(footer, p)
    result.index = index
    result.metaindex = metaindex
    result.blocks += 2
    if (!blockOk(buf, index)) {
      result.badBlocks++
      result.badIndex = true
      result.error = 'index block checksum mismatch: no record in this file can be found'
    }
    // The footer has no checksum of its own: a meta-index handle that fails is dropped, not trusted.
    let meta: BlockHandle[] = []
    try {
      if (blockOk(buf, metaindex)) meta = blockHandles(blockContents(buf, metaindex))
      else result.badMeta = true
    } catch (err) {
      if (!(err instanceof FormatError)) throw err
      result.badMeta = true
    }
    if (result.badMeta) result.badBlocks++
    const data = result.badIndex ? [] : blockHandles(blockContents(buf, index))
    result.dataBlocks = data
    result.metaBlocks = meta
    for (const [handles, isData] of [
      [data, true],
      [meta, false]
    ] as const) {
      for (const h of handles) {
        result.blocks++
        let ok: boolean
        try {
          ok = blockOk(buf, h)
        } catch (err) {
          if (!(err instanceof FormatError)) throw err
          ok = false
        }
        if (ok) continue
        result.badBlocks++
        if (!isData) result.badMeta = true
        else if (h.offset + h.size + TRAILER <= buf.length) result.badData.push(h)
        else {
          // A handle past the end (a truncated file) cannot be mended in place.
          result.badStructure = true
          result.error = 'a data block lies past the end of the file: truncated'
        }
      }
    }
  } catch (err) {
    if (!(err instanceof FormatError)) throw err
    result.badStructure = true
    result.error = `unreadable table structure (${err.message})`
  }
  return result
}

/** The part of an inspection that reports are made of. */
export function tableFileCheck(inspection: TableInspection): TableFileCheck {
  const { file, bytes, blocks, badBlocks, error } = inspection
  return { file, bytes, blocks, badBlocks, ...(error === undefined ? {} : { error }) }
}

/** Checks every block checksum of one table file. Read-only. `file` is only a name for the report. */
export function checkTableFile(file: string, bytes: Uint8Array): TableFileCheck {
  assertBytes(bytes, 'checkTableFile: bytes')
  return tableFileCheck(inspect(file, bytes))
}
