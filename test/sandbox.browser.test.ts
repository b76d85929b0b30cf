import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkWebhookSignature } from '../src/inbound/webhook-signature.ts';
import { type Sandbox, startSandbox } from '../src/sandbox/sandbox.service.ts';
import { launchChromium, requireChromium } from './support/chromium.ts';
import {
  APP_SECRET,
  PUBLIC_URL,
  sendShippedTemplate,
  startWebhookReceiver,
  until,
  type WebhookReceiver,
} from './support/sandbox.ts';

let receiver: WebhookReceiver;
let sandbox: Sandbox;
let browser: Browser;

beforeAll(async () => {
  requireChromium();
  receiver = await startWebhookReceiver();
  sandbox = await startSandbox({
    token: 'sandbox-browser-token',
    appSecret: APP_SECRET,
    phoneNumberId: '100000000000099',
    wabaId: '200000000000099',
    webhookUrl: receiver.url,
    publicUrl: PUBLIC_URL,
    statusDelayMs: 5,
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await sandbox?.close();
  await receiver?.close();
});

it('shows new messages as they arrive and sends STOP when the button is pressed', async () => {
  const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(`${sandbox.url}/`);
  expect(await page.locator('#thread .empty').count()).toBe(1);

  await sendShippedTemplate(sandbox, {
    to: '+33698765432',
    locale: 'fr',
    template: 'one-week',
    name: 'Jean-Luc',
    assistant: 'both',
  });
  // The script notices the first conversation and opens it, composer included.
  await page.waitForURL(/\?to=33698765432$/, { timeout: 10_000 });
  const bubble = page.locator('.msg.from-lastcall').first();
  await bubble.waitFor({ timeout: 10_000 });
  expect(await bubble.locator('.body').textContent()).toContain('Bonjour Jean-Luc');
  expect(await bubble.locator('a.button-link').getAttribute('href')).toBe(`${PUBLIC_URL}/done/sample-token`);

  // A second message while the page stays open: swapped in by polling, ticks up to "read".
  await sendShippedTemplate(sandbox, {
    to: '+33698765432',
    locale: 'fr',
    template: 'last-day',
    name: 'Jean-Luc',
    assistant: 'both',
  });
  await page.locator('.msg.from-lastcall').nth(1).waitFor({ timeout: 10_000 });
  await page.locator('.msg.from-lastcall .ticks.read').nth(1).waitFor({ timeout: 10_000 });

  const before = receiver.received.length;
  await page.getByRole('button', { name: 'STOP' }).click();
  await page.locator('.msg.from-subscriber').waitFor({ timeout: 10_000 });
  await until('the STOP webhook', () => receiver.received.length > before);
  const webhook = receiver.received.at(-1)!;
  expect(checkWebhookSignature(APP_SECRET, webhook.raw, webhook.headers['x-hub-signature-256'])).toBe('ok');
  const value = webhook.json.entry[0]!.changes[0]!.value as {
    messages: { from: string; text: { body: string } }[];
  };
  expect(value.messages[0]).toMatchObject({ from: '33698765432', text: { body: 'STOP' } });
  expect(await page.locator('.msg.from-subscriber').textContent()).toContain('Lastcall answered 200');

  // Free text through the same form.
  // Enter in the text box sends the text, not the first quick reply.
  await page.getByLabel('Reply as +33698765432').fill('Déjà fait, merci');
  await page.getByLabel('Reply as +33698765432').press('Enter');
  await page.locator('.msg.from-subscriber').nth(1).waitFor({ timeout: 10_000 });
  await until('the free-text webhook', () => receiver.received.length > before + 1);
  expect(receiver.received.at(-1)!.json.entry[0]!.changes[0]!.value).toMatchObject({
    messages: [{ text: { body: 'Déjà fait, merci' } }],
  });
  expect(errors).toEqual([]);
  await page.screenshot({ path: '/tmp/lastcall-sandbox-inbox.png' });
  await page.close();
});

it('lets the person adopt a username: their replies then carry only their business-scoped user id', async () => {
  const bsuid = sandbox.graph.identities.of('33698765432').userId;
  for (const width of [1280, 390]) {
    const page = await browser.newPage({ viewport: { width, height: 800 } });
    await page.goto(`${sandbox.url}/?to=33698765432`);
    if (width === 1280) {
      await page.getByLabel(/Adopt a WhatsApp username/).fill('jl.d');
      await Promise.all([
        page.waitForURL(/\?to=33698765432$/),
        page.getByRole('button', { name: 'Adopt' }).click(),
      ]);
      const before = receiver.received.length;
      await page.getByRole('button', { name: 'FAIT' }).click();
      await until('the username-only webhook', () => receiver.received.length > before);
      const value = receiver.received.at(-1)!.json.entry[0]!.changes[0]!.value as {
        contacts: Record<string, unknown>[];
        messages: Record<string, unknown>[];
      };
      expect(value.messages[0]).toMatchObject({ from_user_id: bsuid, text: { body: 'FAIT' } });
      expect(value.messages[0]).not.toHaveProperty('from');
      expect(value.contacts).toEqual([{ user_id: bsuid, profile: { name: '', username: 'jl.d' } }]);
    }
    expect(await page.locator('#thread h2').textContent()).toContain('@jl.d');
    await page.screenshot({ path: `/tmp/lastcall-sandbox-username-${width}.png`, fullPage: true });
    await page.close();
  }
});

it('re-categorises a template as Meta does: the registry changes and Lastcall gets template_category_update', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${sandbox.url}/`);
  await page.locator('footer details summary').click();
  await page.getByLabel(/Meta re-categorises a template/).selectOption('lastcall_ai_assistants_one_week|fr');
  const before = receiver.received.length;
  await page.getByRole('button', { name: 'Re-categorise' }).click();
  await until('the category webhook', () => receiver.received.length > before);
  const change = receiver.received.at(-1)!.json.entry[0]!.changes[0]!;
  expect(change).toEqual({
    field: 'template_category_update',
    value: expect.objectContaining({
      message_template_name: 'lastcall_ai_assistants_one_week',
      message_template_language: 'fr',
      previous_category: 'UTILITY',
      new_category: 'MARKETING',
    }),
  });
  expect(
    sandbox.graph.templates().find((t) => t.name === 'lastcall_ai_assistants_one_week' && t.language === 'fr')
      ?.category,
  ).toBe('MARKETING');
  expect(await page.getByRole('status').textContent()).toContain('re-categorised UTILITY → MARKETING');
  await page.screenshot({ path: '/tmp/lastcall-sandbox-recategorise.png', fullPage: true });
  await page.close();
});
