// campaign stats from seeded slots and deliveries: per step × channel, planned (deliveries plus
// what open slots still expect: the audience each was planned for, less what its fan-out made),
// queued, the sent ⊇ delivered ⊇ read funnel, and failures and skips broken down.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CampaignService, createCampaignService } from '../src/campaigns/campaign.service.ts';
import type { StepChannelStats } from '../src/campaigns/stats.service.ts';
import { statsText } from '../src/cli/commands/campaign-stats.ts';
import { at, campaignFile, seedSubscriber } from './support/campaign.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';

let t: TestDatabase;
let campaigns: CampaignService;
const start = at('2030-01-01T00:00:00Z');
const now = at('2030-01-08T12:00:00Z');

const zero = {
  planned: 0,
  queued: 0,
  sent: 0,
  delivered: 0,
  read: 0,
  failed: 0,
  skipped: 0,
  unknown: 0,
  bounced: 0,
  softBounced: 0,
  complained: 0,
};
const row = (step: string, channel: string, counts: Partial<StepChannelStats>) => ({
  step,
  channel,
  ...zero,
  failedByCode: {},
  skippedByReason: {},
  unknownByReason: {},
  ...counts,
});

beforeAll(async () => {
  t = await createTestDatabase();
  campaigns = createCampaignService({ db: t.db });
  await seedSubscriber(t.db, { id: 'p1', zone: 'Europe/Paris', channels: ['whatsapp', 'email'] });
  await seedSubscriber(t.db, { id: 'p2', zone: 'Europe/Paris', channels: ['email'] });
  await seedSubscriber(t.db, { id: 'p3', zone: 'Europe/Paris', channels: ['whatsapp'] });
  await seedSubscriber(t.db, { id: 'n1', zone: 'America/New_York', channels: ['whatsapp'] });
  await seedSubscriber(t.db, { id: 'n2', zone: 'America/New_York', channels: ['whatsapp'] });
  await campaigns.create(campaignFile('c1'), start);
  await campaigns.start('c1', start);
  // Paris d7 fanned out on both channels; New York d7 half-way (cursor after n1, one row made).
  await t.db.exec(`UPDATE slots SET state = 'done' WHERE zone = 'Europe/Paris' AND step_id = 'd7'`);
  await t.db.exec(
    `UPDATE slots SET state = 'fanning_out', cursor = 'n1', fanned_out_count = 1
      WHERE zone = 'America/New_York' AND step_id = 'd7'`,
  );
  await t.db.exec(
    `INSERT INTO deliveries (campaign_id, step_id, subscriber_id, channel, kind, status, error_code, skip_reason) VALUES
       ('c1', 'd7', 'p1', 'whatsapp', 'scheduled', 'read', NULL, NULL),
       ('c1', 'd7', 'p3', 'whatsapp', 'scheduled', 'failed', '131026', NULL),
       ('c1', 'd7', 'n1', 'whatsapp', 'scheduled', 'queued', NULL, NULL),
       ('c1', 'd7', 'p1', 'email', 'scheduled', 'delivered', NULL, NULL),
       ('c1', 'd7', 'p2', 'email', 'scheduled', 'skipped', NULL, 'opted_out'),
       ('c1', 'd1', NULL, 'whatsapp', 'test', 'sent', NULL, NULL)`,
  );
});
afterAll(() => t.drop());

