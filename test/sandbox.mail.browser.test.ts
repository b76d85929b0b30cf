// An email's HTML part in the sandbox inbox, in Chromium at 1280 and 390 px: shown as a mail
// client shows it (its inline styles applied), in a sandboxed frame where its scripts do not run
// and its links open beside the inbox; the plain-text part stays one click away. Screenshots go
// to test-artifacts/screenshots/.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmailChannel } from '../src/delivery/channels/email.ts';
import { type Sandbox, startSandbox } from '../src/sandbox/sandbox.service.ts';
import { launchChromium, requireChromium } from './support/chromium.ts';
import { APP_SECRET, PUBLIC_URL, startWebhookReceiver, type WebhookReceiver } from './support/sandbox.ts';

const SHOTS = join(import.meta.dirname, '..', 'test-artifacts', 'screenshots');
let receiver: WebhookReceiver;
let sandbox: Sandbox;
let email: EmailChannel;
let browser: Browser;

beforeAll(async () => {
  requireChromium();
  mkdirSync(SHOTS, { recursive: true });
  receiver = await startWebhookReceiver();
  sandbox = await startSandbox({
    token: 'sandbox-html-token',
    appSecret: APP_SECRET,
    phoneNumberId: '100000000000077',
    wabaId: '200000000000077',
    webhookUrl: receiver.url,
    publicUrl: PUBLIC_URL,
    statusDelayMs: 5,
    smtpPort: 0,
  });
  email = new EmailChannel({ smtpUrl: sandbox.smtpUrl!, timeoutMs: 10_000 });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  email?.close();
  await sandbox?.close();
  await receiver?.close();
});

describe('an email with an HTML part in the sandbox inbox', () => {
  it('shows the HTML as a mail client would, scripts off, the text part one click away', async () => {
    const sent = await email.sendEmail({
      to: 'nora@example.net',
      from: '"Lastcall demo" <reminders@lastcall.localhost>',
      subject: 'Last reminder',
      text: 'Hello Nora,\n\nDone? https://lastcall.example.org/done/abc.def\n',
      html: `<!doctype html><html><body style="background:#f6f6f4"><div style="padding:24px;background:#ffffff">
<p>Hello <strong id="who">Nora</strong>,</p>
<p><a id="done" href="https://lastcall.example.org/done/abc.def" style="display:inline-block;padding:10px 16px;background:#1a7f37;color:#ffffff">I’ve done it</a></p>
<script>document.body.dataset.ran = 'yes'</script></div></body></html>`,
      messageId: '<html1@lastcall.localhost>',
      unsubscribeUrl: 'https://lastcall.example.org/unsubscribe/tok',
      unsubscribeMailto: 'mailto:reminders@lastcall.localhost?subject=unsubscribe',
    });
    expect(sent.outcome).toBe('sent');
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${sandbox.url}/?to=nora%40example.net`);
    const frame = page.frameLocator('iframe.mail-html').first();
    await frame.locator('#who').waitFor({ timeout: 10_000 });
    expect(await frame.locator('#who').textContent()).toBe('Nora');
    // Its inline style is applied: the button is green, as in a mail client.
    type Styles = { getComputedStyle(element: unknown): { backgroundColor: string } };
    const background = (a: unknown) => (globalThis as unknown as Styles).getComputedStyle(a).backgroundColor;
    expect(await frame.locator('#done').evaluate(background)).toBe('rgb(26, 127, 55)');
    // Its script did not run, and a link opens beside the inbox.
    expect(await frame.locator('body').getAttribute('data-ran')).toBeNull();
    const src = await page.locator('iframe.mail-html').first().getAttribute('src');
    const part = await fetch(`${sandbox.url}${src}`);
    expect(part.headers.get('content-security-policy')).toMatch(
      /^sandbox allow-popups[^;]*; default-src 'none'/,
    );
    expect(await part.text()).toMatch(/^<base target="_blank">/);
    // The plain-text part is there, folded.
    expect(await page.locator('.mail-text .mail-body').isVisible()).toBe(false);
    await page.locator('.mail-text summary').first().click();
    expect(await page.locator('.mail-text .mail-body a').first().getAttribute('href')).toBe(
      'https://lastcall.example.org/done/abc.def',
    );
    for (const [width, height] of [
      [1280, 900],
      [390, 844],
    ] as const) {
      await page.setViewportSize({ width, height });
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(width);
      await page.screenshot({ path: join(SHOTS, `sandbox-mail-html-${width}.png`), fullPage: true });
    }
    await page.close();
  }, 60_000);
});
