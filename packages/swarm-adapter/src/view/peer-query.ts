import type { Page, PeerOrder, PeerQuery, PeerSort, PeerSummary } from '../http/view.ts'

export const PEER_SORTS: readonly PeerSort[] = [
  'id',
  'connected',
  'rate',
  'traffic',
  'latency',
  'addresses',
  'protocols',
  'agent',
  'pins'
]
export const PEER_ORDERS: readonly PeerOrder[] = ['asc', 'desc']

/** Longest search text accepted, in characters. */
export const MAX_PEER_SEARCH_LENGTH = 256

/** A peer with the text a search looks through (already lower-cased). */
export interface PeerRow {
  summary: PeerSummary
  haystack: string
}

export const defaultOrder = (sort: PeerSort): PeerOrder =>
  sort === 'id' || sort === 'agent' ? 'asc' : 'desc'

/** True when the query needs every peer's summary (not just the page's): any search, filter or sort but id. */
export const needsAllRows = (query: PeerQuery): boolean =>
  (query.search ?? '') !== '' || query.connected !== undefined || (query.sort ?? 'id') !== 'id'

export function haystack(summary: PeerSummary, addresses: readonly string[], protocols: readonly string[]) {
  return [summary.peerId, summary.agent ?? '', ...addresses, ...protocols].join('\n').toLowerCase()
}

function sortValue(s: PeerSummary, sort: PeerSort): number | string | null {
  switch (sort) {
    case 'id':
      return s.peerId
    case 'connected':
      return s.connected ? 1 : 0
    case 'rate':
      return s.bandwidth === null ? null : s.bandwidth.rateIn + s.bandwidth.rateOut
    case 'traffic':
      return s.bandwidth === null ? null : s.bandwidth.totalIn + s.bandwidth.totalOut
    case 'latency':
      return s.latencyMs
    case 'addresses':
      return s.addresses
    case 'protocols':
      return s.protocols
    case 'agent':
      return s.agent
    case 'pins':
      return s.pins.length
  }
}

const byId = (a: PeerSummary, b: PeerSummary): number =>
  a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0

/** Filters, sorts (unknown values last in either order, ties by peer id) and cuts one page. */
export function queryPeers(rows: readonly PeerRow[], query: PeerQuery): Page<PeerSummary> {
  const needle = (query.search ?? '').toLowerCase()
  const sort = query.sort ?? 'id'
  const sign = (query.order ?? defaultOrder(sort)) === 'asc' ? 1 : -1
  const kept = rows.filter(
    (row) =>
      (needle === '' || row.haystack.includes(needle)) &&
      (query.connected === undefined || row.summary.connected === query.connected)
  )
  const keyed = kept.map((row) => ({ summary: row.summary, value: sortValue(row.summary, sort) }))
  keyed.sort((a, b) => {
    if (a.value === null || b.value === null) {
      if (a.value !== b.value) return a.value === null ? 1 : -1
      return byId(a.summary, b.summary)
    }
    const cmp = a.value < b.value ? -1 : a.value > b.value ? 1 : 0
    return cmp === 0 ? byId(a.summary, b.summary) : sign * cmp
  })
  return {
    total: keyed.length,
    limit: query.limit,
    offset: query.offset,
    items: keyed.slice(query.offset, query.offset + query.limit).map((k) => k.summary)
  }
}
