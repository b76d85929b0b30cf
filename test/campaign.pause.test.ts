// pause, resume and cancel. Resume turns what came due during the pause into at most one
// catch-up per zone and channel (src/campaigns/slot.resume.ts); cancel drops pending slots and
// skips deliveries no sender has taken yet.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CampaignService, createCampaignService } from '../src/campaigns/campaign.service.ts';
import { cliMessage } from '../src/cli/error-hints.ts';
import { StateConflict } from '../src/shared/errors.ts';
import { at, campaignFile, type SlotRow, STEPS, seedSubscriber, slotsOf } from './support/campaign.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';

let t: TestDatabase;
let campaigns: CampaignService;
const start = at('2030-01-01T00:00:00Z');
const pausedAt = at('2030-01-05T00:00:00Z');

const brief = (slots: SlotRow[]) =>
  slots.map((s) => `${s.zone} ${s.step} ${s.channel} ${s.sendAt} ${s.state}`).sort();

async function startedAndPaused(id: string, steps?: string[]): Promise<void> {
  await campaigns.create(campaignFile(id, steps ? { steps } : {}), start);
  await campaigns.start(id, start);
  expect(await campaigns.pause(id, pausedAt)).toMatchObject({ state: 'paused', changed: true });
}

beforeAll(async () => {
  t = await createTestDatabase();
  campaigns = createCampaignService({ db: t.db });
  await seedSubscriber(t.db, { id: 'p1', zone: 'Europe/Paris', channels: ['whatsapp', 'email'] });
  await seedSubscriber(t.db, { id: 'n1', zone: 'America/New_York', channels: ['whatsapp'] });
});
afterAll(() => t.drop());

describe('pause', () => {
  it('pauses a running campaign once; a second pause changes nothing', async () => {
    await startedAndPaused('a');
    expect(await campaigns.pause('a', pausedAt)).toMatchObject({ changed: false, state: 'paused' });
    const details = await campaigns.show('a');
    expect(details.state).toBe('paused');
    expect(details.pausedAt).toBe(pausedAt);
  });

  it('refuses to pause or resume a draft', async () => {
    await campaigns.create(campaignFile('draft'), start);
    await expect(campaigns.pause('draft', start)).rejects.toThrow(/cannot be paused: it is draft/);
    const error = await campaigns.resume('draft', start).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateConflict);
    expect(error).toMatchObject({ state: 'draft', action: 'resume', allowed: ['paused'] });
  });

  it('refuses to start a paused campaign (resume it instead)', async () => {
    const error = await campaigns.start('a', pausedAt).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateConflict);
    expect((error as StateConflict).message).not.toMatch(/lastcall/);
    // The CLI, not the service, names the command that helps.
    expect(cliMessage(error as StateConflict)).toMatch(/use "lastcall campaign resume a"/);
  });
});

describe('resume', () => {
  // Resumed 10 Jan 12:00Z: d7 came due while paused (Paris 8 Jan 09:00Z, New York 7 Jan 15:00Z)
  // and d1 is more than 24 h away: d7 moves to the first minute inside each zone's window.
  it('moves what came due while paused to the zone catch-up time and leaves the rest', async () => {
    const result = await campaigns.resume('a', at('2030-01-10T12:00:00Z'));
    expect(result).toMatchObject({ state: 'running', changed: true, slotsMoved: 3, slotsCancelled: 0 });
    expect(brief(await slotsOf(t.db, 'a'))).toEqual(
      [
        'America/New_York d7 whatsapp 2030-01-10T14:00:00Z pending',
        'America/New_York d1 whatsapp 2030-01-13T15:00:00Z pending',
        'America/New_York h6 whatsapp 2030-01-14T17:00:00Z pending',
        'Europe/Paris d7 email 2030-01-10T12:00:00Z pending',
        'Europe/Paris d7 whatsapp 2030-01-10T12:00:00Z pending',
        'Europe/Paris d1 email 2030-01-14T09:00:00Z pending',
        'Europe/Paris d1 whatsapp 2030-01-14T09:00:00Z pending',
        'Europe/Paris h6 whatsapp 2030-01-14T17:00:00Z pending',
      ].sort(),
    );
    expect((await campaigns.show('a')).state).toBe('running');
    expect(await campaigns.resume('a', at('2030-01-10T13:00:00Z'))).toMatchObject({ changed: false });
  });

  it('drops what came due when the next step is within catchUp.minGap', async () => {
    await startedAndPaused('b');
    // 13 Jan 12:00Z: Paris d1 is 21 h away, New York d1 3 h away.
    const result = await campaigns.resume('b', at('2030-01-13T12:00:00Z'));
    expect(result).toMatchObject({ slotsMoved: 0, slotsCancelled: 3 });
    expect(brief(await slotsOf(t.db, 'b')).filter((s) => s.includes(' d7 '))).toEqual([
      'America/New_York d7 whatsapp 2030-01-07T15:00:00Z cancelled',
      'Europe/Paris d7 email 2030-01-08T09:00:00Z cancelled',
      'Europe/Paris d7 whatsapp 2030-01-08T09:00:00Z cancelled',
    ]);
  });

  it('keeps only the most recent missed step when several came due', async () => {
    await startedAndPaused('c', [STEPS.d7, STEPS.d1]);
    // 14 Jan 10:00Z: d7 and d1 both passed, nothing remains: d1 goes at 11:00 Paris (10:00Z) and
    // at 09:00 New York (14:00Z), before the deadline (23:00Z); d7 is dropped.
    const result = await campaigns.resume('c', at('2030-01-14T10:00:00Z'));
    expect(result).toMatchObject({ slotsMoved: 3, slotsCancelled: 3 });
    expect(brief(await slotsOf(t.db, 'c'))).toEqual(
      [
        'America/New_York d1 whatsapp 2030-01-14T14:00:00Z pending',
        'America/New_York d7 whatsapp 2030-01-07T15:00:00Z cancelled',
        'Europe/Paris d1 email 2030-01-14T10:00:00Z pending',
        'Europe/Paris d1 whatsapp 2030-01-14T10:00:00Z pending',
        'Europe/Paris d7 email 2030-01-08T09:00:00Z cancelled',
        'Europe/Paris d7 whatsapp 2030-01-08T09:00:00Z cancelled',
      ].sort(),
    );
  });

  it('leaves a slot whose fan-out began before the pause to finish where it stopped', async () => {
    await startedAndPaused('d');
    await t.db.exec(
      `UPDATE slots SET cursor = 'm', fanned_out_count = 10 WHERE campaign_id = 'd' AND zone = 'Europe/Paris' AND step_id = 'd7' AND channel = 'email'`,
    );
    const result = await campaigns.resume('d', at('2030-01-10T12:00:00Z'));
    expect(result.slotsMoved).toBe(2);
    expect(brief(await slotsOf(t.db, 'd')).filter((s) => s.includes('Paris d7'))).toEqual([
      'Europe/Paris d7 email 2030-01-08T09:00:00Z pending',
      'Europe/Paris d7 whatsapp 2030-01-10T12:00:00Z pending',
    ]);
  });

  it('refuses to resume after the deadline', async () => {
    await startedAndPaused('e');
    await expect(campaigns.resume('e', at('2030-01-15T00:00:00Z'))).rejects.toThrow(
      'campaign "e" cannot resume: its deadline 2030-01-15T00:00:00+01:00 (2030-01-14T23:00:00Z) has passed',
    );
    expect((await campaigns.show('e')).state).toBe('paused');
  });
});

