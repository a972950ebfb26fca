// Bytes the store keeps are its own copy in a plain Uint8Array. `Buffer#slice` shares memory with the caller (and
// with Node's 8 KiB allocation pool), so a caller changing its buffer after a write would change what memory
// serves and not what the journal holds.

/** A copy of `bytes` in a new, plain Uint8Array. */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes)
}
