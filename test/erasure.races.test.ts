// `subscribers forget` while the pipeline is busy with the same person, on a real PostgreSQL:
// a send whose provider answers after the erasure committed, a fan-out page read before it and
// whose cursor is written after it, and a WhatsApp webhook stored but not yet processed. None of
// them may leave the person's phone, email, name or id behind, and everyone else is unaffected.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCampaignService } from '../src/campaigns/campaign.service.ts';
import { insertFanoutPage } from '../src/delivery/delivery.repository.ts';
import { advanceCursor, claimDueSlots, loadSlot } from '../src/delivery/due-slots.repository.ts';
import { claimDelivery, recordAttempt } from '../src/delivery/send.repository.ts';
import { storeEvent } from '../src/inbound/webhook.repository.ts';
import { processWebhookEvent } from '../src/inbound/webhook.service.ts';
import { messagesChange, statusesChange, webhookPayload } from '../src/sandbox/webhook-payloads.ts';
import { createLogger } from '../src/shared/logger.ts';
import { createErasureService } from '../src/subscribers/erasure.service.ts';
import { at, campaignFile, STEPS, seedSubscriber } from './support/campaign.ts';
import { testConfig } from './support/config.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { testServices } from './support/services.ts';

const SECRET_KEY = 'erasure-races-test-secret-key-0123456789abcdef';
const start = at('2030-01-01T00:00:00Z');
let t: TestDatabase;

const forget = (id: string) =>
  createErasureService({ db: t.db, secretKey: SECRET_KEY }).forget({ kind: 'id', value: id }, start);

async function person(id: string): Promise<{ phone: string; email: string }> {
  const row = await t.db.one<{ phone: string; email: string }>(
    'SELECT phone, email FROM subscribers WHERE id = $1',
    [id],
  );
  if (!row) throw new Error(`no subscriber ${id}`);
  return row;
}

async function newDelivery(subscriberId: string, channel: 'whatsapp' | 'email'): Promise<number> {
  const row = await t.db.one<{ id: number }>(
    `INSERT INTO deliveries (campaign_id, step_id, subscriber_id, channel, kind)
     VALUES ('races', 'd1', $1, $2, 'scheduled') RETURNING id`,
    [subscriberId, channel],
  );
  return Number(row?.id);
}

const deliveryRow = (id: number) =>
  t.db.one<{
    subscriber_id: string | null;
    status: string;
    provider_message_id: string | null;
    error_code: string | null;
    error_detail: string | null;
  }>(
    'SELECT subscriber_id, status, provider_message_id, error_code, error_detail FROM deliveries WHERE id = $1',
    [id],
  );
const attemptDetails = (id: number) =>
  t.db.query<{ outcome: string; detail: string | null }>(
    'SELECT outcome, detail FROM delivery_attempts WHERE delivery_id = $1 ORDER BY attempt',
    [id],
  );

beforeAll(async () => {
  t = await createTestDatabase();
  for (const id of ['keep-1', 'send-1', 'zone-1', 'zone-2', 'zone-3', 'hook-1', 'hook-2'])
    await seedSubscriber(t.db, {
      id,
      zone: id.startsWith('zone') ? 'Asia/Tokyo' : 'Europe/Paris',
      channels: ['whatsapp', 'email'],
    });
  const campaigns = createCampaignService({ db: t.db });
  await campaigns.create(campaignFile('races', { steps: [STEPS.d7, STEPS.d1] }), start);
  await campaigns.start('races', start);
});
afterAll(() => t?.drop());

