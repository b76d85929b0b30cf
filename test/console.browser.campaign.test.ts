// A running campaign seen from the console in Chromium, with real BullMQ workers in this process
// and the fake Graph API and SMTP server: the funnel's numbers change without a reload as the
// workers send, pausing stops the workers from sending the next step, resuming sends it. The
// clock is injected: ticks are driven, never waited for.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePriceTable } from '../src/campaigns/whatsapp-prices.ts';
import { writeDeliveryStates } from '../src/inbound/webhook.repository.ts';
import { type RunningWorkers, startWorkers } from '../src/roles/work.ts';
import { ManualClock } from '../src/shared/clock.ts';
import { failures } from './fakes/graph-api.ts';
import {
  ADMIN,
  type ConsoleBrowser,
  pageOverflows,
  screenshots,
  signIn,
  startConsoleBrowser,
  textMatches,
} from './support/console-browser.ts';
import {
  type DeliveryServices,
  inFlight,
  makeSubscribers,
  type SeedSubscriber,
  seedSubscribers,
  slotsNotDone,
  startCampaign,
  startDeliveryServices,
  waitFor,
} from './support/delivery.ts';

const MINUTE = 60_000;
const T0 = Math.floor(Date.now() / MINUTE) * MINUTE;
const DEADLINE = T0 + 5 * MINUTE;
const clock = new ManualClock(T0);

let services: DeliveryServices;
let workers: RunningWorkers;
let ui: ConsoleBrowser;
let page: Page;
let subscribers: SeedSubscriber[];

beforeAll(async () => {
  services = await startDeliveryServices();
  const config = services.config();
  workers = await startWorkers(config, { clock, scheduleTick: false, backoff: { baseMs: 10 } });
  subscribers = makeSubscribers(30);
  await seedSubscribers(services.database.db, subscribers, T0 - 60 * MINUTE);
  await startCampaign(
    services.database.db,
    {
      id: 'launch',
      deadline: DEADLINE,
      steps: [
        { id: 'm4', before: 'PT4M', channels: ['whatsapp', 'email'], template: 'first-notice' },
        { id: 'm2', before: 'PT2M', channels: ['whatsapp', 'email'], template: 'one-week' },
      ],
    },
    T0,
  );
  // One phone is not on WhatsApp: its failure shows in the funnel with Meta's meaning.
  const unreachable = subscribers.find((s) => s.phone)!;
  services.graph.setFailure(failures.undeliverable(), { to: unreachable.phone! });
  ui = await startConsoleBrowser(
    config,
    services.database.db,
    clock,
    parsePriceTable('currency: EUR\nprices:\n  default: { utility: 0.02 }\n', 'prices.yaml'),
  );
  page = (await ui.newPage('en-GB')).page;
}, 90_000);

afterAll(async () => {
  await ui?.close();
  await workers?.close(5_000);
  await services?.close();
});

/** A tick at `instant`, then every due slot fanned out and every send settled. */
async function tickAt(instant: number): Promise<void> {
  clock.set(instant);
  await workers.runTick();
  await waitFor(
    'due slots fanned out',
    async () => (await slotsNotDone(services.database.db, instant)) === 0,
  );
  await waitFor('sends settled', async () => (await inFlight(services.database.db, 'launch')) === 0, 60_000);
}

const cell = (step: string, channel: string, k: string) =>
  page.locator(`#funnel tr[data-row="${step}|${channel}"] td[data-k="${k}"]`);

const sentTo = () => services.graph.sent().length + services.smtp.messages.length;

