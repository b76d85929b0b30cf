// campaign create (or update by id), list and show, on a real PostgreSQL.
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CampaignService, createCampaignService } from '../src/campaigns/campaign.service.ts';
import { InvalidInput, NotFound, StateConflict } from '../src/shared/errors.ts';
import { at, campaignFile, STEPS, seedSubscriber } from './support/campaign.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';

let t: TestDatabase;
let campaigns: CampaignService;
const now = at('2029-12-01T00:00:00Z');

beforeAll(async () => {
  t = await createTestDatabase();
  campaigns = createCampaignService({ db: t.db });
});
afterAll(() => t.drop());

const steps = (id: string) =>
  t.db.query(
    'SELECT step_id, position, before, channels, template FROM campaign_steps WHERE campaign_id = $1 ORDER BY position',
    [id],
  );

describe('campaign create', () => {
  it('stores a new campaign as a draft with its definition, deadline and steps', async () => {
    const result = await campaigns.create(campaignFile('spring'), now);
    expect(result).toEqual({ id: 'spring', outcome: 'created', state: 'draft' });
    const row = await t.db.one(
      'SELECT name, state, deadline, source_dir, definition FROM campaigns WHERE id = $1',
      ['spring'],
    );
    expect(row?.state).toBe('draft');
    expect(row?.deadline.toISOString()).toBe('2030-01-14T23:00:00.000Z');
    expect(row?.source_dir).toBeNull(); // the shipped templates
    expect(row?.definition.audience).toEqual({ tags: [] });
    expect(row?.definition.deadlineText).toBe('2030-01-15T00:00:00+01:00');
    expect(await steps('spring')).toEqual([
      { step_id: 'd7', position: 0, before: 'P7D', channels: ['whatsapp', 'email'], template: 'one-week' },
      { step_id: 'd1', position: 1, before: 'P1D', channels: ['whatsapp', 'email'], template: 'last-day' },
      { step_id: 'h6', position: 2, before: 'PT6H', channels: ['whatsapp'], template: 'last-hours' },
    ]);
  });

  it('updates a draft by id: the same file is an update, steps follow the file', async () => {
    expect(await campaigns.create(campaignFile('spring'), now)).toMatchObject({ outcome: 'updated' });
    const path = campaignFile('spring', { name: 'Renamed', steps: [STEPS.h6, STEPS.d1] });
    expect(await campaigns.create(path, now)).toEqual({ id: 'spring', outcome: 'updated', state: 'draft' });
    expect((await steps('spring')).map((s) => [s.step_id, s.position])).toEqual([
      ['h6', 0],
      ['d1', 1],
    ]);
    expect((await campaigns.show('spring')).name).toBe('Renamed');
  });

  it('refuses a campaign whose message templates are missing, and stores nothing', async () => {
    const path = campaignFile('broken', {
      steps: ['{ id: d7, before: P7D, channels: [email], template: no-such-template }'],
    });
    const error = await campaigns.create(path, now).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInput);
    expect((error as InvalidInput).message).toMatch(/no-such-template/);
    expect(await t.db.one('SELECT id FROM campaigns WHERE id = $1', ['broken'])).toBeUndefined();
  });

  it('refuses an invalid campaign file with its problems', async () => {
    const path = campaignFile('bad-file');
    writeFileSync(path, 'id: bad-file\nname: x\ndeadline: 2030-01-15T00:00:00\nsteps: []\n');
    await expect(campaigns.create(path, now)).rejects.toThrow(/deadline/);
  });

  it('once started, lets names and templates change but not the timing', async () => {
    await seedSubscriber(t.db, { id: 'p1', zone: 'Europe/Paris', channels: ['email'] });
    await campaigns.create(campaignFile('frozen'), now);
    await campaigns.start('frozen', now);
    const renamed = campaignFile('frozen', {
      name: 'New name',
      steps: [STEPS.d7.replace('one-week', 'first-notice'), STEPS.d1, STEPS.h6],
    });
    expect(await campaigns.create(renamed, now)).toEqual({
      id: 'frozen',
      outcome: 'updated',
      state: 'running',
    });
    expect((await steps('frozen'))[0]?.template).toBe('first-notice');

    const moved = campaignFile('frozen', {
      deadline: '2030-02-15T00:00:00+01:00',
      steps: [STEPS.d7, STEPS.d1],
    });
    const error = await campaigns.create(moved, now).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateConflict);
    expect((error as Error).message).toMatch(/campaign "frozen" is running: its timing cannot change/);
    expect((error as Error).message).toMatch(/changed: deadline, steps/);
    expect((await campaigns.show('frozen')).deadline).toBe(at('2030-01-14T23:00:00Z'));
  });
});

describe('campaign list and show', () => {
  it('lists every campaign with its state', async () => {
    const list = await campaigns.list();
    expect(list.map((c) => [c.id, c.state])).toEqual(
      expect.arrayContaining([
        ['spring', 'draft'],
        ['frozen', 'running'],
      ]),
    );
  });

  it('shows slot counts and the next slot of a running campaign', async () => {
    const details = await campaigns.show('frozen');
    expect(details.state).toBe('running');
    expect(details.startedAt).toBe(now);
    expect(details.slots).toEqual([{ state: 'pending', kind: 'scheduled', personal: false, count: 2 }]);
    expect(details.nextSlot).toEqual({ stepId: 'd7', sendAt: at('2030-01-08T09:00:00Z') });
  });

  it('refuses an unknown id with a NotFound (exit 2)', async () => {
    await expect(campaigns.show('nope')).rejects.toThrow(NotFound);
    await expect(campaigns.show('nope')).rejects.toThrow(/unknown campaign "nope"/);
  });
});