describe('campaign stats', () => {
  it('counts per step and channel', async () => {
    const stats = await campaigns.stats('c1', now);
    expect(stats).toMatchObject({ id: 'c1', state: 'running', deadline: at('2030-01-14T23:00:00Z') });
    expect(stats.steps).toEqual([
      // p1 read, p3 failed, n1 queued, plus n2 still expected past the cursor.
      row('d7', 'whatsapp', {
        planned: 4,
        queued: 1,
        sent: 1,
        delivered: 1,
        read: 1,
        failed: 1,
        failedByCode: { '131026': 1 },
      }),
      row('d7', 'email', {
        planned: 2,
        sent: 1,
        delivered: 1,
        skipped: 1,
        skippedByReason: { opted_out: 1 },
      }),
      // Pending slots: Paris p1, p3 and New York n1, n2. The test send is not counted.
      row('d1', 'whatsapp', { planned: 4 }),
      row('d1', 'email', { planned: 2 }),
      row('h6', 'whatsapp', { planned: 4 }),
    ]);
  });

  it('adds what personal catch-ups expect: one each', async () => {
    await seedSubscriber(t.db, { id: 'j1', zone: 'Asia/Tokyo', channels: ['email'] });
    await t.db.exec(
      `INSERT INTO slots (campaign_id, step_id, zone, channel, send_at, kind, subscriber_id, audience) VALUES
         ('c1', 'd7', 'Asia/Tokyo', 'email', '2030-01-09T00:00:00Z', 'catch-up', 'j1', 1)`,
    );
    const stats = await campaigns.stats('c1', now);
    expect(stats.steps.find((s) => s.step === 'd7' && s.channel === 'email')?.planned).toBe(3);
    await t.db.exec(`DELETE FROM slots WHERE subscriber_id IS NOT NULL`);
  });

  it('expects what slots were planned for until their fan-out, which makes rows only for those still eligible', async () => {
    await t.db.exec(`UPDATE subscribers SET done_at = $1 WHERE id = 'p3'`, [new Date(now)]);
    await t.db.exec(`UPDATE subscriber_channels SET state = 'unsubscribed' WHERE subscriber_id = 'p2'`);
    const planned = async (step: string, channel: string) =>
      (await campaigns.stats('c1', now)).steps.find((s) => s.step === step && s.channel === channel)?.planned;
    // Paris d1 was planned for p1 and p3 on WhatsApp, p1 and p2 by email: still expected.
    expect(await planned('d1', 'whatsapp')).toBe(4);
    expect(await planned('d1', 'email')).toBe(2);
    // Its fan-out then makes p1's rows only (p3 is done, p2 unsubscribed): the figure is the rows.
    await t.db.exec(
      `INSERT INTO deliveries (campaign_id, step_id, subscriber_id, channel, kind, status) VALUES
         ('c1', 'd1', 'p1', 'whatsapp', 'scheduled', 'queued'), ('c1', 'd1', 'p1', 'email', 'scheduled', 'queued')`,
    );
    await t.db.exec(
      `UPDATE slots SET state = 'done', fanned_out_count = 1 WHERE zone = 'Europe/Paris' AND step_id = 'd1'`,
    );
    expect(await planned('d1', 'whatsapp')).toBe(3); // p1's row, and New York's n1 and n2 ahead
    expect(await planned('d1', 'email')).toBe(1);
    await t.db.exec(`DELETE FROM deliveries WHERE step_id = 'd1' AND kind = 'scheduled'`);
  });

  it('expects nothing more once the deadline has passed, and keeps the deliveries', async () => {
    const stats = await campaigns.stats('c1', at('2030-01-15T00:00:00Z'));
    expect(stats.steps.map((s) => [s.step, s.channel, s.planned])).toEqual([
      ['d7', 'whatsapp', 3],
      ['d7', 'email', 2],
      ['d1', 'whatsapp', 0],
      ['d1', 'email', 0],
      ['h6', 'whatsapp', 0],
    ]);
  });

  it('renders a table with the failure codes and skip reasons', async () => {
    const text = statsText(await campaigns.stats('c1', now));
    expect(text).toMatch(/planned.*queued.*sent.*delivered.*read.*failed.*skipped/);
    expect(text).toContain('d7 whatsapp failed: 131026 ×1');
    expect(text).toContain('d7 email skipped: opted_out ×1');
  });

  it('refuses an unknown campaign', async () => {
    await expect(campaigns.stats('nope', now)).rejects.toThrow(/unknown campaign/);
  });
});
