// Subscribers and import in the console, in Chromium with a French browser: upload a CSV with bad
// rows and read their line numbers, find an imported subscriber by phone, open the profile
// (consent timeline, a delivery's status history), erase them behind a confirmation that names
// what goes, and the language switch. What lands in PostgreSQL is checked after each step.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/shared/clock.ts';
import { testConfig } from './support/config.ts';
import {
  ADMIN,
  type ConsoleBrowser,
  pageOverflows,
  screenshots,
  signIn,
  startConsoleBrowser,
  textMatches,
} from './support/console-browser.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { startCampaign } from './support/delivery.ts';

const NOW = Date.parse('2031-03-10T09:00:00Z');
const BAD_CSV = join(import.meta.dirname, 'fixtures', 'import', 'bad.csv');

let database: TestDatabase;
let ui: ConsoleBrowser;
let page: Page;

beforeAll(async () => {
  database = await createTestDatabase();
  const config = testConfig({ DATABASE_URL: database.url, PUBLIC_URL: 'http://127.0.0.1' }, 'serve');
  ui = await startConsoleBrowser(config, database.db, new ManualClock(NOW));
  page = (await ui.newPage('fr-FR')).page;
}, 60_000);

afterAll(async () => {
  await ui?.close();
  await database?.drop();
});

