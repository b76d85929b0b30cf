// /api/docs in a browser, at 1280 and 390 px: Lastcall's API reference, not the reference tool's
// own offers (its developer toolbar with Deploy and Generate SDK, its AI agent, its MCP button),
// with the bearer scheme chosen for "try it". Screenshots go to test-artifacts/screenshots/.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Api, startApi } from './support/api.ts';
import { launchChromium, requireChromium } from './support/chromium.ts';

const SHOTS = join(import.meta.dirname, '..', 'test-artifacts', 'screenshots');
let api: Api;
let browser: Browser;

beforeAll(async () => {
  requireChromium();
  mkdirSync(SHOTS, { recursive: true });
  api = await startApi();
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await api?.close();
});

describe('/api/docs in a browser', () => {
  it("shows Lastcall's reference without the tool's own buttons, bearer auth chosen", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${api.url}/api/docs/`);
    await page.getByText('List campaigns').first().waitFor({ timeout: 30_000 });
    for (const [width, height] of [
      [1280, 900],
      [390, 844],
    ] as const) {
      await page.setViewportSize({ width, height });
      // biome-ignore lint/performance/useDomNodeTextContent: the text a reader sees, not hidden nodes'
      const text = await page.locator('body').innerText();
      for (const offer of ['Deploy', 'Generate SDK', 'Ask AI', 'Generate MCP', 'Developer Tools'])
        expect(text, `${offer} at ${width} px`).not.toContain(offer);
      await page.screenshot({ path: join(SHOTS, `api-docs-${width}.png`) });
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    // The authentication block offers the document's one scheme, selected: a bearer token.
    // biome-ignore lint/performance/useDomNodeTextContent: the text a reader sees, not hidden nodes'
    expect(await page.locator('body').innerText()).toMatch(/Bearer Token/i);
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);
});
