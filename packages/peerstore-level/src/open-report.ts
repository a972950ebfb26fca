// What an open found, in words: the lines a node logs and the CLI prints when a store opened with damage.

import type { OpenReport } from './types.ts'

/**
 * One line per problem the open report shows (none for a clean open). `path` is the store's directory, named in
 * the repair advice when given.
 */
export function openReportWarnings(report: OpenReport, path?: string): string[] {
  const lines: string[] = []
  if (report.quarantined.length > 0) {
    lines.push(`${report.quarantined.length} damaged record(s) were quarantined on open`)
  }
  for (const m of report.mended) {
    lines.push(
      `damaged table file ${m.file}: ${m.badBlocks} of ${m.blocks} blocks failed their checksum and were ` +
        `mended (their records are lost); the original is at ${m.original}`
    )
  }
  if (report.unreadable.length > 0) {
    const repair =
      path === undefined ? 'run `peerscope repair` on its directory' : `run \`peerscope repair ${path}\``
    lines.push(
      `damaged table file: some ${report.unreadable.map((u) => u.kind).join(', ')} records could not be read ` +
        `(${report.unreadable[0]!.message}); ${repair}`
    )
  }
  for (const d of report.logDamage) {
    lines.push(
      `LevelDB's log ${d.file} was damaged at byte ${d.damageAt} (${d.reason}): LevelDB dropped ` +
        `${d.droppedBytes} bytes of writes; the writes the journal held (${report.journal.replayed} record(s)) ` +
        'were written again'
    )
  }
  if (report.journal.damage.length > 0) {
    const dropped = report.journal.damage.reduce((n, d) => n + d.dropped + 1, 0)
    lines.push(
      `the journal had ${report.journal.damage.length} damaged line(s): ${dropped} record(s) in the appends ` +
        `they belonged to were not replayed; the files are kept at ${report.journal.keptAt.join(', ')}`
    )
  }
  return lines
}
