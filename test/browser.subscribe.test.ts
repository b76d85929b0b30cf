import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCampaignService } from '../src/campaigns/campaign.service.ts';
import { buildServer } from '../src/http/server.ts';
import { freePort } from '../src/ops/local-servers/probe.ts';
import type { Services } from '../src/roles/services.ts';
import { type FakeSmtp, startFakeSmtp } from './fakes/smtp.ts';
import { campaignFile } from './support/campaign.ts';
import { launchChromium, requireChromium } from './support/chromium.ts';
import { testConfig } from './support/config.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { WHATSAPP_ENV } from './support/http.ts';
import { testServices } from './support/services.ts';

const SCREENSHOT = '/tmp/lastcall-subscribe.png';

let database: TestDatabase;
let smtp: FakeSmtp;
let app: Awaited<ReturnType<typeof buildServer>>;
let services: Services;
let browser: Browser;
let base: string;

beforeAll(async () => {
  requireChromium();
  database = await createTestDatabase();
  // A campaign for everyone, not yet started: something the general form signs up to.
  await createCampaignService({ db: database.db }).create(campaignFile('everyone'), Date.now());
  smtp = await startFakeSmtp();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const config = testConfig(
    {
      DATABASE_URL: database.url,
      SMTP_URL: smtp.url,
      MAIL_FROM: 'Lastcall <no-reply@lastcall.example>',
      PUBLIC_URL: base,
      ...WHATSAPP_ENV,
    },
    'serve',
  );
  services = testServices({ ...config, senderName: 'Lastcall Test' }, database.db);
  app = await buildServer({ config, db: database.db, services });
  await app.listen({ host: '127.0.0.1', port });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await services?.close();
  await smtp?.close();
  await database?.drop();
});

const activeId = (page: Page) => page.locator(':focus').getAttribute('id');

describe('sign-up in a real browser', () => {
  it('fills the zone, ties an error to its field, signs up and confirms by email', async () => {
    const context = await browser.newContext({
      timezoneId: 'America/Montreal',
      locale: 'fr-FR',
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 1,
      isMobile: true,
      hasTouch: true,
    });
    const page = await context.newPage();
    const cspViolations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) cspViolations.push(message.text());
    });

    await page.goto(`${base}/subscribe`);
    expect(await page.getAttribute('html', 'lang')).toBe('fr');
    const browserZone = await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
    expect(['America/Montreal', 'America/Toronto']).toContain(browserZone);
    expect(await page.inputValue('#timezone')).toBe(browserZone);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    await page.getByLabel('Votre prénom ou votre nom').fill('Gabrielle Tremblay');
    await page.getByLabel(/Numéro de téléphone WhatsApp/).fill('514 12');
    await page.getByLabel(/Adresse e-mail/).fill('gabrielle@example.ca');
    await page.getByLabel('ChatGPT').check();
    await page.getByLabel('WhatsApp', { exact: true }).check();
    await page.getByLabel('E-mail', { exact: true }).check();
    await page.locator('#consent').check();
    // The answer to the POST has the same URL as the form, so wait for the next document's load
    // rather than for a URL that already matches.
    await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'M’inscrire' }).click()]);

    // The error: in the summary (focused), next to the field, and tied to it for screen readers.
    expect(await page.title()).toMatch(/^Erreur\u202f: /);
    expect(await activeId(page)).toBe('error-summary');
    const phone = page.locator('#phone');
    expect(await phone.getAttribute('aria-invalid')).toBe('true');
    expect(await phone.getAttribute('aria-describedby')).toBe('phone-hint phone-error');
    expect(await page.locator('#phone-error').textContent()).toContain(
      'Indiquez un numéro de téléphone valide',
    );
    expect(await page.locator('.field-error').count()).toBe(1);
    expect(await page.inputValue('#name')).toBe('Gabrielle Tremblay');
    expect(await page.inputValue('#timezone')).toBe(browserZone);

    // Keyboard only: the summary link puts focus on the field; Enter submits the corrected form.
    await page.locator('#error-summary a[href="#phone"]').click();
    expect(await activeId(page)).toBe('phone');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('+1 514 398 1234');
    await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
    expect(await page.locator('h1').textContent()).toBe('Merci, votre inscription est enregistrée');
    expect(await page.locator('main').textContent()).toContain('suivez le lien pour confirmer');

    const mail = await smtp.waitFor((m) => m.envelope.rcptTo.includes('gabrielle@example.ca'));
    const link = new RegExp(`${base}/confirm/[A-Za-z0-9_.-]+`).exec(mail.parsed.text ?? '')?.[0];
    expect(link).toBeDefined();
    await page.goto(link!);
    expect(await page.locator('h1').textContent()).toBe('Adresse e-mail confirmée');

    const row = await database.db.one<{ timezone: string; phone: string; state: string; locale: string }>(
      `SELECT s.timezone, s.phone, s.locale, c.state FROM subscribers s
         JOIN subscriber_channels c ON c.subscriber_id = s.id AND c.channel = 'email'`,
    );
    expect(row).toEqual({ timezone: browserZone, phone: '+15143981234', locale: 'fr', state: 'active' });
    expect(cspViolations).toEqual([]);
    await context.close();
  }, 60_000);

  it("shows a campaign's calendar on its sign-up page, in French and English (1280 and 390 px)", async () => {
    const campaigns = createCampaignService({ db: database.db });
    await campaigns.create(
      campaignFile('weekdays', {
        name: 'Dossiers de bourse',
        signup: true,
        days: ['mon', 'tue', 'wed', 'thu', 'fri'],
        except: ['2099-12-25'],
        deadline: '2099-12-31T12:00:00Z',
      }),
      Date.now(),
    );
    for (const [locale, intro] of [
      ['fr-FR', 'Envoyés en semaine, 9:00–20:00 à votre heure, sauf le 25 décembre 2099\u202f:'],
      ['en-GB', 'Sent weekdays 9:00–20:00 your time, except 25 December 2099:'],
    ] as const) {
      for (const width of [1280, 390]) {
        const context = await browser.newContext({ locale, viewport: { width, height: 900 } });
        const page = await context.newPage();
        await page.goto(`${base}/subscribe/weekdays`);
        expect((await page.locator('.reminders p').first().textContent())?.trim()).toBe(intro);
        // Nothing wider than the window.
        expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(width);
        await page.screenshot({
          path: `/tmp/lastcall-subscribe-calendar-${locale}-${width}.png`,
          fullPage: true,
        });
        await context.close();
      }
    }
    await campaigns.cancel('weekdays', Date.now());
  }, 60_000);

  it('says no sign-up is open, with no form, once every campaign is cancelled (1280 and 390 px)', async () => {
    // Every campaign closed (the one for everyone, and the ones the tests above opened).
    const campaigns = createCampaignService({ db: database.db });
    for (const { id } of await database.db.query<{ id: string }>(
      "SELECT id FROM campaigns WHERE state IN ('draft', 'running', 'paused')",
    ))
      await campaigns.cancel(id, Date.now());
    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    for (const [width, height] of [
      [1280, 900],
      [390, 844],
    ] as const) {
      await page.setViewportSize({ width, height });
      await page.goto(`${base}/subscribe`);
      expect(await page.locator('h1').textContent()).toBe('No sign-up is open');
      expect(await page.locator('form').count()).toBe(0);
      // Nothing wider than the window.
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(width);
      await page.screenshot({ path: `/tmp/lastcall-subscribe-none-${width}.png`, fullPage: true });
    }
    await context.close();
  }, 60_000);
});
