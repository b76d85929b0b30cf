// The tz-data re-plan service on real PostgreSQL, in this process, with an injected "now". This
// process runs one tz release, so a plan made with older data is written into the slots the way
// an older process would have left them (an instant an hour off, an older release name).
// Real processes on two releases: test/tz-upgrade.test.ts.
//
// Shipped steps, deadline 2030-01-15T00:00+01:00 = 2030-01-14T23:00Z, window 09:00–20:00.
// Nuuk is −02 in January under current data: d1 = 13 Jan 10:00 local = 12:00Z; h6 = 14 Jan
// 17:00Z. Under tzdata 2022f (−03), d1 was 13:00Z.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCampaignService } from '../src/campaigns/campaign.service.ts';
import { replanStaleSlots } from '../src/campaigns/replan.service.ts';
import { claimDueSlots } from '../src/delivery/fanout.service.ts';
import { createLogger } from '../src/shared/logger.ts';
import { at, campaignFile, seedSubscriber } from './support/campaign.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';

const START = at('2030-01-01T00:00:00Z');
const logger = createLogger({ logLevel: 'silent' });
let t: TestDatabase;

const ZONES = [
  'America/Nuuk',
  'Asia/Almaty',
  'Europe/Paris',
  'America/New_York',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Pacific/Auckland',
  'America/Asuncion',
  'Africa/Casablanca',
  'Australia/Lord_Howe',
];

beforeAll(async () => {
  t = await createTestDatabase();
  const campaigns = createCampaignService({ db: t.db });
  await seedSubscriber(t.db, { id: 'nuuk', zone: 'America/Nuuk', channels: ['whatsapp'], tags: ['nuuk'] });
  for (const [i, zone] of ZONES.entries())
    await seedSubscriber(t.db, { id: `m${i}`, zone, channels: ['whatsapp', 'email'], tags: ['many'] });
  for (const id of ['nuuk', 'many']) {
    await campaigns.create(campaignFile(id, { tags: [id] }), START);
    await campaigns.start(id, START);
  }
});
afterAll(() => t.drop());

/** The Nuuk d1 slot as a process on tzdata 2022f planned it: 13:00Z, 10:00 local. */
async function oldNuukPlan(): Promise<number> {
  const row = await t.db.one<{ id: number }>(
    `UPDATE slots SET send_at = '2030-01-13T13:00:00Z', tz_version = '2022f', local_time = '2030-01-13T10:00'
      WHERE campaign_id = 'nuuk' AND step_id = 'd1' RETURNING id`,
  );
  return row!.id;
}

const slot = (id: number) =>
  t.db.one<{ send_at: Date; tz_version: string; local_time: string; state: string }>(
    'SELECT send_at, tz_version, local_time, state FROM slots WHERE id = $1',
    [id],
  );

