// The js-libp2p PeerStore contract in our own words, run against one factory (view-factories.ts). The same
// cases run on @libp2p/peer-store as the control: a case that passes there and fails on ours is a bug, unless
// it is marked as a documented difference (context.ts `difference`), which asserts both sides.
import { describe } from 'node:test'
import type { ViewFactory } from '../view-factories.ts'
import { context } from './context.ts'
import { events } from './events.ts'
import { reads } from './reads.ts'
import { recordsAndKeys } from './records-keys.ts'
import { restart } from './restart.ts'
import { time } from './time.ts'
import { writes } from './writes.ts'

export { DIFFERENCE_IDS } from './context.ts'

export function viewConformanceSuite(factory: ViewFactory): void {
  describe(`PeerStore contract: ${factory.name}`, () => {
    const ctx = context(factory)
    reads(ctx)
    writes(ctx)
    recordsAndKeys(ctx)
    time(ctx)
    events(ctx)
    restart(ctx)
  })
}
