// campaign start: refused after the deadline (nothing written), and otherwise one slot per
// (step, zone, channel, instant, kind) for the zones and channels that have eligible subscribers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CampaignService, createCampaignService } from '../src/campaigns/campaign.service.ts';
import { StateConflict } from '../src/shared/errors.ts';
import { at, campaignFile, type SlotRow, seedSubscriber, slotsOf } from './support/campaign.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';

let t: TestDatabase;
let campaigns: CampaignService;

const brief = (slots: SlotRow[]) =>
  slots
    .map(
      (s) =>
        `${s.zone} ${s.step} ${s.channel} ${s.sendAt} ${s.kind}${s.subscriber ? ` ${s.subscriber}` : ''}`,
    )
    .sort();

beforeAll(async () => {
  t = await createTestDatabase();
  campaigns = createCampaignService({ db: t.db });
  await seedSubscriber(t.db, { id: 'p1', zone: 'Europe/Paris', channels: ['whatsapp', 'email'] });
  await seedSubscriber(t.db, { id: 'p2', zone: 'Europe/Paris', channels: ['email'], tags: ['vip'] });
  await seedSubscriber(t.db, { id: 'n1', zone: 'America/New_York', channels: ['whatsapp'] });
  await seedSubscriber(t.db, { id: 'k1', zone: 'Asia/Kolkata', channels: ['email'] });
  await seedSubscriber(t.db, { id: 'k2', zone: 'Asia/Kolkata', channels: ['whatsapp'] });
  // Not reached: done, or consent not active.
  await seedSubscriber(t.db, { id: 't1', zone: 'Asia/Tokyo', channels: ['whatsapp'], done: true });
  await seedSubscriber(t.db, { id: 's1', zone: 'Australia/Sydney', channels: ['email'], state: 'pending' });
  await seedSubscriber(t.db, {
    id: 'l1',
    zone: 'Europe/London',
    channels: ['whatsapp'],
    state: 'unsubscribed',
  });
});
afterAll(() => t.drop());

describe('campaign start after the deadline', () => {
  it('exits 2 with a message naming the deadline, and creates no slots', async () => {
    await campaigns.create(
      campaignFile('ai-assistants-leave-whatsapp', { deadline: '2026-01-15T00:00:00+01:00' }),
      0,
    );
    const error = await campaigns
      .start('ai-assistants-leave-whatsapp', at('2026-06-01T00:00:00Z'))
      .catch((e) => e);
    expect(error).toBeInstanceOf(StateConflict);
    expect(error.message).toBe(
      'campaign "ai-assistants-leave-whatsapp" cannot start: its deadline 2026-01-15T00:00:00+01:00 (2026-01-14T23:00:00Z) has passed',
    );
    expect((await campaigns.show('ai-assistants-leave-whatsapp')).state).toBe('draft');
    expect(await slotsOf(t.db, 'ai-assistants-leave-whatsapp')).toEqual([]);
  });

  it('is refused at the deadline instant itself', async () => {
    await expect(campaigns.start('ai-assistants-leave-whatsapp', at('2026-01-14T23:00:00Z'))).rejects.toThrow(
      /has passed/,
    );
  });
});

