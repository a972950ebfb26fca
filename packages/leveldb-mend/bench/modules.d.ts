// Types for the two benchmark-only packages that ship none (only the calls used here).
declare module 'snappyjs' {
  export function uncompress(compressed: Uint8Array, maxLength?: number): Uint8Array
}
declare module 'crc-32/crc32c.js' {
  const CRC32C: { buf(data: Uint8Array, seed?: number): number }
  export default CRC32C
}
