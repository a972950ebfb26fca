import type { Page } from 'playwright-core'

// Functions passed to page.evaluate run in the browser. The project compiles without the DOM library, so these
// declare the few browser shapes they use.
interface Canvas {
  width: number
  height: number
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray }
  }
}
interface BrowserDocument {
  querySelector(selector: string): unknown
  documentElement: unknown
  body: { dataset: Record<string, string | undefined> }
}
declare const document: BrowserDocument
declare function getComputedStyle(element: unknown): { getPropertyValue(name: string): string }

/**
 * Pixels of a chart's canvas (uPlot draws on one canvas per chart) whose colour is within `tolerance` of each
 * of the given CSS colour variables, plus every painted pixel. Checks what was drawn, not what the DOM says.
 */
export function chartPixels(
  page: Page,
  chartId: string,
  colorVars: string[],
  tolerance = 40
): Promise<{ painted: number; byColor: Record<string, number> }> {
  return page.evaluate(
    ({ chartId, colorVars, tolerance }) => {
      const canvas = document.querySelector(`#${chartId} canvas`) as Canvas | null
      if (canvas === null) return { painted: 0, byColor: {} }
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height)
      const rgb = (hex: string): number[] => {
        const h = hex.trim().replace('#', '')
        return [0, 2, 4].map((i) => Number.parseInt(h.slice(i, i + 2), 16))
      }
      const style = getComputedStyle(document.documentElement)
      const targets = colorVars.map((v) => [v, rgb(style.getPropertyValue(v))] as const)
      const byColor: Record<string, number> = Object.fromEntries(colorVars.map((v) => [v, 0]))
      let painted = 0
      for (let i = 0; i < data.length; i += 4) {
        if ((data[i + 3] ?? 0) < 200) continue
        painted++
        for (const [name, [r, g, b]] of targets) {
          const d =
            Math.abs((data[i] ?? 0) - (r ?? 0)) +
            Math.abs((data[i + 1] ?? 0) - (g ?? 0)) +
            Math.abs((data[i + 2] ?? 0) - (b ?? 0))
          if (d <= tolerance) byColor[name] = (byColor[name] ?? 0) + 1
        }
      }
      return { painted, byColor }
    },
    { chartId, colorVars, tolerance }
  )
}

export const dataset = (page: Page, key: string): Promise<string | undefined> =>
  page.evaluate((k) => document.body.dataset[k], key)

/** Waits until the page finished `n` more polls than it had. */
export async function nextUpdates(page: Page, n: number): Promise<void> {
  const seen = Number((await dataset(page, 'updates')) ?? 0)
  await page.waitForFunction((target) => Number(document.body.dataset.updates ?? 0) >= target, seen + n, {
    timeout: 20_000
  })
}

/** The page's own formatting (assets/format.js), so expected texts are computed as the page computes them. */
export function pageFormat(page: Page, fn: string, ...args: unknown[]): Promise<string> {
  return page.evaluate(
    ({ fn, args }) => {
      const format = (globalThis as unknown as Record<string, Record<string, (...a: unknown[]) => string>>)
        .PeerscopeFormat
      return format?.[fn]?.(...args) ?? ''
    },
    { fn, args }
  )
}