describe('campaign start', () => {
  // Deadline 2030-01-15T00:00+01:00 = 2030-01-14T23:00Z; sendAt 10:00; window 09:00–20:00.
  //   Paris (+01:00):     d7 = 8 Jan 10:00 = 09:00Z; d1 = 14 Jan 10:00 = 09:00Z; h6 = 17:00Z (18:00 local)
  //   New York (−05:00):  deadline is 14 Jan 18:00 local: d7 = 7 Jan 10:00 = 15:00Z; d1 = 13 Jan 15:00Z;
  //                       h6 = 17:00Z (12:00 local)
  //   Kolkata (+05:30):   deadline is 15 Jan 04:30 local: d7 = 8 Jan 10:00 = 04:30Z; d1 = 14 Jan 04:30Z;
  //                       h6 = 17:00Z is 22:30 local, after the window: back to 20:00 local = 14:30Z
  it('builds one slot per step, zone and channel with exact send times', async () => {
    await campaigns.create(campaignFile('c1'), 0);
    const result = await campaigns.start('c1', at('2030-01-01T00:00:00Z'));
    // No price table: no estimate of the WhatsApp cost (docs/whatsapp.md, "Pricing").
    expect(result).toEqual({
      id: 'c1',
      started: true,
      slotsCreated: 13,
      zones: 3,
      reach: 6,
      badZones: [],
      whatsappCost: null,
    });
    expect(brief(await slotsOf(t.db, 'c1'))).toEqual(
      [
        'America/New_York d7 whatsapp 2030-01-07T15:00:00Z scheduled',
        'America/New_York d1 whatsapp 2030-01-13T15:00:00Z scheduled',
        'America/New_York h6 whatsapp 2030-01-14T17:00:00Z scheduled',
        'Asia/Kolkata d7 email 2030-01-08T04:30:00Z scheduled',
        'Asia/Kolkata d7 whatsapp 2030-01-08T04:30:00Z scheduled',
        'Asia/Kolkata d1 email 2030-01-14T04:30:00Z scheduled',
        'Asia/Kolkata d1 whatsapp 2030-01-14T04:30:00Z scheduled',
        'Asia/Kolkata h6 whatsapp 2030-01-14T14:30:00Z scheduled',
        'Europe/Paris d7 email 2030-01-08T09:00:00Z scheduled',
        'Europe/Paris d7 whatsapp 2030-01-08T09:00:00Z scheduled',
        'Europe/Paris d1 email 2030-01-14T09:00:00Z scheduled',
        'Europe/Paris d1 whatsapp 2030-01-14T09:00:00Z scheduled',
        'Europe/Paris h6 whatsapp 2030-01-14T17:00:00Z scheduled',
      ].sort(),
    );
    // Each slot keeps its local wall time and the tz data it was planned with (docs/timezones.md).
    const kept = await t.db.query<{
      zone: string;
      step_id: string;
      local_time: string;
      tz_version: string;
      planned_at: Date;
    }>(
      `SELECT DISTINCT zone, step_id, local_time, tz_version, planned_at FROM slots WHERE campaign_id = 'c1' ORDER BY zone, step_id`,
    );
    expect(kept.map((r) => `${r.zone} ${r.step_id} ${r.local_time}`)).toEqual([
      'America/New_York d1 2030-01-13T10:00',
      'America/New_York d7 2030-01-07T10:00',
      'America/New_York h6 2030-01-14T12:00',
      'Asia/Kolkata d1 2030-01-14T10:00',
      'Asia/Kolkata d7 2030-01-08T10:00',
      'Asia/Kolkata h6 2030-01-14T20:00',
      'Europe/Paris d1 2030-01-14T10:00',
      'Europe/Paris d7 2030-01-08T10:00',
      'Europe/Paris h6 2030-01-14T18:00',
    ]);
    expect(new Set(kept.map((r) => r.tz_version))).toEqual(new Set([process.versions.tz]));
    expect(new Set(kept.map((r) => r.planned_at.toISOString()))).toEqual(
      new Set(['2030-01-01T00:00:00.000Z']),
    );
    const details = await campaigns.show('c1');
    expect(details.state).toBe('running');
    expect(details.startedAt).toBe(at('2030-01-01T00:00:00Z'));
  });

  it('is a no-op on a running campaign', async () => {
    expect(await campaigns.start('c1', at('2030-01-02T00:00:00Z'))).toMatchObject({
      started: false,
      slotsCreated: 0,
    });
    expect(await slotsOf(t.db, 'c1')).toHaveLength(13);
    expect((await campaigns.show('c1')).startedAt).toBe(at('2030-01-01T00:00:00Z'));
  });

  // Starting on 10 Jan 12:00Z: d7 is missed everywhere and d1 is more than 24 h away, so every
  // zone gets a zone-wide catch-up of d7 at the first minute inside its window (docs/campaigns.md,
  // "Late joiners and catch-up").
  //   Paris 13:00 local → 12:00Z; New York 07:00 local → 09:00 local = 14:00Z; Kolkata 17:30 local → 12:00Z
  it('plans catch-ups at start as zone slots: everyone joins at the start', async () => {
    await campaigns.create(campaignFile('c2'), 0);
    const result = await campaigns.start('c2', at('2030-01-10T12:00:00Z'));
    expect(result.slotsCreated).toBe(13);
    const slots = brief(await slotsOf(t.db, 'c2'));
    expect(slots.filter((s) => s.includes('catch-up'))).toEqual(
      [
        'America/New_York d7 whatsapp 2030-01-10T14:00:00Z catch-up',
        'Asia/Kolkata d7 email 2030-01-10T12:00:00Z catch-up',
        'Asia/Kolkata d7 whatsapp 2030-01-10T12:00:00Z catch-up',
        'Europe/Paris d7 email 2030-01-10T12:00:00Z catch-up',
        'Europe/Paris d7 whatsapp 2030-01-10T12:00:00Z catch-up',
      ].sort(),
    );
    expect(slots.filter((s) => s.includes(' d7 ') && s.includes('scheduled'))).toEqual([]);
  });

  it('reaches only the audience tags when the campaign names some', async () => {
    await campaigns.create(campaignFile('vip-only', { tags: ['vip'] }), 0);
    const result = await campaigns.start('vip-only', at('2030-01-01T00:00:00Z'));
    expect(result).toMatchObject({ zones: 1, reach: 1 });
    expect(brief(await slotsOf(t.db, 'vip-only'))).toEqual([
      'Europe/Paris d1 email 2030-01-14T09:00:00Z scheduled',
      'Europe/Paris d7 email 2030-01-08T09:00:00Z scheduled',
    ]);
  });

  it('refuses an unknown campaign', async () => {
    await expect(campaigns.start('nope', 0)).rejects.toThrow(/unknown campaign "nope"/);
  });
});
