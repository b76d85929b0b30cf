// The console in a real browser: headless Chromium (playwright-core) against `buildServer`
// listening on 127.0.0.1 with an injected clock, signing in as an operator would, and full-page
// screenshots of each page at 1280 and 390 px under test-artifacts/console/ for a reviewer.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import type { PriceTable } from '../../src/campaigns/whatsapp-prices.ts';
import type { ServeConfig } from '../../src/config/config.ts';
import { buildServer } from '../../src/http/server.ts';
import { freePort } from '../../src/ops/local-servers/probe.ts';
import type { Clock } from '../../src/shared/clock.ts';
import type { Db } from '../../src/store/pool.ts';
import { launchChromium, requireChromium } from './chromium.ts';
import { waitFor } from './delivery.ts';
import { testServices } from './services.ts';

export const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'console');
export const ADMIN = 'development-admin-token';

export interface ConsoleBrowser {
  readonly base: string;
  readonly browser: Browser;
  /** Violations of the Content-Security-Policy reported by any page. */
  readonly cspViolations: string[];
  newPage(locale: string): Promise<{ context: BrowserContext; page: Page }>;
  close(): Promise<void>;
}

export async function startConsoleBrowser(
  config: ServeConfig,
  db: Db,
  clock: Clock,
  /** The WhatsApp price table the console prices with (default: none). */
  prices?: PriceTable,
): Promise<ConsoleBrowser> {
  requireChromium();
  mkdirSync(SCREENSHOTS, { recursive: true });
  const port = await freePort();
  const services = testServices(config, db, { clock, prices: prices ?? null });
  const app = await buildServer({ config, db, clock, services });
  await app.listen({ host: '127.0.0.1', port });
  const browser = await launchChromium();
  const cspViolations: string[] = [];
  return {
    base: `http://127.0.0.1:${port}`,
    browser,
    cspViolations,
    async newPage(locale) {
      const context = await browser.newContext({
        locale,
        timezoneId: 'Europe/Paris',
        viewport: { width: 1280, height: 900 },
        deviceScaleFactor: 1,
      });
      const page = await context.newPage();
      page.on('console', (message) => {
        if (/Content Security Policy|Refused to/i.test(message.text())) cspViolations.push(message.text());
      });
      return { context, page };
    },
    async close() {
      await browser.close();
      await app.close();
      await services.close();
    },
  };
}

export async function signIn(page: Page, base: string, key: string, label: RegExp): Promise<void> {
  await page.goto(`${base}/console`);
  await page.getByLabel(label).fill(key);
  await Promise.all([page.waitForURL(/\/console\/campaigns/), page.locator('form.sign-in button').click()]);
}

/** Full-page screenshots of the current page, 1280 px then 390 px wide (a phone). */
export async function screenshots(page: Page, name: string): Promise<void> {
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

/** Whether the page scrolls sideways as a whole (tables may scroll inside their own region). */
export function pageOverflows(page: Page): Promise<boolean> {
  // Measured two rendering frames after the call: the charts follow the page's width through a
  // ResizeObserver, whose callbacks run at the next frame, so right after a viewport change the
  // old, wider canvas is still there (the test failed that way on a loaded machine).
  return page.evaluate<boolean>(
    `new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() =>
       resolve(document.documentElement.scrollWidth > document.documentElement.clientWidth + 1))))`,
  );
}

/** Waits until the element's text matches (exact string, or a pattern) and returns it. */
export async function textMatches(
  locator: Locator,
  match: string | RegExp,
  timeoutMs = 10_000,
): Promise<string> {
  return waitFor(
    `text ${String(match)}`,
    async () => {
      const text = (await locator.first().textContent({ timeout: timeoutMs }))?.trim() ?? '';
      return (typeof match === 'string' ? text === match : match.test(text)) && text;
    },
    timeoutMs,
  );
}
