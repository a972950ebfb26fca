// Which CRC32C and which Snappy decoder: each candidate on the blocks of real LevelDB table files, for speed
// (median of interleaved rounds, ratios against the one src/ uses) and for correctness (every stored checksum
// matched, the same output for every compressed block, and what each decoder does with damaged streams).
// The README's "Libraries" section comes from here. Sizes: BENCH_RECORDS (records written), BENCH_ROUNDS.
import { execFileSync } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { crc32c as nodeRsCrc32c } from '@node-rs/crc32'
import { envInteger, median, significant, startBench } from '@peerscope/bench-kit'
import SheetJsCrc32c from 'crc-32/crc32c.js'
import fc from 'fast-check'
import { createCRC32 } from 'hash-wasm'
import { uncompressSync } from 'snappy'
import { uncompress as snappyJsUncompress } from 'snappyjs'
import { type BlockHandle, inspectTableFile } from '../src/index.ts'
import { compactAll, writeRecords } from '../test/level-files.ts'
import { crc32c as slicing8Crc32c } from './baseline/crc32c-slicing8.ts'
import { unsnappy as baselineUnsnappy } from './baseline/snappy-decoder.ts'

const RECORDS = envInteger('BENCH_RECORDS', 150_000, { min: 1 })
const ROUNDS = envInteger('BENCH_ROUNDS', 15, { min: 1 })
const DAMAGED_STREAMS = envInteger('BENCH_DAMAGED_STREAMS', 5_000, { min: 1 })

type Crc = (data: Uint8Array, start: number, end: number) => number
type Decoder = (raw: Uint8Array) => Uint8Array

async function crcCandidates(): Promise<Record<string, Crc>> {
  const wasm = await createCRC32(0x82f63b78)
  return {
    '@node-rs/crc32 (used)': (d, s, e) => nodeRsCrc32c(d.subarray(s, e)) >>> 0,
    'ours before (slicing-by-8 JS)': slicing8Crc32c,
    'crc-32 (slicing-by-16 JS)': (d, s, e) => SheetJsCrc32c.buf(d.subarray(s, e)) >>> 0,
    'hash-wasm (WebAssembly)': (d, s, e) => {
      wasm.init()
      wasm.update(d.subarray(s, e))
      const out = wasm.digest('binary')
      return ((out[0]! << 24) | (out[1]! << 16) | (out[2]! << 8) | out[3]!) >>> 0
    }
  }
}

const decoders: Record<string, Decoder> = {
  'snappy (used)': (raw) => uncompressSync(raw, { asBuffer: true }) as Buffer,
  'ours before (JS)': baselineUnsnappy,
  'snappyjs (JS)': (raw) => snappyJsUncompress(raw, 64 * 1024 * 1024)
}

/** Real table files: `RECORDS` peer-store-like records written to LevelDB and compacted (Snappy on). */
async function tableFiles(): Promise<{ files: Buffer[]; blocks: Array<[Buffer, BlockHandle]> }> {
  const dir = await mkdtemp(join(tmpdir(), 'leveldb-mend-codecs-'))
  try {
    await writeRecords(dir, 0, RECORDS)
    await compactAll(dir)
    const names = (await readdir(dir)).filter((f) => f.endsWith('.ldb'))
    const files = await Promise.all(names.map((n) => readFile(join(dir, n))))
    const blocks: Array<[Buffer, BlockHandle]> = []
    for (const file of files) {
      const t = inspectTableFile('bench', file)
      for (const h of [...t.dataBlocks, ...t.metaBlocks, t.index!, t.metaindex!]) blocks.push([file, h])
    }
    return { files, blocks }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

function storedCrc(file: Buffer, h: BlockHandle): number {
  const masked = file.readUInt32LE(h.offset + h.size + 1)
  const rot = (masked - 0xa282ead8) >>> 0
  return ((rot >>> 17) | (rot << 15)) >>> 0
}

/** Times `pass` for each candidate, round after round in turn, so load changes hit every candidate alike. */
function race<T>(
  candidates: Record<string, T>,
  pass: (fn: T) => void
): Record<string, { first: number; median: number }> {
  const times: Record<string, number[]> = Object.fromEntries(
    Object.keys(candidates).map((name) => [name, []])
  )
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, fn] of Object.entries(candidates)) {
      const t0 = performance.now()
      pass(fn)
      times[name]!.push(performance.now() - t0)
    }
  }
  return Object.fromEntries(Object.entries(times).map(([n, t]) => [n, { first: t[0]!, median: median(t) }]))
}

// What loading each package costs a process that never used it: time and threads the import adds (Linux).
const IMPORT_PROBE = `
  import { readFileSync } from 'node:fs'
  const threads = () => Number(/Threads:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN)
  const before = threads()
  const t0 = performance.now()
  await import(process.argv[1])
  console.log(JSON.stringify({ ms: performance.now() - t0, threads: threads() - before }))`

function importCost(name: string): { ms: number; threads: number } {
  const runs = [0, 1, 2].map(
    () =>
      JSON.parse(
        execFileSync(process.execPath, ['--input-type=module', '-e', IMPORT_PROBE, name], {
          cwd: fileURLToPath(new URL('..', import.meta.url)),
          encoding: 'utf8'
        })
      ) as { ms: number; threads: number }
  )
  return { ms: significant(median(runs.map((r) => r.ms)), 2), threads: runs[0]!.threads }
}

/** Outcome of decoding one stream: its bytes as hex, or that it was refused. */
function outcome(decode: Decoder, raw: Uint8Array): string {
  try {
    return Buffer.from(decode(raw)).toString('hex')
  } catch {
    return 'refused'
  }
}

