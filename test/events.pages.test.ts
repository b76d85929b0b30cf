// Outbound events from the send path itself, as an integrator sees them: real workers send a
// step through pages of 20 (WHATSAPP_RATE and EMAIL_RATE of 80 a second make pages of 20) to the
// fake Graph API and the fake SMTP server, and the events worker POSTs what the send path wrote
// to a signing receiver on 127.0.0.1. Every outcome of a page is there: sent, failed (provider
// refusals), skipped (opted out after fan-out), retrying (a 5xx or a 451 once, then sent on the
// message's own job) and unknown (the Graph API answered after the timeout). Each writes the
// event the documented list gives it, with the documented shape, once: `delivery.sent`,
// `delivery.failed` with its `errorCode`; skipped and unknown messages and waiting retries are
// not in that list and write nothing (docs/delivery.md).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUES } from '../src/queue/catalog.ts';
import { type RunningWorkers, startWorkers } from '../src/roles/work.ts';
import { ManualClock } from '../src/shared/clock.ts';
import { type EventReceiver, startEventReceiver } from './fakes/event-receiver.ts';
import { failures } from './fakes/graph-api.ts';
import {
  attemptsOf,
  type DeliveryServices,
  deliveriesOf,
  inFlight,
  seedSubscribers,
  startCampaign,
  startDeliveryServices,
  subscriber,
  tickAndWait,
  waitFor,
} from './support/delivery.ts';

const MINUTE = 60_000;
const BASE = Date.parse('2031-09-01T07:00:00Z');
const SECRET = 'events-pages-secret-0123456789';
const clock = new ManualClock(BASE);
let services: DeliveryServices;
let receiver: EventReceiver;
let workers: RunningWorkers;

beforeAll(async () => {
  services = await startDeliveryServices();
  receiver = await startEventReceiver(SECRET);
  const config = services.config({
    WHATSAPP_RATE: '80',
    EMAIL_RATE: '80',
    EVENTS_URL: receiver.url,
    EVENTS_SECRET: SECRET,
  });
  workers = await startWorkers(config, {
    clock,
    scheduleTick: false,
    backoff: { baseMs: 20 },
    // The straggler sweep takes `queued` rows last touched more than orphanAfterMs before the
    // tick's `now`. Rows carry the database's real time while this clock is years ahead, so the
    // default 5 minutes would let the tick's sweep race the fan-out it has just queued (rows
    // inserted, their page's job not yet in Redis) and re-page them: harmless, but this test
    // counts pages. Stragglers are test/support/crash.ts's subject.
    recovery: { orphanAfterMs: 10 * 365 * 24 * 60 * MINUTE },
    // A timeout a loaded machine does not reach by accident; the late answer comes well after it.
    timeouts: { whatsappTimeoutMs: 3_000 },
    events: { drainEveryMs: 20, sweepEveryMs: 60_000, waitMs: 200, backoff: { baseMs: 20, maxMs: 200 } },
  });
});

afterAll(async () => {
  await workers?.close(5_000);
  await receiver?.close();
  await services?.close();
});