describe('replanStaleSlots', () => {
  it('splits the work between workers running at once: each slot re-planned once, in small transactions', async () => {
    const stale = await t.db.exec(
      `UPDATE slots SET tz_version = '2022f' WHERE campaign_id = 'many' AND state = 'pending'`,
    );
    expect(stale).toBe(ZONES.length * 5); // d7, d1 on both channels, h6 on WhatsApp
    const now = START + 3600_000;
    const reports = await Promise.all(
      Array.from({ length: 4 }, () => replanStaleSlots({ db: t.db, logger, batchSize: 7 }, now)),
    );
    const slots = reports.flat().reduce((n, r) => n + r.slots, 0);
    expect(slots).toBe(stale);
    const rows = await t.db.query<{ slots: number; batches: number }>(
      `SELECT sum(slots)::int AS slots, count(*)::int AS batches FROM tz_replans WHERE campaign_id = 'many'`,
    );
    expect(rows[0]!.slots).toBe(stale);
    expect(rows[0]!.batches).toBeGreaterThanOrEqual(Math.ceil(stale / 7));
    const events = await t.db.query<{ slots: number }>(
      `SELECT sum((data->>'slots')::int)::int AS slots FROM event_outbox
        WHERE type = 'campaign.replanned' AND data->>'campaignId' = 'many'`,
    );
    expect(events[0]!.slots).toBe(stale);
    const versions = await t.db.query<{ tz_version: string }>(
      `SELECT DISTINCT tz_version FROM slots WHERE campaign_id = 'many'`,
    );
    expect(versions).toEqual([{ tz_version: process.versions.tz }]);
  });

  it('moves a send the new rules put earlier, inside the next tick, so that tick sends it', async () => {
    const id = await oldNuukPlan();
    const now = at('2030-01-13T11:59:30Z');
    const [report] = await replanStaleSlots({ db: t.db, logger }, now);
    expect(report).toMatchObject({
      campaignId: 'nuuk',
      fromVersion: '2022f',
      slots: 1,
      moved: 1,
      earlier: 1,
    });
    expect(await slot(id)).toEqual({
      send_at: new Date('2030-01-13T12:00:00Z'),
      tz_version: process.versions.tz,
      local_time: '2030-01-13T10:00',
      state: 'pending',
    });
    expect(await claimDueSlots({ db: t.db }, now)).not.toContain(id);
    expect(await claimDueSlots({ db: t.db }, at('2030-01-13T12:00:00Z'))).toContain(id);
  });

  it('a send whose new instant has passed when the re-plan comes goes as a catch-up at the next window minute', async () => {
    await t.db.exec(`UPDATE slots SET state = 'pending', claimed_at = NULL WHERE campaign_id = 'nuuk'`);
    const id = await oldNuukPlan();
    // 12:30Z: d1's new time (12:00Z) has passed; h6 is more than catchUp.minGap (24 h) away.
    await replanStaleSlots({ db: t.db, logger }, at('2030-01-13T12:30:00Z'));
    expect(await slot(id)).toMatchObject({
      send_at: new Date('2030-01-13T12:30:00Z'),
      local_time: '2030-01-13T10:30',
      state: 'pending',
    });
  });

  it('moves a part of a spread step with its step: a day and the margin before it, in the window', async () => {
    await t.db.exec(`UPDATE slots SET state = 'pending', claimed_at = NULL WHERE campaign_id = 'nuuk'`);
    const id = await oldNuukPlan();
    // d1 spread over 2 days (docs/whatsapp.md): part 1 was planned 25 h before 13:00Z, 09:00 at −03.
    await t.db.exec('UPDATE slots SET parts = 2 WHERE id = $1', [id]);
    const part = await t.db.one<{ id: number }>(
      `INSERT INTO slots (campaign_id, step_id, zone, channel, send_at, kind, tz_version, local_time, planned_at, part, parts)
       SELECT campaign_id, step_id, zone, channel, '2030-01-12T12:00:00Z', kind, '2022f', '2030-01-12T09:00', planned_at, 1, 2
         FROM slots WHERE id = $1 RETURNING id`,
      [id],
    );
    await replanStaleSlots({ db: t.db, logger }, START + 3600_000);
    expect(await slot(id)).toMatchObject({ send_at: new Date('2030-01-13T12:00:00Z'), state: 'pending' });
    // Nuuk is −02 now: d1 at 12:00Z, its part 1 at 11:00Z the day before, still 09:00 local.
    expect(await slot(part!.id)).toEqual({
      send_at: new Date('2030-01-12T11:00:00Z'),
      tz_version: process.versions.tz,
      local_time: '2030-01-12T09:00',
      state: 'pending',
    });
  });

  it('never re-plans backwards: a process on older data leaves newer plans alone', async () => {
    const before = await t.db.query('SELECT id, send_at, tz_version, updated_at FROM slots ORDER BY id');
    expect(await replanStaleSlots({ db: t.db, logger, tzVersion: '2022f' }, START + 3600_000)).toEqual([]);
    expect(await t.db.query('SELECT id, send_at, tz_version, updated_at FROM slots ORDER BY id')).toEqual(
      before,
    );
  });
});
