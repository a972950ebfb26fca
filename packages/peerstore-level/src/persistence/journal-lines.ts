// Encodes journal lines (the format is described at the top of journal.ts) straight into bytes: each record is
// written into one reused buffer, its CRC-32 taken over the bytes already there, and a whole append leaves as one
// slice of that buffer. Building the text first and encoding it (`Buffer.from` per append, a CRC call per line on
// a fresh view) cost about as much as the write(2) itself; the bytes written are the same.
import { crc32 } from 'node:zlib'
import type { RecordKind } from '../types.ts'

const TAB = 0x09
const NEWLINE = 0x0a
/** Bytes before a line's body: 8 hex digits of its checksum, then a tab. */
const CHECKSUM_BYTES = 9
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1')
/** First buffer size; it doubles as needed and shrinks back after an append much larger than usual. */
const INITIAL_BYTES = 16 * 1024
/**
 * A buffer grown past this is dropped after its append, not kept for the next one: a GC slice's deletes (up to
 * 1024 peers, a line per record kind) stay under it, an import's 1 MiB chunks do not.
 */
const KEEP_BYTES = 1024 * 1024

/**
 * CRC-32 (the zlib/PNG polynomial, as `zlib.crc32`) in eight 256-entry tables, for eight bytes per step. Under
 * `SHORT_LINE` bytes this is cheaper than the native call (whose fixed cost is a few hundred ns); above, native.
 */
const CRC_TABLES = ((): Int32Array => {
  const t = new Int32Array(8 * 256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n] as number
    for (let k = 1; k < 8; k++) {
      c = (t[c & 255] as number) ^ (c >>> 8)
      t[k * 256 + n] = c
    }
  }
  return t
})()
const SHORT_LINE = 128

function crcOf(bytes: Buffer, start: number, end: number): number {
  if (end - start >= SHORT_LINE)
    return crc32(new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start))
  const t = CRC_TABLES
  let c = -1
  let i = start
  for (; i + 8 <= end; i += 8) {
    const lo =
      c ^
      ((bytes[i] as number) |
        ((bytes[i + 1] as number) << 8) |
        ((bytes[i + 2] as number) << 16) |
        ((bytes[i + 3] as number) << 24))
    c =
      (t[1792 + (lo & 255)] as number) ^
      (t[1536 + ((lo >>> 8) & 255)] as number) ^
      (t[1280 + ((lo >>> 16) & 255)] as number) ^
      (t[1024 + (lo >>> 24)] as number) ^
      (t[768 + (bytes[i + 4] as number)] as number) ^
      (t[512 + (bytes[i + 5] as number)] as number) ^
      (t[256 + (bytes[i + 6] as number)] as number) ^
      (t[bytes[i + 7] as number] as number)
  }
  for (; i < end; i++) c = (t[(c ^ (bytes[i] as number)) & 255] as number) ^ (c >>> 8)
  return ~c >>> 0
}

/**
 * The kind field of a line that removes whole peers: every record of each peer it lists is deleted (journal.ts).
 * Not a record kind, so code that predates it reports the line as damaged and replays none of its append.
 */
export const REMOVED_KIND = 'gone'

