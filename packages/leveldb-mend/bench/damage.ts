// What each kind of damage to a table file costs a LevelDB of 40,000 records in two table files: what LevelDB
// alone reads from it (in a child process, since it may abort), how long `checkTables` and `mendTables` take,
// and what LevelDB reads once the tables are mended. The README's "What damage costs" comes from here.
// Sizes: BENCH_DAMAGE_RECORDS (records in all), BENCH_DAMAGE_LATER (of those, written after the compaction).
import { execFile } from 'node:child_process'
import { cp, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { envInteger, startBench } from '@peerscope/bench-kit'
import { checkTables, mendTables } from '../src/index.ts'
import { compactAll, tableDamages, tableFiles, writeRecords } from '../test/level-files.ts'

const RECORDS = envInteger('BENCH_DAMAGE_RECORDS', 40_000, { min: 1 })
// Written after the compaction, so they make a newer table file: 15% by default (6,000 of 40,000).
const LATER = envInteger('BENCH_DAMAGE_LATER', Math.round(RECORDS * 0.15), { max: RECORDS })

// Reads every record from the start, as a program using LevelDB would; prints how many, and the error if any.
const READER = `
  const { Level } = await import('level')
  const db = new Level(process.argv[1])
  let read = 0
  let error = null
  try {
    await db.open()
    for await (const _ of db.iterator({ gte: '!addrs!' })) read++
  } catch (err) { error = err.code ?? err.message }
  await db.close().catch(() => {})
  console.log(JSON.stringify({ read, error }))`

/** What LevelDB alone reads, in its own process: '(aborted)' when LevelDB's assertion killed it. */
function readInChild(path: string): Promise<string> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', READER, path],
      { cwd: fileURLToPath(new URL('..', import.meta.url)) },
      (err, stdout) => {
        if (err?.signal != null) return resolve(`aborted (${err.signal})`)
        const { read, error } = JSON.parse(stdout) as { read: number; error: string | null }
        resolve(error === null ? String(read) : `${read}, then ${error}`)
      }
    )
  })
}

interface Row {
  damage: string
  badBlocks: number
  plainRead: string
  checkMs: number
  mendMs: number
  blanked: number
  emptied: number
  filtersDropped: number
  mendedRead: string
}

export async function benchDamage(): Promise<void> {
  const bench = startBench('leveldb-mend-damage', { records: RECORDS, later: LATER })
  const work = await mkdtemp(join(tmpdir(), 'leveldb-mend-damage-'))
  try {
    const reference = join(work, 'reference')
    await writeRecords(reference, 0, RECORDS - LATER)
    await compactAll(reference)
    await writeRecords(reference, RECORDS - LATER, RECORDS)
    await compactAll(reference) // the log becomes a newer table, next to the compacted ones
    const files = await tableFiles(reference)
    const big = files.reduce((a, b) => (b.size > a.size ? b : a))
    const small = files.find((f) => f !== big) ?? big

    const cases = tableDamages(big, small, files)

    const rows: Row[] = []
    for (const [damage, apply] of cases) {
      const path = join(await mkdtemp(join(work, 'case-')), 'db')
      await cp(reference, path, { recursive: true })
      await apply(path)
      const plain = `${path}-plain`
      await cp(path, plain, { recursive: true })
      const plainRead = await readInChild(plain)
      let t0 = performance.now()
      const checks = await checkTables(path)
      const checkMs = performance.now() - t0
      t0 = performance.now()
      const { mended } = await mendTables(path)
      const mendMs = performance.now() - t0
      rows.push({
        damage,
        badBlocks: checks.reduce((n, c) => n + c.badBlocks, 0),
        plainRead,
        checkMs: Math.round(checkMs * 10) / 10,
        mendMs: Math.round(mendMs * 10) / 10,
        blanked: mended.reduce((n, m) => n + m.blankedBlocks, 0),
        emptied: mended.filter((m) => m.emptied).length,
        filtersDropped: mended.filter((m) => m.filterDropped && !m.emptied).length,
        mendedRead: await readInChild(path)
      })
    }

    console.log(
      `leveldb-mend damage: ${RECORDS} records; tables ${files.map((t) => `${t.name} ${(t.size / 1e6).toFixed(2)} MB`).join(', ')}`
    )
    console.log(
      '| damage | bad blocks | LevelDB alone reads | checkTables ms | mendTables ms | blocks blanked | files emptied | filters dropped | LevelDB reads after mendTables |'
    )
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|')
    for (const r of rows) {
      console.log(
        `| ${r.damage} | ${r.badBlocks} | ${r.plainRead} | ${r.checkMs.toFixed(1)} | ${r.mendMs.toFixed(1)} | ` +
          `${r.blanked} | ${r.emptied} | ${r.filtersDropped} | ${r.mendedRead} |`
      )
    }
    bench.finish({
      workload: `${RECORDS} records in ${files.length} table files (${LATER} written after a compaction); one damage per row`,
      results: Object.fromEntries(rows.map((r) => [r.damage, r]))
    })
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}
