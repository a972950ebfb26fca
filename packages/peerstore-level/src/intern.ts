// Peers speak much the same few protocols, but every record read from disk and every identify message
// brings its own copy of each name: 10k peers x 3 protocols held 30k copies of 3 strings. Entries share
// one copy per name instead. The table is bounded, so peers announcing made-up names cannot grow it.
const MAX_NAMES = 4096
const names = new Map<string, string>()

/** `list` with each name replaced by its shared copy (in place; returns `list`). */
export function internNames(list: string[]): string[] {
  for (let i = 0; i < list.length; i++) {
    const name = list[i]!
    const shared = names.get(name)
    if (shared !== undefined) list[i] = shared
    else if (names.size < MAX_NAMES) names.set(name, name)
  }
  return list
}