/** A peer text `keyField` writes as it is: no control character, no quote. */
const UNQUOTED = /^[ !#-\uffff]*$/

/** A peer text that could break a line (a control character) or read as quoted is written as a JSON string. */
export function keyField(key: string): string {
  return UNQUOTED.test(key) ? key : JSON.stringify(key)
}

/** Lines of journal appends, encoded one record at a time into a buffer reused from append to append. */
export class JournalLines {
  #bytes = Buffer.allocUnsafe(INITIAL_BYTES)
  #length = 0
  /** The append being encoded: records in it, records added so far, and its `/<n>\t`. */
  #size = 0
  #added = 0
  #sizeField = ''
  /** The peer of the last line, and where its field's bytes are: a peer's next line copies them. */
  #lastKey: string | undefined
  #lastKeyStart = 0
  #lastKeyEnd = 0

  /** Bytes encoded since the last `take`. */
  get length(): number {
    return this.#length
  }

  /** Starts an append of `n` records. */
  begin(n: number): void {
    this.#size = n
    this.#added = 0
    this.#sizeField = `/${n}\t`
  }

  /** Adds the next record of the append: a put of `value` (JSON text), or a delete when `value` is undefined. */
  add(kind: RecordKind, key: string, value: string | undefined): void {
    const sameKey = key === this.#lastKey
    const field = sameKey ? key : keyField(key)
    const start = this.#length
    // At most 3 UTF-8 bytes per UTF-16 unit (a surrogate pair: 4 bytes for 2 units).
    let at = this.#head(
      kind,
      (sameKey ? this.#lastKeyEnd - this.#lastKeyStart : 3 * field.length) +
        (value == null ? 0 : 1 + 3 * value.length)
    )
    const bytes = this.#bytes
    if (sameKey) {
      const from = this.#lastKeyStart
      const length = this.#lastKeyEnd - from
      bytes.copyWithin(at, from, from + length)
      this.#lastKeyStart = at
      at += length
    } else {
      this.#lastKeyStart = at
      at = writeText(bytes, at, field)
      this.#lastKey = key
    }
    this.#lastKeyEnd = at
    if (value != null) {
      bytes[at++] = TAB
      at = writeText(bytes, at, value)
    }
    this.#seal(start, at)
  }

  /**
   * Adds the next record of the append: the removal of whole peers (`keys`, at least one), as one line of kind
   * `REMOVED_KIND` listing them (journal.ts). GC removes peers by the thousand; a line per record of each cost more
   * than the rest of its run.
   */
  addRemoved(keys: readonly string[]): void {
    if (keys.length === 0) throw new RangeError('a removal line names at least one peer')
    const fields = keys.map(keyField).join('\t')
    const start = this.#length
    const body = this.#head(REMOVED_KIND, 3 * fields.length)
    this.#seal(start, writeText(this.#bytes, body, fields))
    this.#lastKey = undefined
  }

  /**
   * Starts the next line of the append: room for its head and `body` more bytes, then its head (the position in the
   * append, the kind, a tab; the checksum goes in front at `#seal`). Returns where the body starts.
   */
  #head(kind: string, body: number): number {
    if (this.#added >= this.#size) throw new RangeError(`an append of ${this.#size} records got more`)
    const i = ++this.#added
    // 10 digits and 3 separators at most besides the size field and kind.
    this.#reserve(CHECKSUM_BYTES + 14 + this.#sizeField.length + kind.length + body)
    const bytes = this.#bytes
    let at = writeDecimal(bytes, this.#length + CHECKSUM_BYTES, i)
    at = writeAscii(bytes, at, this.#sizeField)
    at = writeAscii(bytes, at, kind)
    bytes[at++] = TAB
    return at
  }

  /** Ends the line that starts at `start` and runs to `at`: its newline, and its checksum in front. */
  #seal(start: number, at: number): void {
    const bytes = this.#bytes
    let crc = crcOf(bytes, start + CHECKSUM_BYTES, at)
    bytes[at++] = NEWLINE
    for (let d = 7; d >= 0; d--) {
      bytes[start + d] = HEX_DIGITS[crc & 15] as number
      crc >>>= 4
    }
    bytes[start + 8] = TAB
    this.#length = at
  }

  /**
   * The bytes added since the last `take`, valid until the next `add` (the buffer is reused): write them before
   * adding more, or copy them.
   */
  take(): Buffer {
    const out = this.#bytes.subarray(0, this.#length)
    this.#length = 0
    this.#lastKey = undefined
    if (this.#bytes.length > KEEP_BYTES) this.#bytes = Buffer.allocUnsafe(INITIAL_BYTES)
    return out
  }

  #reserve(more: number): void {
    const need = this.#length + more
    if (need <= this.#bytes.length) return
    let size = this.#bytes.length * 2
    while (size < need) size *= 2
    const grown = Buffer.allocUnsafe(size)
    this.#bytes.copy(grown, 0, 0, this.#length)
    this.#bytes = grown
  }
}

/** A whole number from 1 to 2^31 - 1 (a position in an append) in decimal. */
function writeDecimal(bytes: Buffer, at: number, value: number): number {
  let digits = 1
  for (let rest = value; rest >= 10; rest = (rest / 10) | 0) digits++
  let rest = value
  for (let d = digits - 1; d >= 0; d--) {
    bytes[at + d] = 0x30 + (rest % 10)
    rest = (rest / 10) | 0
  }
  return at + digits
}

/** `text` known to be ASCII (a record kind, digits). */
function writeAscii(bytes: Buffer, at: number, text: string): number {
  for (let k = 0; k < text.length; k++) bytes[at + k] = text.charCodeAt(k)
  return at + text.length
}

/** `text` as UTF-8 (as `Buffer.from(text, 'utf8')` encodes it: a lone surrogate becomes U+FFFD). */
function writeText(bytes: Buffer, at: number, text: string): number {
  return at + bytes.write(text, at, 'utf8')
}
