// Block checksums as LevelDB writes them: CRC32C (Castagnoli) of the block and its type byte, stored masked.
//
// The CRC itself comes from `@node-rs/crc32` (SSE 4.2 / ARMv8 CRC instructions, prebuilt for each platform):
// every open checks every byte of every table file, so its speed is part of the open time. The README's
// "Libraries" section has the measurements that chose it over our own slicing-by-8 table code and two others.
import { crc32c as hardwareCrc32c } from '@node-rs/crc32'

/** CRC32C (Castagnoli) of `data[start, end)`, as LevelDB computes it. */
export function crc32c(data: Uint8Array, start = 0, end = data.length): number {
  return hardwareCrc32c(data.subarray(start, end)) >>> 0
}

// LevelDB stores CRCs masked (rotated and offset) so a CRC of data holding CRCs stays strong.
const MASK_DELTA = 0xa282ead8

/** The CRC a stored (masked) checksum stands for. */
export function unmaskChecksum(masked: number): number {
  const rot = (masked - MASK_DELTA) >>> 0
  return ((rot >>> 17) | (rot << 15)) >>> 0
}

/** The checksum LevelDB stores for a CRC. */
export function maskChecksum(crc: number): number {
  return (((crc >>> 15) | (crc << 17)) + MASK_DELTA) >>> 0
}
