import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type BrowserContext, chromium } from 'playwright-core'

export const CHROMIUM = process.env.PEERSCOPE_CHROMIUM ?? '/usr/bin/chromium'
const available = existsSync(CHROMIUM)
if (!available && process.env.CI === 'true') {
  throw new Error(`Chromium is required in CI but missing at ${CHROMIUM}: run script/setup-test-deps`)
}

/** `false` when Chromium is there, else the reason a test skips (never under CI=true: see above). */
export const chromiumSkip: false | string = available
  ? false
  : `Chromium not found at ${CHROMIUM} (run script/setup-test-deps, or set PEERSCOPE_CHROMIUM)`

/**
 * Debian's Chromium, headless, with a fresh profile and the network it would reach on its own switched off
 * (this machine refuses those connections). `close()` also removes the profile.
 */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = await mkdtemp(join(tmpdir(), 'peerscope-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1360, height: 1000 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync'
    ]
  })
  return {
    context,
    close: async () => {
      await context.close()
      await rm(profile, { recursive: true, force: true })
    }
  }
}
