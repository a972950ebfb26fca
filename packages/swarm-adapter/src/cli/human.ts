// The CLI's default output, for people: aligned columns, TTL classes by name and times as dates with the time
// left. `--json` prints the HTTP API's shapes instead (see commands.ts).

import type { MigrateReport } from '@peerscope/peerstore-level'
import type { AddressView, Page, PeerDetail, PeerStoreStatsView, PeerSummary } from '../http/view.ts'

/** go-libp2p's address TTLs by their value in ms; the dashboard (assets/format.js) names them the same way. */
const TTL_CLASSES = new Map([
  [2 * 60_000, 'temporary'],
  [10 * 60_000, 'recently connected'],
  [15 * 60_000, 'recently connected'],
  [30 * 60_000, 'provider / observed'],
  [60 * 60_000, 'address']
])

/** `45s`, `14m 59s`, `15m`, `5h 3m`, `1h`, `2d 4h`. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  const two = (big: number, bigUnit: string, small: number, smallUnit: string) =>
    small === 0 ? `${big}${bigUnit}` : `${big}${bigUnit} ${small}${smallUnit}`
  if (s < 60) return `${s}s`
  if (s < 3600) return two(Math.floor(s / 60), 'm', s % 60, 's')
  if (s < 86400) return two(Math.floor(s / 3600), 'h', Math.floor((s % 3600) / 60), 'm')
  return two(Math.floor(s / 86400), 'd', Math.floor((s % 86400) / 3600), 'h')
}

/** `2025-06-01 12:00:00 UTC`. */
export function timestamp(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`
}

/** The TTL class of an address as the API gives it: its name when the API names it, else go's class of its TTL. */
export function ttlClass(address: AddressView): string {
  if (address.ttlName !== undefined) return address.ttlName
  if (address.ttl === null) return 'never expires'
  const name = TTL_CLASSES.get(address.ttl)
  return name === undefined ? `${duration(address.ttl)} TTL` : `${name} (${duration(address.ttl)})`
}

export function expiry(expiresAt: number | null, now: number): string {
  if (expiresAt === null) return 'never expires'
  const left = expiresAt - now
  return left <= 0
    ? `expired ${timestamp(expiresAt)}`
    : `expires ${timestamp(expiresAt)} (in ${duration(left)})`
}

/** Rows as left-aligned columns (numbers right-aligned), two spaces apart. */
function table(header: string[], rows: string[][], numeric: ReadonlySet<number> = new Set()): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}

const ms = (v: number | null): string =>
  v === null ? '-' : v >= 100 ? `${Math.round(v)} ms` : `${v.toFixed(1)} ms`

export function peersText(page: Page<PeerSummary>): string {
  const rows = page.items.map((p) => [
    p.peerId,
    String(p.addresses),
    String(p.protocols),
    p.pins.length === 0 ? '-' : p.pins.join(','),
    ms(p.latencyMs),
    p.agent ?? '-'
  ])
  const shown =
    page.items.length === 0
      ? `no peers shown of ${page.total}`
      : `peers ${page.offset + 1} to ${page.offset + page.items.length} of ${page.total}`
  const body =
    page.items.length === 0
      ? ''
      : `${table(['PEER', 'ADDRS', 'PROTOCOLS', 'PINS', 'LATENCY', 'AGENT'], rows, new Set([1, 2]))}\n`
  const more =
    page.offset + page.items.length < page.total
      ? ` (next page: --offset ${page.offset + page.items.length})`
      : ''
  return `${body}${shown}${more}; the local peer is not counted\n`
}

export function peerText(peer: PeerDetail, now: number): string {
  const lines = [
    `peer        ${peer.peerId}`,
    `agent       ${peer.agent ?? '-'}`,
    `latency     ${ms(peer.latencyMs)}`,
    `pins        ${peer.pins.length === 0 ? '-' : peer.pins.join(', ')}`,
    `public key  ${peer.publicKey === null ? '-' : `${peer.publicKey.length} characters of base64 (--json shows it)`}`,
    `addresses   ${peer.addresses.length}`
  ]
  if (peer.addresses.length > 0) {
    const rows = peer.addresses.map((a) => [
      a.multiaddr,
      ttlClass(a),
      expiry(a.expiresAt, now),
      a.certified ? 'certified' : ''
    ])
    lines.push(
      table(
        ['  ADDRESS', 'TTL', 'EXPIRY', ''],
        rows.map((r) => [`  ${r[0]}`, ...r.slice(1)])
      )
    )
  }
  lines.push(`protocols   ${peer.protocols.length}`)
  for (const p of peer.protocols) lines.push(`  ${p}`)
  const metadata = Object.entries(peer.metadata)
  lines.push(`metadata    ${metadata.length}`)
  for (const [key, value] of metadata) lines.push(`  ${key} = ${value}`)
  return `${lines.join('\n')}\n`
}

export function statsText(stats: PeerStoreStatsView): string {
  const gc = stats.lastGc
  return (
    [
      `peers         ${stats.peers} (the local peer is not counted)`,
      `addresses     ${stats.addresses}`,
      `pinned peers  ${stats.pinnedPeers}`,
      `last gc       ${gc === null ? 'none recorded' : `${timestamp(gc.at)}: ${gc.addressesRemoved} address(es) and ${gc.peersRemoved} peer(s) removed in ${ms(gc.durationMs)}`}`
    ].join('\n') + '\n'
  )
}

export function gcText(stats: PeerStoreStatsView): string {
  const gc = stats.lastGc!
  return (
    `gc removed ${gc.addressesRemoved} expired address(es) and ${gc.peersRemoved} peer(s) in ${ms(gc.durationMs)}; ` +
    `${stats.peers} peer(s) and ${stats.addresses} address(es) remain\n`
  )
}

export function migrateText(report: MigrateReport, from: string, db: string): string {
  const lines = [`migrated ${report.peers} peer(s) with ${report.addrs} address(es) from ${from} into ${db}`]
  if (report.skipped.length > 0) lines.push(`skipped ${report.skipped.length} key(s) that did not decode:`)
  for (const s of report.skipped.slice(0, 20)) lines.push(`  ${s.key}: ${s.reason}`)
  if (report.skipped.length > 20)
    lines.push(`  … and ${report.skipped.length - 20} more (--json lists them all)`)
  return `${lines.join('\n')}\n`
}
