// Headless Chromium for every browser test (playwright-core drives the system's Chromium; no
// browser download): the one place that launches it. The flags keep it quiet: no sandbox
// (containers), no GPU, no QUIC, no first-run, component-update, background-network or sync
// traffic of its own.
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Throws a clear error when Chromium is not installed where the tests look for it. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM))
    throw new Error(`Chromium is not installed at ${CHROMIUM}: apt-get install -y chromium`);
}

/** Chromium, once `requireChromium` has said it is there. */
export function launchChromium(): Promise<Browser> {
  requireChromium();
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