describe('outbound events of a step sent in pages of 20', () => {
  it('every outcome writes the documented event, once, with the documented shape', {
    timeout: 90_000,
  }, async () => {
    const db = services.database.db;
    const wa = Array.from({ length: 20 }, (_, i) => subscriber(`pw-${i}`, 900 + i, ['whatsapp']));
    const mail = Array.from({ length: 20 }, (_, i) => subscriber(`pm-${i}`, 950 + i, ['email']));
    await seedSubscribers(db, [...wa, ...mail], BASE - 60 * MINUTE);
    await startCampaign(
      db,
      {
        id: 'paged-events',
        deadline: BASE + 5 * MINUTE,
        steps: [{ id: 'm4', before: 'PT4M', channels: ['whatsapp', 'email'], template: 'first-notice' }],
      },
      BASE,
    );
    const [waRefused, waRetried, waUnknown, waSkipped] = [wa[2]!, wa[5]!, wa[9]!, wa[14]!];
    const [mailRefused, mailRetried, mailSkipped] = [mail[3]!, mail[8]!, mail[17]!];
    services.graph.setFailure(failures.undeliverable(), { to: waRefused.phone! });
    services.graph.setFailure(failures.serverError(), { to: waRetried.phone!, times: 1 });
    // Meta takes it and answers long after the timeout: the worker cannot know it has it.
    services.graph.setFailure(failures.lateAnswer(12_000), { to: waUnknown.phone!, times: 1 });
    services.smtp.setFailure({ code: 550, message: 'mailbox unavailable' }, { to: mailRefused.email! });
    services.smtp.setFailure({ code: 451, message: 'try again later' }, { to: mailRetried.email!, times: 1 });

    // Fan-out with the senders held, then two opt-outs land between fan-out and send.
    const held = [workers.queues.get(QUEUES.whatsapp), workers.queues.get(QUEUES.email)];
    for (const queue of held) await queue.pause();
    await tickAndWait(clock, workers, db, BASE + MINUTE);
    await db.exec(`UPDATE subscriber_channels SET state = 'unsubscribed' WHERE subscriber_id = $1`, [
      waSkipped.id,
    ]);
    await db.exec('UPDATE subscribers SET done_at = $2 WHERE id = $1', [
      mailSkipped.id,
      new Date(clock.now()),
    ]);
    for (const queue of held) await queue.resume();
    await waitFor('every message settled', async () => (await inFlight(db, 'paged-events')) === 0, 60_000);

    const rows = await deliveriesOf(db, 'paged-events');
    expect(rows).toHaveLength(40);
    const bySubscriber = new Map(rows.map((r) => [r.subscriber_id, r]));
    // Real pages of 20: each channel's messages were claimed by one `sendBatch` job, except the
    // retried one, which now names its own job.
    const jobs = await db.query<{ subscriber_id: string; channel: string; job_id: string }>(
      `SELECT subscriber_id, channel, job_id FROM deliveries WHERE campaign_id = 'paged-events'`,
    );
    for (const channel of ['whatsapp', 'email']) {
      const retried = channel === 'whatsapp' ? waRetried.id : mailRetried.id;
      const pages = new Set(
        jobs.filter((j) => j.channel === channel && j.subscriber_id !== retried).map((j) => j.job_id),
      );
      expect([...pages]).toEqual([expect.stringMatching(/^batch-/)]);
    }

    // The outcomes, as the rows and their attempts record them.
    expect(bySubscriber.get(waRefused.id)).toMatchObject({ status: 'failed', error_code: '131026' });
    expect(bySubscriber.get(mailRefused.id)).toMatchObject({ status: 'failed', error_code: '550' });
    expect(bySubscriber.get(waSkipped.id)).toMatchObject({ status: 'skipped', skip_reason: 'unsubscribed' });
    expect(bySubscriber.get(mailSkipped.id)).toMatchObject({ status: 'skipped', skip_reason: 'done' });
    expect(bySubscriber.get(waUnknown.id)).toMatchObject({ status: 'unknown', error_code: 'timeout' });
    for (const [retried, code] of [
      [waRetried, '1'],
      [mailRetried, '451'],
    ] as const) {
      const row = bySubscriber.get(retried.id)!;
      expect(row).toMatchObject({ status: 'sent', attempts: 2 });
      expect(await attemptsOf(db, row.id)).toEqual([
        { outcome: 'retry', error_code: code },
        { outcome: 'sent', error_code: null },
      ]);
    }
    const notSent = new Set([waRefused, mailRefused, waSkipped, mailSkipped, waUnknown].map((s) => s.id));
    for (const row of rows)
      if (!notSent.has(row.subscriber_id)) expect(row).toMatchObject({ status: 'sent' });

    // What the receiver got: the delivery events of this campaign, each verified and once.
    await waitFor(
      'every event delivered',
      async () =>
        (await db.one<{ n: number }>(
          'SELECT count(*)::int AS n FROM event_outbox WHERE delivered_at IS NULL AND failed_at IS NULL',
        ))!.n === 0,
      30_000,
    );
    expect(receiver.requests.every((r) => r.signed)).toBe(true);
    const received = [...new Map(receiver.accepted().map((e) => [e.id, e])).values()];
    const deliveryEvents = received.filter((e) => e.type.startsWith('delivery.'));
    const createdAt = new Date(clock.now()).toISOString();
    const expected = rows.flatMap((row) => {
      const data = {
        subscriberId: row.subscriber_id,
        deliveryId: row.id,
        campaignId: 'paged-events',
        step: 'm4',
        channel: row.channel,
      };
      if (row.status === 'sent') return [{ type: 'delivery.sent', data }];
      if (row.status === 'failed')
        return [{ type: 'delivery.failed', data: { ...data, errorCode: row.error_code } }];
      return []; // skipped, unknown: not in the documented list
    });
    expect(expected).toHaveLength(40 - 3);
    const shape = (e: { type: string; data: Record<string, unknown> }) => ({ type: e.type, data: e.data });
    expect(deliveryEvents.map(shape)).toEqual(expect.arrayContaining(expected));
    expect(deliveryEvents).toHaveLength(expected.length);
    for (const event of deliveryEvents)
      expect(event).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        type: event.type,
        createdAt,
        data: event.data,
      });
    // The bounce rule ran in the page too: 131026 ended the WhatsApp channel, with its event.
    expect(received.filter((e) => e.type === 'subscriber.bounced').map((e) => e.data)).toEqual([
      expect.objectContaining({ subscriberId: waRefused.id, channel: 'whatsapp' }),
    ]);
  });
});