export async function benchCodecs(): Promise<void> {
  const bench = startBench('leveldb-mend-codecs', {
    records: RECORDS,
    rounds: ROUNDS,
    damagedStreams: DAMAGED_STREAMS
  })
  const { files, blocks } = await tableFiles()
  const bytes = files.reduce((n, f) => n + f.length, 0)
  const checked = blocks.reduce((n, [, h]) => n + h.size + 1, 0)
  console.log(
    `leveldb-mend codecs: ${RECORDS} records in ${files.length} table files (${(bytes / 1e6).toFixed(2)} MB), ` +
      `${blocks.length} blocks of ${Math.round(checked / blocks.length)} bytes on average; ${ROUNDS} rounds`
  )

  // CRC32C: the check computes one per block, over the block and its type byte.
  const crcs = await crcCandidates()
  const crcRows = []
  const crcTimes = race(crcs, (crc) => {
    for (const [file, h] of blocks) crc(file, h.offset, h.offset + h.size + 1)
  })
  const usedCrc = crcTimes['@node-rs/crc32 (used)']!.median
  for (const [name, crc] of Object.entries(crcs)) {
    let wrong = 0
    for (const [file, h] of blocks)
      if (crc(file, h.offset, h.offset + h.size + 1) !== storedCrc(file, h)) wrong++
    // Random bytes and ranges against the definition, one byte at a time.
    let disagree = 0
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), fc.nat(), (data, a) => {
        const start = data.length === 0 ? 0 : a % data.length
        let c = 0xffffffff
        for (const byte of data.subarray(start)) {
          c ^= byte
          for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
        }
        if (crc(data, start, data.length) !== (c ^ 0xffffffff) >>> 0) disagree++
      }),
      { numRuns: 300, seed: 7 }
    )
    const t = crcTimes[name]!
    crcRows.push({
      name,
      gbPerSecond: significant(checked / t.median / 1e6),
      firstPassMs: significant(t.first),
      vsUsed: significant(t.median / usedCrc),
      wrongBlocks: wrong,
      randomDisagreements: disagree
    })
  }
  console.log(
    '\n| CRC32C per block | GB/s (median) | first pass ms | time vs used | blocks whose stored checksum it missed | of 300 random inputs, wrong |'
  )
  console.log('|---|---:|---:|---:|---:|---:|')
  for (const r of crcRows) {
    console.log(
      `| ${r.name} | ${r.gbPerSecond} | ${r.firstPassMs} | ${r.vsUsed}x | ${r.wrongBlocks} | ${r.randomDisagreements} |`
    )
  }

  // Snappy: the check decompresses only index and meta-index blocks; every compressed block is decoded here, so
  // the timing has something to measure.
  const compressed = blocks
    .filter(([f, h]) => f[h.offset + h.size] === 1)
    .map(([f, h]) => f.subarray(h.offset, h.offset + h.size))
  const reference = compressed.map((raw) => outcome(decoders['snappy (used)']!, raw))
  let out = 0
  for (const raw of compressed) out += decoders['snappy (used)']!(raw).length
  const snappyTimes = race(decoders, (decode) => {
    for (const raw of compressed) decode(raw)
  })
  // Damaged streams: real compressed blocks with 1 to 4 bytes flipped (fixed seed).
  const damaged = fc
    .sample(
      fc.tuple(
        fc.nat(compressed.length - 1),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 })
      ),
      { numRuns: DAMAGED_STREAMS, seed: 20 }
    )
    .map(([i, flips]) => {
      const raw = Uint8Array.from(compressed[i]!)
      for (const [at, x] of flips) raw[at % raw.length]! ^= x
      return raw
    })
  const damagedReference = damaged.map((raw) => outcome(decoders['snappy (used)']!, raw))
  const usedSnappy = snappyTimes['snappy (used)']!.median
  const snappyRows = []
  for (const [name, decode] of Object.entries(decoders)) {
    const differs = compressed.filter((raw, i) => outcome(decode, raw) !== reference[i]).length
    let accepted = 0
    let differsDamaged = 0
    damaged.forEach((raw, i) => {
      const o = outcome(decode, raw)
      if (o !== 'refused') accepted++
      if (o !== damagedReference[i]) differsDamaged++
    })
    const t = snappyTimes[name]!
    snappyRows.push({
      name,
      mbPerSecond: significant(out / t.median / 1e3),
      firstPassMs: significant(t.first),
      vsUsed: significant(t.median / usedSnappy),
      differentOutput: differs,
      damagedAccepted: accepted,
      damagedDifferent: differsDamaged
    })
  }
  console.log(
    `\n| Snappy, ${compressed.length} compressed blocks | MB/s out (median) | first pass ms | time vs used | ` +
      `blocks decoded differently | damaged streams accepted (of ${damaged.length}) | damaged, result differs from used |`
  )
  console.log('|---|---:|---:|---:|---:|---:|---:|')
  for (const r of snappyRows) {
    console.log(
      `| ${r.name} | ${r.mbPerSecond} | ${r.firstPassMs} | ${r.vsUsed}x | ${r.differentOutput} | ${r.damagedAccepted} | ${r.damagedDifferent} |`
    )
  }
  const imports = Object.fromEntries(
    ['@node-rs/crc32', 'crc-32/crc32c.js', 'hash-wasm', 'snappy', 'snappyjs'].map((m) => [m, importCost(m)])
  )
  console.log('\n| package | import ms (median of 3 fresh processes) | threads it starts |')
  console.log('|---|---:|---:|')
  for (const [name, c] of Object.entries(imports)) console.log(`| ${name} | ${c.ms} | ${c.threads} |`)
  bench.finish({
    workload: `${RECORDS} records, ${files.length} table files, ${blocks.length} blocks; ${ROUNDS} rounds; ${damaged.length} damaged Snappy streams`,
    results: { crc32c: crcRows, snappy: snappyRows, imports }
  })
}
