// `lastcall demo` says when its campaign ends: once the deadline has finished the demo campaign,
// demoEnd finds it (not before), with its deliveries by status, test sends left out, and the
// lines the demo prints name the end and what to do next.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finishExpiredCampaigns } from '../src/delivery/delivery.repository.ts';
import { demoEnd } from '../src/demo/demo.repository.ts';
import { seedDemo } from '../src/demo/seed.service.ts';
import { demoEndLines } from '../src/demo/where-to-look.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { testServices } from './support/services.ts';

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

describe('the demo campaign end', () => {
  it('is found once the deadline has finished the campaign, with its deliveries', async () => {
    const now = Date.now();
    const seeded = await seedDemo(
      { db: t.db, config: t.config, services: testServices(t.config, t.db) },
      { now: now - 10 * 60_000, minutes: 3 },
    );
    expect(await demoEnd(t.db)).toBeUndefined();
    const delivery = (kind: string, status: string, subscriber: string) =>
      t.db.exec(
        `INSERT INTO deliveries (campaign_id, step_id, subscriber_id, channel, kind, status)
         VALUES ('demo', 'start', $1, 'email', $2, $3)`,
        [subscriber, kind, status],
      );
    const [a, b] = await t.db.query<{ id: string }>(
      "SELECT id FROM subscribers WHERE 'demo' = ANY(tags) ORDER BY id",
    );
    await delivery('scheduled', 'sent', a!.id);
    await delivery('catch-up', 'read', b!.id);
    await t.db.exec(
      `INSERT INTO deliveries (campaign_id, step_id, subscriber_id, channel, kind, status)
       VALUES ('demo', 'm2', NULL, 'whatsapp', 'test', 'sent')`,
    );

    const finished = await finishExpiredCampaigns(t.db, new Date(now));
    expect(finished.finished).toEqual(['demo']);
    const end = await demoEnd(t.db);
    expect(end?.finishedAt.getTime()).toBe(now);
    expect(end?.byStatus).toEqual({ read: 1, sent: 1 });
    const hhmm = new Date(now).toISOString().slice(11, 16);
    expect(demoEndLines(end!, seeded.campaignId)).toEqual([
      `The demo campaign "demo" ended at ${hhmm} UTC: its deadline passed, no more reminders.`,
      '  deliveries      1 read, 1 sent   (npx lastcall campaign stats demo)',
      '  next            the demo keeps running for the console, the inbox and the CLI; Ctrl+C to stop,',
      '                  then npm run demo again for a new campaign minutes away (--minutes N).',
    ]);
  });
});