describe('erasure while the pipeline works on the same person', () => {
  it("a send answered after the erasure committed keeps no wamid and no error text; others' sends keep theirs", async () => {
    const now = new Date(start);
    const [wa, mail, keepWa, keepMail] = [
      await newDelivery('send-1', 'whatsapp'),
      await newDelivery('send-1', 'email'),
      await newDelivery('keep-1', 'whatsapp'),
      await newDelivery('keep-1', 'email'),
    ];
    for (const id of [wa, mail, keepWa, keepMail]) expect(await claimDelivery(t.db, id, now)).toBeDefined();
    const erased = await person('send-1');
    const kept = await person('keep-1');
    const wamid = (phone: string) =>
      `wamid.${Buffer.from(`HBgL${phone.slice(1)}FQIAERgS`).toString('base64')}`;
    const refusal = (email: string) => `550 5.1.1 <${email}>: Recipient address rejected`;

    const result = await forget('send-1');
    expect(result.deliveriesAnonymised).toBe(2);
    expect(result.deliveriesSkipped).toBe(0); // both were `sending`: the erasure leaves them to the sender

    // The provider answers now, after the commit.
    await recordAttempt(t.db, wa, 1, { status: 'sent', providerMessageId: wamid(erased.phone) }, now);
    await recordAttempt(t.db, mail, 1, { status: 'failed', code: '550', detail: refusal(erased.email) }, now);
    await recordAttempt(t.db, keepWa, 1, { status: 'sent', providerMessageId: wamid(kept.phone) }, now);
    await recordAttempt(
      t.db,
      keepMail,
      1,
      { status: 'failed', code: '550', detail: refusal(kept.email) },
      now,
    );

    expect(await deliveryRow(wa)).toEqual({
      subscriber_id: null,
      status: 'sent',
      provider_message_id: null,
      error_code: null,
      error_detail: null,
    });
    expect(await deliveryRow(mail)).toEqual({
      subscriber_id: null,
      status: 'failed',
      provider_message_id: null,
      error_code: '550',
      error_detail: null,
    });
    expect(await attemptDetails(mail)).toEqual([{ outcome: 'failed', detail: null }]);
    // The same answers for someone not erased are recorded whole.
    expect((await deliveryRow(keepWa))?.provider_message_id).toBe(wamid(kept.phone));
    expect((await deliveryRow(keepMail))?.error_detail).toBe(refusal(kept.email));
    expect(await attemptDetails(keepMail)).toEqual([{ outcome: 'failed', detail: refusal(kept.email) }]);
  });

  it('a fan-out page read before the erasure does not write the erased id as its cursor, and goes on with the same people', async () => {
    // Asia/Tokyo's d7 WhatsApp slot, due and claimed by a tick.
    const due = await t.db.one<{ id: number; send_at: Date }>(
      `SELECT id, send_at FROM slots WHERE campaign_id = 'races' AND zone = 'Asia/Tokyo' AND step_id = 'd7' AND channel = 'whatsapp'`,
    );
    if (!due) throw new Error('no Asia/Tokyo d7 slot');
    const now = new Date(due.send_at.getTime() + 1000);
    expect(await claimDueSlots(t.db, now, 10)).toContain(Number(due.id));
    const slot = await loadSlot(t.db, Number(due.id));
    if (!slot) throw new Error('slot vanished');

    const page = await insertFanoutPage(t.db, slot, 2, now);
    expect(page.lastSubscriberId).toBe('zone-2');
    await forget('zone-2'); // commits between the page and its cursor
    await advanceCursor(t.db, slot.id, 'zone-2', page.added.length, now);

    const after = await loadSlot(t.db, slot.id);
    expect(after?.cursor).toBe('zone-1');
    const next = await insertFanoutPage(t.db, after ?? slot, 2, now);
    const rows = await t.db.query<{ subscriber_id: string | null }>(
      `SELECT subscriber_id FROM deliveries WHERE slot_id = $1 ORDER BY id`,
      [slot.id],
    );
    expect(next.lastSubscriberId).toBe('zone-3');
    expect(rows.map((r) => r.subscriber_id)).toEqual(['zone-1', null, 'zone-3']);
  });

  it('a webhook waiting to be processed loses what it says about the person and is still processed for the others', async () => {
    const erased = await person('hook-1');
    const other = await person('hook-2');
    const meta = { phoneNumberId: '100', displayPhoneNumber: '15550001111' };
    const when = new Date(start);
    const payload = webhookPayload([
      {
        id: 'waba',
        changes: [
          statusesChange(meta, [
            { id: 'wamid.hook1', status: 'read', recipientId: erased.phone.slice(1), at: when },
          ]),
          messagesChange(meta, [
            {
              kind: 'text',
              from: erased.phone.slice(1),
              id: 'wamid.in1',
              at: when,
              text: 'FAIT',
              name: 'Zéphyrine',
            },
            {
              kind: 'text',
              from: other.phone.slice(1),
              id: 'wamid.in2',
              at: when,
              text: 'ARRÊT',
              name: 'Other',
            },
          ]),
        ],
      },
    ]);
    const raw = JSON.stringify(payload);
    expect(raw).toContain(erased.phone.slice(1));
    const stored = await storeEvent(t.db, {
      digest: 'races-1',
      fields: ['messages'],
      rawJson: raw,
      now: when,
    });

    const result = await forget('hook-1');
    expect(result.webhookPayloadsRedacted).toBe(1);
    const pending = await t.db.one<{ payload: string }>(
      'SELECT payload::text AS payload FROM webhook_events WHERE id = $1',
      [stored.id],
    );
    expect(pending?.payload).not.toContain(erased.phone.slice(1));
    expect(pending?.payload).not.toContain('Zéphyrine');
    expect(pending?.payload).toContain(other.phone.slice(1));

    const { subscriptions } = testServices(testConfig({ SECRET_KEY }), t.db);
    const logger = createLogger({ logLevel: 'silent' });
    const report = await processWebhookEvent(
      { db: t.db, subscriptions, replier: undefined, logger },
      stored.id,
      start,
    );
    expect(report).toEqual({ processed: true, outcomes: { 'inbound:stop': 1 } });
    const states = await t.db.query<{ channel: string; state: string }>(
      `SELECT channel, state FROM subscriber_channels WHERE subscriber_id = 'hook-2' ORDER BY channel`,
    );
    expect(states).toEqual([
      { channel: 'email', state: 'active' },
      { channel: 'whatsapp', state: 'stopped' },
    ]);
  });
});
