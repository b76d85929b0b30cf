// planSubscriber: someone who joins (or gains a channel) while campaigns run gets the zone's
// scheduled slots (created when the zone had none) and a personal catch-up when the catch-up rule
// says so.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CampaignService,
  createCampaignService,
  planSubscriber,
} from '../src/campaigns/campaign.service.ts';
import { at, campaignFile, type SlotRow, STEPS, seedSubscriber, slotsOf } from './support/campaign.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';

let t: TestDatabase;
let campaigns: CampaignService;
const start = at('2030-01-01T00:00:00Z');
const joinAt = at('2030-01-10T12:00:00Z');

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
  await campaigns.create(campaignFile('c1'), start);
  await campaigns.start('c1', start);
  await campaigns.create(campaignFile('draft-one'), start);
  await campaigns.create(campaignFile('vip', { tags: ['vip'], steps: [STEPS.d1] }), start);
  await campaigns.start('vip', start);
});
afterAll(() => t.drop());

describe('planSubscriber', () => {
  it('gives a late joiner in a planned zone a personal catch-up and no new zone slots', async () => {
    await seedSubscriber(t.db, { id: 'j1', zone: 'Europe/Paris', channels: ['whatsapp'] });
    const before = await slotsOf(t.db, 'c1');
    const result = await planSubscriber(t.db, 'j1', joinAt);
    expect(result).toEqual({ subscribers: 1, slotsCreated: 1, unplannable: 0 });
    const after = brief(await slotsOf(t.db, 'c1'));
    expect(after).toHaveLength(before.length + 1);
    // d7 (8 Jan) is missed and d1 (14 Jan 09:00Z) is more than 24 h away: catch-up now, 13:00 Paris.
    expect(after.filter((s) => s.includes('j1'))).toEqual([
      'Europe/Paris d7 whatsapp 2030-01-10T12:00:00Z catch-up j1',
    ]);
  });

  // Tokyo (+09:00): deadline 15 Jan 08:00 local. d7 = 8 Jan 10:00 = 01:00Z (missed), d1 = 14 Jan
  // 01:00Z. 10 Jan 12:00Z is 21:00 local, after the window: the catch-up waits for 09:00 local = 00:00Z.
  it('creates the zone slots of a new zone and a catch-up at the next window opening', async () => {
    await seedSubscriber(t.db, { id: 'j2', zone: 'Asia/Tokyo', channels: ['email'] });
    const result = await planSubscriber(t.db, 'j2', joinAt);
    expect(result.slotsCreated).toBe(2);
    expect(brief(await slotsOf(t.db, 'c1')).filter((s) => s.startsWith('Asia/Tokyo'))).toEqual([
      'Asia/Tokyo d1 email 2030-01-14T01:00:00Z scheduled',
      'Asia/Tokyo d7 email 2030-01-11T00:00:00Z catch-up j2',
    ]);
  });

  it('is idempotent: planning the same subscriber again creates nothing', async () => {
    expect(await planSubscriber(t.db, 'j2', joinAt + 3_600_000)).toMatchObject({ slotsCreated: 0 });
  });

  it('plans no catch-up when the next step is within catchUp.minGap', async () => {
    // 13 Jan 12:00Z: d1 comes at 14 Jan 09:00Z, 21 h later.
    await seedSubscriber(t.db, { id: 'j3', zone: 'Europe/Paris', channels: ['email'] });
    expect(await planSubscriber(t.db, 'j3', at('2030-01-13T12:00:00Z'))).toMatchObject({ slotsCreated: 0 });
    expect((await slotsOf(t.db, 'c1')).filter((s) => s.subscriber === 'j3')).toEqual([]);
  });

  it('skips draft campaigns, audiences that exclude the subscriber, and done subscribers', async () => {
    expect(await slotsOf(t.db, 'draft-one')).toEqual([]);
    // Nobody planned so far carries the tag: not at start (p1), not the joiners j1–j3.
    expect(await slotsOf(t.db, 'vip')).toEqual([]);
    await seedSubscriber(t.db, { id: 'j4', zone: 'America/Chicago', channels: ['email'], tags: ['vip'] });
    await seedSubscriber(t.db, { id: 'j5', zone: 'America/Denver', channels: ['email'], done: true });
    await planSubscriber(t.db, 'j4', joinAt);
    expect(await planSubscriber(t.db, 'j5', joinAt)).toEqual({
      subscribers: 0,
      slotsCreated: 0,
      unplannable: 0,
    });
    expect((await slotsOf(t.db, 'vip')).filter((s) => s.zone === 'America/Chicago')).toEqual([
      expect.objectContaining({ step: 'd1', channel: 'email', kind: 'scheduled', subscriber: null }),
    ]);
    expect((await slotsOf(t.db, 'c1')).filter((s) => s.zone === 'America/Denver')).toEqual([]);
  });

  it('plans nothing for a campaign whose deadline has passed', async () => {
    await seedSubscriber(t.db, { id: 'j6', zone: 'Europe/Berlin', channels: ['email'] });
    expect(await planSubscriber(t.db, 'j6', at('2030-01-15T00:00:00Z'))).toMatchObject({ slotsCreated: 0 });
  });
});
