import { MetricMapError } from './errors.ts'

/**
 * Byte layout of a shared map inside one SharedArrayBuffer. Every region is a typed-array view; the header says
 * how big each is, so a thread that receives only the buffer can rebuild the views.
 *
 *   header   Int32[16]                   magic, version, slots, capacity, maxKeyBytes, size, maxThreads, creating,
 *                                        lanes
 *   owners   Int32[maxThreads]           1 = pin index taken by an attached instance
 *   pins     Int32[maxThreads * 16]      slot+1 a thread is updating right now (one 64-byte line per thread)
 *   ctrl     Int32[slots]                (generation << 2) | state
 *   hashes   Int32[slots]                hash of the bound key
 *   lengths  Int32[slots]                UTF-8 byte length of the bound key
 *   values   BigInt64[lanes * slots]     the counters: lane-major, each lane `slots` long and 64-byte aligned,
 *                                        so threads adding into different lanes never share a cache line
 *   keys     Uint8[slots * maxKeyBytes]  the bound key bytes
 */

export const MAGIC = 0x4d4d4150 // "MMAP"
export const LAYOUT_VERSION = 3
const HEADER_INTS = 16
export const PIN_STRIDE = 16

export const H_MAGIC = 0
export const H_VERSION = 1
export const H_SLOTS = 2
export const H_CAPACITY = 3
export const H_MAX_KEY_BYTES = 4
export const H_SIZE = 5
export const H_MAX_THREADS = 6
/** Reservations of `size` whose slot is not bound yet: threads between reserving a unit and publishing a key. */
export const H_CREATING = 7
export const H_LANES = 8

export const MAX_CAPACITY = 1 << 22
export const MAX_KEY_BYTES_LIMIT = 4096
export const MAX_THREADS_LIMIT = 1024
export const MAX_LANES = 64

export interface TableGeometry {
  slots: number
  capacity: number
  maxKeyBytes: number
  maxThreads: number
  /** Counter lanes: a value is the sum of its slot in every lane (see the README, "Lanes"). */
  lanes: number
}

export interface TableViews extends TableGeometry {
  header: Int32Array
  owners: Int32Array
  pins: Int32Array
  ctrl: Int32Array
  hashes: Int32Array
  lengths: Int32Array
  values: BigInt64Array
  keys: Uint8Array
}

const align8 = (n: number): number => (n + 7) & ~7
const align64 = (n: number): number => (n + 63) & ~63

function offsets(g: TableGeometry) {
  const owners = HEADER_INTS * 4
  const pins = align8(owners + g.maxThreads * 4)
  const ctrl = pins + g.maxThreads * PIN_STRIDE * 4
  const hashes = ctrl + g.slots * 4
  const lengths = hashes + g.slots * 4
  // slots is a power of two >= 8, so every lane (slots * 8 bytes) starts on a 64-byte line too.
  const values = align64(lengths + g.slots * 4)
  const keys = values + g.lanes * g.slots * 8
  const end = keys + g.slots * g.maxKeyBytes
  return { owners, pins, ctrl, hashes, lengths, values, keys, end }
}

/** Table slots for a capacity: a power of two, at most half full, so probe runs stay short. */
export function slotsFor(capacity: number): number {
  let slots = 8
  while (slots < capacity * 2) slots *= 2
  return slots
}

export function byteLengthOf(g: TableGeometry): number {
  return offsets(g).end
}

export function initBuffer(buffer: SharedArrayBuffer, g: TableGeometry): void {
  const header = new Int32Array(buffer, 0, HEADER_INTS)
  header[H_VERSION] = LAYOUT_VERSION
  header[H_SLOTS] = g.slots
  header[H_CAPACITY] = g.capacity
  header[H_MAX_KEY_BYTES] = g.maxKeyBytes
  header[H_MAX_THREADS] = g.maxThreads
  header[H_LANES] = g.lanes
  // Published last: an attach that sees the magic sees the rest.
  Atomics.store(header, H_MAGIC, MAGIC)
}

export function viewsOf(buffer: unknown): TableViews {
  if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < HEADER_INTS * 4) {
    throw new MetricMapError('ERR_INVALID_BUFFER', 'expected the SharedArrayBuffer of a SharedMetricMap')
  }
  const header = new Int32Array(buffer, 0, HEADER_INTS)
  if (Atomics.load(header, H_MAGIC) !== MAGIC || header[H_VERSION] !== LAYOUT_VERSION) {
    throw new MetricMapError('ERR_INVALID_BUFFER', 'buffer is not a SharedMetricMap of this layout version')
  }
  const g: TableGeometry = {
    slots: header[H_SLOTS] as number,
    capacity: header[H_CAPACITY] as number,
    maxKeyBytes: header[H_MAX_KEY_BYTES] as number,
    maxThreads: header[H_MAX_THREADS] as number,
    lanes: header[H_LANES] as number
  }
  const valid =
    g.slots >= 8 &&
    (g.slots & (g.slots - 1)) === 0 &&
    g.capacity >= 1 &&
    g.capacity * 2 <= g.slots &&
    g.maxKeyBytes >= 1 &&
    g.maxKeyBytes <= MAX_KEY_BYTES_LIMIT &&
    g.maxThreads >= 1 &&
    g.maxThreads <= MAX_THREADS_LIMIT &&
    g.lanes >= 1 &&
    g.lanes <= MAX_LANES
  const o = offsets(g)
  if (!valid || buffer.byteLength < o.end) {
    throw new MetricMapError('ERR_INVALID_BUFFER', 'SharedMetricMap header is inconsistent with the buffer')
  }
  return {
    ...g,
    header,
    owners: new Int32Array(buffer, o.owners, g.maxThreads),
    pins: new Int32Array(buffer, o.pins, g.maxThreads * PIN_STRIDE),
    ctrl: new Int32Array(buffer, o.ctrl, g.slots),
    hashes: new Int32Array(buffer, o.hashes, g.slots),
    lengths: new Int32Array(buffer, o.lengths, g.slots),
    values: new BigInt64Array(buffer, o.values, g.lanes * g.slots),
    keys: new Uint8Array(buffer, o.keys, g.slots * g.maxKeyBytes)
  }
}