describe('subscribers and import in the console', () => {
  it('signs in in the browser’s language', async () => {
    await page.goto(`${ui.base}/console`);
    expect(await page.getAttribute('html', 'lang')).toBe('fr');
    await screenshots(page, 'sign-in');
    await signIn(page, ui.base, ADMIN, /Clé d’API/);
  });

  it('uploads a CSV with bad rows and shows the summary and the bad rows by line number', async () => {
    await page.getByRole('link', { name: 'Import' }).click();
    await page.getByLabel('Fichier CSV').setInputFiles(BAD_CSV);
    await page.getByRole('button', { name: 'Importer' }).click();
    await page.locator('#bad-rows').waitFor();
    expect(await page.locator('#progress').getAttribute('value')).toBe('100');
    const lines = await page.locator('#bad-rows tbody th').allTextContents();
    expect(lines).toEqual(['3', '4', '5']);
    await textMatches(page.locator('#bad-rows tbody tr').nth(1), /timezone/);
    const imported = await database.db.query<{ id: string }>('SELECT id FROM subscribers ORDER BY id');
    expect(imported.map((r) => r.id)).toEqual(['b1', 'b5']);
    await screenshots(page, 'import');
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await pageOverflows(page)).toBe(false);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('finds a subscriber by phone and shows consent and status history', async () => {
    await startCampaign(
      database.db,
      {
        id: 'spring',
        deadline: NOW + 7 * 86_400_000,
        steps: [{ id: 'd1', before: 'P1D', channels: ['whatsapp'], template: 'first-notice' }],
      },
      NOW,
    );
    await database.db.exec(
      `INSERT INTO deliveries (campaign_id, step_id, subscriber_id, channel, kind, status, queued_at, sent_at, delivered_at, read_at)
       VALUES ('spring', 'd1', 'b1', 'whatsapp', 'scheduled', 'read', $1, $1, $2, $3)`,
      [new Date(NOW), new Date(NOW + 2_000), new Date(NOW + 60_000)],
    );
    // Meta reported her business-scoped user id and the username she adopted (docs/whatsapp.md).
    await database.db.exec(
      `UPDATE subscriber_channels SET whatsapp_user_id = 'FR.1349120865530274191', whatsapp_username = 'alice.m'
        WHERE subscriber_id = 'b1' AND channel = 'whatsapp'`,
    );
    await page.getByRole('link', { name: 'Abonnés' }).click();
    await screenshots(page, 'subscribers');
    await page.getByLabel('Trouver un abonné').fill('+33 6 11 11 11 11');
    await Promise.all([
      page.waitForURL(/\/console\/subscribers\/b1$/),
      page.getByRole('button', { name: 'Chercher' }).click(),
    ]);
    await textMatches(page.locator('h1'), 'Abonné b1');
    await textMatches(page.locator('.timeline'), /newsletter form/);
    await textMatches(page.locator('#channels-title + ul'), /Utilise le nom d’utilisateur WhatsApp alice\.m/);
    await textMatches(page.locator('#channels-title + ul'), /FR\.1349120865530274191/);
    // One delivery's statuses, in the singular.
    const history = await page.locator('.history li .status').allTextContents();
    expect(history).toEqual(['En file', 'Envoyé', 'Remis', 'Lu']);
    await screenshots(page, 'profile');
  });

  it("shows attributes, finds subscribers by an attribute's value, and a campaign's calendar and audience", async () => {
    await database.db.exec(
      `UPDATE subscribers SET attributes = attributes || '{"plan":"pro"}' WHERE id = 'b1'`,
    );
    await page.goto(`${ui.base}/console/subscribers/b1`);
    await textMatches(page.locator('dl.facts'), /plan\u202f: pro/);
    await page.goto(`${ui.base}/console/subscribers`);
    await page.getByLabel('Trouver un abonné').fill('plan=pro');
    await page.getByRole('button', { name: 'Chercher' }).click();
    await textMatches(page.locator('h2').first(), 'Abonnés dont plan vaut « pro »');
    expect(await page.locator('tbody th').allTextContents()).toEqual(['b1']);
    await screenshots(page, 'subscribers-attribute');
    expect(await pageOverflows(page)).toBe(false);

    await startCampaign(
      database.db,
      {
        id: 'pros',
        deadline: NOW + 7 * 86_400_000,
        steps: [{ id: 'd1', before: 'P1D', channels: ['whatsapp'], template: 'first-notice' }],
        where: { plan: ['pro', 'team'] },
        days: ['mon', 'tue', 'wed', 'thu', 'fri'],
      },
      NOW,
    );
    await page.goto(`${ui.base}/console/campaigns/pros`);
    await textMatches(page.locator('dd.calendar'), 'en semaine, à toute heure');
    await textMatches(page.locator('dd.audience'), 'plan\u202f: pro ou team');
    await screenshots(page, 'campaign-calendar');
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await pageOverflows(page)).toBe(false);
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${ui.base}/console/subscribers/b1`); // where the erasure below starts
  });

  it('says the profile in French words: states, consent, the STOP’s own time, French colons', async () => {
    // She replies STOP two minutes after the delivery: the state's time is the STOP's.
    await database.db.exec(
      `UPDATE subscriber_channels SET state = 'stopped', updated_at = $1 WHERE subscriber_id = 'b1' AND channel = 'whatsapp'`,
      [new Date(NOW + 120_000)],
    );
    const { updated_at: stoppedAt } = (await database.db.one<{ updated_at: Date }>(
      "SELECT updated_at FROM subscriber_channels WHERE subscriber_id = 'b1' AND channel = 'whatsapp'",
    ))!;
    await page.reload();
    const whatsapp =
      (await page.locator('#channels-title + ul li', { hasText: 'WhatsApp' }).textContent()) ?? '';
    const utc = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
    expect(whatsapp).toContain(`WhatsApp\u202f: arrêté (STOP) depuis ${utc(stoppedAt)}`);
    expect(whatsapp).toContain('consentement donné\u202f: 2025-11-02 14:30 UTC');
    const text = (await page.locator('main').textContent()) ?? '';
    for (const raw of ['stopped', 'opt_in', 'web-form', ' import ', 'chatgpt'])
      expect(text, raw).not.toContain(raw);
    await textMatches(page.locator('.timeline'), /importé/);
    expect(text).toContain('assistant\u202f: ChatGPT');
    // The queue board is one click away, and the page has an icon (no /favicon.ico 404).
    expect(await page.getByRole('link', { name: 'Files d’attente' }).getAttribute('href')).toBe(
      '/admin/queues',
    );
    expect(await page.locator('link[rel="icon"]').getAttribute('href')).toBe('/favicon.svg');
    for (const icon of ['/favicon.svg', '/favicon.ico']) {
      const res = await page.request.get(`${ui.base}${icon}`);
      expect(res.status(), icon).toBe(200);
      expect(res.headers()['content-type']).toBe('image/svg+xml');
    }
    // At 390 px the status history keeps a readable width (a card per delivery, not a squeezed column).
    await page.setViewportSize({ width: 390, height: 844 });
    const box = await page.locator('#deliveries td[data-label]').last().boundingBox();
    expect(box?.width).toBeGreaterThan(250);
    expect(await pageOverflows(page)).toBe(false);
    await screenshots(page, 'profile-stopped');
  });

  it('erases behind a confirmation naming what is deleted', async () => {
    await page.getByRole('link', { name: 'Effacer cet abonné' }).click();
    await textMatches(page.locator('.erase-list'), /Alice Martin, \+33611111111, alice@example\.org/);
    await textMatches(page.locator('.erase-list'), /1 envoi\(s\)/);
    await screenshots(page, 'erase-confirm');
    await page.getByRole('button', { name: 'Effacer cet abonné' }).click();
    await textMatches(
      page.locator('main p').first(),
      /L’abonné b1 a été effacé\u202f; 1 envoi\(s\) conservé\(s\)/,
    );
    expect(await database.db.one("SELECT 1 FROM subscribers WHERE id = 'b1'")).toBeUndefined();
    const kept = await database.db.one<{ subscriber_id: string | null }>(
      "SELECT subscriber_id FROM deliveries WHERE campaign_id = 'spring'",
    );
    expect(kept?.subscriber_id).toBeNull();
  });

  it('switches language, and the search says when nobody matches', async () => {
    await page.goto(`${ui.base}/console/subscribers?q=%2B33611111111`);
    await textMatches(
      page.locator('#q-error'),
      'Aucun abonné avec cet identifiant, ce numéro ou cette adresse.',
    );
    await page.getByRole('link', { name: 'English' }).click();
    await textMatches(page.locator('h1'), 'Subscribers');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(ui.cspViolations).toEqual([]);
  });
});