describe('cancel', () => {
  it('cancels pending slots and skips deliveries no sender holds', async () => {
    await campaigns.create(campaignFile('f'), start);
    await campaigns.start('f', start);
    // Paris d7 fanned out: three deliveries in different states; New York's d7 is mid fan-out.
    await t.db.exec(
      `UPDATE slots SET state = 'done' WHERE campaign_id = 'f' AND zone = 'Europe/Paris' AND step_id = 'd7'`,
    );
    await t.db.exec(
      `UPDATE slots SET state = 'fanning_out' WHERE campaign_id = 'f' AND zone = 'America/New_York' AND step_id = 'd7'`,
    );
    await t.db.exec(
      `INSERT INTO deliveries (campaign_id, step_id, subscriber_id, channel, kind, status) VALUES
         ('f', 'd7', 'p1', 'whatsapp', 'scheduled', 'sent'),
         ('f', 'd7', 'p1', 'email', 'scheduled', 'retrying'),
         ('f', 'd7', 'n1', 'whatsapp', 'scheduled', 'queued')`,
    );
    const result = await campaigns.cancel('f', at('2030-01-08T12:00:00Z'));
    expect(result).toEqual({
      id: 'f',
      state: 'cancelled',
      changed: true,
      slotsMoved: 0,
      slotsCancelled: 5,
      deliveriesSkipped: 2,
    });
    const slots = await slotsOf(t.db, 'f');
    expect(slots.filter((s) => s.state === 'pending')).toEqual([]);
    expect(slots.filter((s) => s.state === 'done')).toHaveLength(2);
    expect(slots.filter((s) => s.state === 'fanning_out')).toHaveLength(1);
    const deliveries = await t.db.query(
      `SELECT subscriber_id, channel, status, skip_reason FROM deliveries WHERE campaign_id = 'f' ORDER BY 1, 2`,
    );
    expect(deliveries).toEqual([
      { subscriber_id: 'n1', channel: 'whatsapp', status: 'skipped', skip_reason: 'campaign-cancelled' },
      { subscriber_id: 'p1', channel: 'email', status: 'skipped', skip_reason: 'campaign-cancelled' },
      { subscriber_id: 'p1', channel: 'whatsapp', status: 'sent', skip_reason: null },
    ]);
  });

  it('is final: cancelling again changes nothing, starting or resuming is refused', async () => {
    expect(await campaigns.cancel('f', at('2030-01-09T00:00:00Z'))).toMatchObject({ changed: false });
    await expect(campaigns.start('f', at('2030-01-09T00:00:00Z'))).rejects.toThrow(
      /cannot start: it is cancelled/,
    );
    await expect(campaigns.resume('f', at('2030-01-09T00:00:00Z'))).rejects.toThrow(
      /cannot resume: it is cancelled/,
    );
  });

  it('cancels a paused campaign too', async () => {
    expect((await campaigns.show('e')).state).toBe('paused');
    expect(await campaigns.cancel('e', at('2030-01-13T13:00:00Z'))).toMatchObject({
      changed: true,
      slotsCancelled: 8,
    });
  });
});