describe('a running campaign in the console', () => {
  it('lists the campaign with its state, deadline and countdown', async () => {
    await signIn(page, ui.base, ADMIN, /API key/);
    const row = page.getByRole('row', { name: /Delivery test launch/ });
    await textMatches(row.locator('.state'), 'running');
    expect(await row.locator('time').getAttribute('datetime')).toBe(new Date(DEADLINE).toISOString());
    await textMatches(page.locator('.countdown'), /\d\d:\d\d:\d\d/);
    await screenshots(page, 'campaigns');
  });

  it('shows the funnel changing as the workers send, without a reload', async () => {
    await page.getByRole('link', { name: 'Delivery test launch' }).click();
    await page.waitForURL(/\/console\/campaigns\/launch$/);
    expect(await cell('m4', 'whatsapp', 'sent').textContent()).toBe('0');
    await page.evaluate('window.sameDocument = true');

    await tickAt(T0 + MINUTE);
    const whatsapp = subscribers.filter((s) => s.channels.includes('whatsapp')).length;
    await textMatches(cell('m4', 'whatsapp', 'sent'), String(whatsapp - 1));
    await textMatches(cell('m4', 'whatsapp', 'failed'), '1');
    const emails = subscribers.filter((s) => s.channels.includes('email')).length;
    await textMatches(cell('m4', 'email', 'sent'), String(emails));
    await textMatches(page.locator('#failures'), /131026/);
    await textMatches(page.locator('#failures'), /Message undeliverable/);
    expect(await page.evaluate('window.sameDocument')).toBe(true);
    await page.waitForFunction(
      "document.querySelectorAll('#sends-chart canvas, #plan-chart canvas').length === 2",
    );
    await textMatches(page.locator('#sends-total'), `${whatsapp - 1 + emails} in the last hour.`);
    // The legends give figures, not uPlot's "--" placeholder, with no cursor on the chart.
    const legend = await page.locator('#sends-chart .u-legend .u-value').allTextContents();
    expect(legend.length).toBeGreaterThan(0);
    for (const value of legend) expect(value).toMatch(/^\d[\d,]*$|^\d{2}:\d{2}$/);
    await screenshots(page, 'campaign');
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await pageOverflows(page)).toBe(false);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('notes a re-plan under newer time-zone data on the campaign page', async () => {
    // The m2 slots as if planned with tzdata 2022f: this process's newer data re-plans them.
    const stale = await services.database.db.exec(
      `UPDATE slots SET tz_version = '2022f' WHERE campaign_id = 'launch' AND state = 'pending'`,
    );
    expect(stale).toBeGreaterThan(0);
    const [replan] = await workers.replan(T0 + MINUTE);
    expect(replan).toMatchObject({ campaignId: 'launch', fromVersion: '2022f', slots: stale, moved: 0 });
    await page.reload();
    await textMatches(
      page.locator('.tz-replan'),
      new RegExp(
        `Time-zone rules updated \\(tz data 2022f → ${process.versions.tz}\\): ${stale} pending sends re-planned, 0 moved \\(0 earlier, 0 later\\), 0 cancelled\\. Last:`,
      ),
    );
    await screenshots(page, 'campaign-tz-replan');
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await pageOverflows(page)).toBe(false);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it("warns when the plan needs more WhatsApp people than Meta's messaging limit allows", async () => {
    const { db } = services.database;
    // A day later, as it were (nobody messaged in the last 24 h), under a limit of 5 people.
    await db.exec('DELETE FROM whatsapp_people_messaged');
    await db.exec(
      `INSERT INTO whatsapp_account (id, messaging_limit, messaging_tier, limit_source, limit_read_at)
       VALUES (true, 5, 'TIER_5', 'graph', now())
       ON CONFLICT (id) DO UPDATE SET messaging_limit = 5, messaging_tier = 'TIER_5'`,
    );
    const people = (
      await db.one<{ n: number }>(
        `SELECT count(*)::int AS n FROM subscriber_channels WHERE channel = 'whatsapp' AND state = 'active'`,
      )
    )?.n;
    await page.reload();
    await textMatches(
      page.locator('.messaging-limit'),
      /messaging limit \(5 people in any 24 h, as Meta reports it\)/,
    );
    // Each planned as joining now: a catch-up of m4 now, then m2; the same people both times.
    const items = await page.locator('.messaging-limit li').allTextContents();
    expect(items).toEqual([
      `Step m4: ${people} people on WhatsApp, ${(people ?? 0) - 5} held back`,
      `Step m2: ${people} people on WhatsApp, ${(people ?? 0) - 5} held back`,
    ]);
    await screenshots(page, 'campaign-messaging-limit');
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await pageOverflows(page)).toBe(false);
    await page.setViewportSize({ width: 1280, height: 900 });
    // Meta re-categorised a template the campaign sends (the template_category_update webhook's record).
    await db.exec(
      `INSERT INTO template_statuses (name, language, status, category, previous_category, category_change, category_changed_at)
       VALUES ('lastcall_ai_assistants_one_week', 'en', 'APPROVED', 'MARKETING', 'UTILITY', 'done', now())`,
    );
    await page.reload();
    expect(await page.locator('.template-alerts li').allTextContents()).toEqual([
      'lastcall_ai_assistants_one_week (en): re-categorised UTILITY → MARKETING',
    ]);
    await screenshots(page, 'campaign-template-alert');
    // Meta's pricing of the messages sent (from their status webhooks).
    const sent = await db.query<{ id: number }>(
      `SELECT id FROM deliveries WHERE campaign_id = 'launch' AND channel = 'whatsapp' AND status = 'sent'`,
    );
    await writeDeliveryStates(
      db,
      sent.map(({ id }) => ({
        id: Number(id),
        pricing: { billable: true, model: 'PMP', category: 'utility', type: 'regular', callingCode: '33' },
      })),
      [],
      new Date(),
    );
    const priced = sent.length;
    expect(priced).toBeGreaterThan(0);
    await page.reload();
    // At the table's default utility price, 0.02 a message.
    const cost = `€${((priced * 2) / 100).toFixed(2)}`;
    expect(await page.locator('#pricing tbody tr').allTextContents()).toEqual([`m4utility${priced}0${cost}`]);
    expect(await page.locator('#pricing-cost').textContent()).toBe(
      `Estimated cost of the billable messages, at your prices: ${cost}.`,
    );
    await screenshots(page, 'campaign-pricing');
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await pageOverflows(page)).toBe(false);
    await page.setViewportSize({ width: 1280, height: 900 });
    await db.exec(`DELETE FROM template_statuses WHERE name = 'lastcall_ai_assistants_one_week'`);
    // Unlimited again, as the fake Graph API reports it, for the rest.
    await db.exec(`UPDATE whatsapp_account SET messaging_limit = NULL, messaging_tier = 'TIER_UNLIMITED'`);
  });

  it('pauses behind a confirmation, and the workers stop sending', async () => {
    await page.getByRole('link', { name: 'Pause' }).click();
    await textMatches(page.locator('.what'), /No new send starts/);
    await screenshots(page, 'campaign-confirm-pause');
    await page.getByRole('button', { name: 'Yes, do it' }).click();
    await textMatches(page.getByRole('status'), 'Paused: no new send starts.');

    const before = sentTo();
    clock.set(T0 + 3 * MINUTE);
    await workers.runTick();
    const due = await services.database.db.one<{ n: number }>(
      `SELECT count(*)::int AS n FROM slots WHERE campaign_id = 'launch' AND step_id = 'm2' AND state = 'pending'`,
    );
    expect(due?.n).toBeGreaterThan(0);
    expect(sentTo()).toBe(before);
    await textMatches(cell('m2', 'whatsapp', 'sent'), '0');
  });

  it('resumes, and the next step goes out while the page watches', async () => {
    await page.getByRole('link', { name: 'Resume' }).click();
    await textMatches(page.locator('.what'), /Sending starts again/);
    await page.getByRole('button', { name: 'Yes, do it' }).click();
    await textMatches(page.getByRole('status'), 'Running again.');
    await tickAt(T0 + 3 * MINUTE);
    await textMatches(cell('m2', 'email', 'sent'), /^[1-9]/);
    expect(ui.cspViolations).toEqual([]);
  });
});
