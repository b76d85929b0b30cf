// Provider failures and last-minute opt-outs, end to end through real workers: transient errors
// retry and then deliver once; permanent ones are recorded with the provider's code and never
// retried; a bad token stops the WhatsApp channel without losing its messages; a subscriber who
// unsubscribes or is done between planning and sending gets nothing; a paused campaign holds
// its messages and sends them once it resumes.
import { describe, expect, it } from 'vitest';
import { createCampaignService } from '../src/campaigns/campaign.service.ts';
import { channelDownNote, reviewChannel } from '../src/delivery/channel-guard.ts';
import { jobIdOf, QUEUES } from '../src/queue/catalog.ts';
import { ManualClock } from '../src/shared/clock.ts';
import { createLogger } from '../src/shared/logger.ts';
import { sendsTotal } from '../src/shared/metrics.ts';
import { failures } from './fakes/graph-api.ts';
import {
  attemptsOf,
  deliveriesOf,
  digits,
  inFlight,
  type SeedSubscriber,
  seedSubscribers,
  startCampaign,
  subscriber,
  tickAndWait,
  waitFor,
} from './support/delivery.ts';
import { useDeliveryWorkers } from './support/delivery-workers.ts';

const MINUTE = 60_000;
const BASE = Date.parse('2031-06-02T07:00:00Z');
const clock = new ManualClock(BASE);

const stack = useDeliveryWorkers(clock, {
  // Long enough for a loaded CI machine (a 400 ms one timed out a 130429 answer once), short
  // enough that the hang test does not wait long.
  timeouts: { whatsappTimeoutMs: 2_000, emailTimeoutMs: 2_000 },
  channelDownDelayMs: 200,
});

/** A campaign for `subs` only (tagged), one step due a minute after `start`. */
async function campaignFor(id: string, start: number, subs: SeedSubscriber[]): Promise<void> {
  const tagged = subs.map((s) => ({ ...s, tags: [id] }));
  await seedSubscribers(stack.services.database.db, tagged, start - 60 * MINUTE);
  await startCampaign(
    stack.services.database.db,
    {
      id,
      deadline: start + 5 * MINUTE,
      tags: [id],
      steps: [{ id: 'm4', before: 'PT4M', channels: ['whatsapp', 'email'], template: 'first-notice' }],
    },
    start,
  );
}

const tick = (instant: number) => tickAndWait(clock, stack.workers, stack.services.database.db, instant);

const settled = (campaignId: string) =>
  waitFor(
    `${campaignId} settled`,
    async () => (await inFlight(stack.services.database.db, campaignId)) === 0,
    30_000,
  );

/** lastcall_sends_total for one channel and outcome, as this process counted it. */
async function sendsCounted(channel: string, outcome: string): Promise<number> {
  const { values } = await sendsTotal.get();
  return values.find((v) => v.labels.channel === channel && v.labels.outcome === outcome)?.value ?? 0;
}

/** Send requests the fake Graph API saw for one phone number, whatever it answered. */
const graphRequestsTo = (phone: string) =>
  stack.services.graph.requests.filter((r) => (r.body as { to?: string } | undefined)?.to === digits(phone))
    .length;

describe('transient failures', () => {
  const start = BASE;
  const subs = {
    serverError: subscriber('tr-500', 101, ['whatsapp']),
    badGateway: subscriber('tr-502', 102, ['whatsapp']),
    throttled: subscriber('tr-429', 103, ['whatsapp']),
    plain500: subscriber('tr-plain', 105, ['whatsapp']),
    smtp451: subscriber('tr-451', 106, ['email']),
  };

  it('retry with backoff, honour Retry-After, then deliver exactly once', async () => {
    await campaignFor('transient', start, Object.values(subs));
    const { graph, smtp } = stack.services;
    graph.setFailure(failures.serverError(), { to: subs.serverError.phone!, times: 2 });
    graph.setFailure(failures.badGateway(), { to: subs.badGateway.phone!, times: 1 });
    graph.setFailure(failures.rateLimit(1), { to: subs.throttled.phone!, times: 1 });
    graph.setFailure(failures.plainServerError(), { to: subs.plain500.phone!, times: 1 });
    smtp.setFailure({ code: 451 }, { to: subs.smtp451.email!, times: 1 });

    await tick(start + MINUTE);
    const throttledAt = await waitFor(
      'the 130429 answer',
      () => graphRequestsTo(subs.throttled.phone!) >= 1 && Date.now(),
    );
    const retriedAt = await waitFor(
      'the retry after Retry-After',
      () => graphRequestsTo(subs.throttled.phone!) >= 2 && Date.now(),
    );
    // Retry-After: 1 → the queue is rate-limited for a second, not retried at once.
    expect(retriedAt - throttledAt).toBeGreaterThanOrEqual(900);
    await settled('transient');

    const rows = await deliveriesOf(stack.services.database.db, 'transient');
    expect(rows.map((r) => r.status)).toEqual(Array(5).fill('sent'));
    const expected: Record<string, { codes: string[]; requests?: number }> = {
      'tr-500': { codes: ['1', '1'], requests: 3 },
      'tr-502': { codes: ['http-502'], requests: 2 },
      'tr-429': { codes: ['130429'], requests: 2 },
      'tr-plain': { codes: ['http-500'], requests: 2 },
      'tr-451': { codes: ['451'] },
    };
    for (const row of rows) {
      const want = expected[row.subscriber_id]!;
      const attempts = await attemptsOf(stack.services.database.db, row.id);
      expect(attempts).toEqual([
        ...want.codes.map((code) => ({ outcome: 'retry', error_code: code })),
        { outcome: 'sent', error_code: null },
      ]);
      expect(row.attempts).toBe(want.codes.length + 1);
      if (row.phone) {
        expect(graphRequestsTo(row.phone)).toBe(want.requests);
        expect(graph.sent().filter((m) => m.to === digits(row.phone!))).toHaveLength(1);
      }
    }
    expect(smtp.messages.filter((m) => m.envelope.rcptTo.includes(subs.smtp451.email!))).toHaveLength(1);
  });
});

describe('permanent failures', () => {
  const start = BASE + 10 * MINUTE;
  const subs = {
    undeliverable: subscriber('pm-131026', 201, ['whatsapp']),
    noTemplate: subscriber('pm-132001', 202, ['whatsapp']),
    smtp550: subscriber('pm-550', 203, ['email']),
  };

  it('are recorded with the provider code and never retried', async () => {
    await campaignFor('permanent', start, Object.values(subs));
    const { graph, smtp } = stack.services;
    graph.setFailure(failures.undeliverable(), { to: subs.undeliverable.phone! });
    graph.setFailure(failures.templateMissing(), { to: subs.noTemplate.phone! });
    smtp.setFailure({ code: 550 }, { to: subs.smtp550.email! });
    const failedBefore = {
      whatsapp: await sendsCounted('whatsapp', 'failed'),
      email: await sendsCounted('email', 'failed'),
    };

    await tick(start + MINUTE);
    await settled('permanent');
    // Another tick (recovery sweeps), then no send job is left in BullMQ: none waits to retry.
    // (They went out in one page, a `sendBatch` job that completed; a retry would be a job of
    // its own, waiting or delayed.)
    await tick(start + 2 * MINUTE);
    await waitFor('no send job left to retry them', async () => {
      const counts = await Promise.all(
        [QUEUES.whatsapp, QUEUES.email].map((q) =>
          stack.workers.queues.get(q).getJobCounts('waiting', 'delayed', 'active', 'prioritized'),
        ),
      );
      return counts.every((c) => Object.values(c).every((n) => n === 0));
    });

    const byId = new Map(
      (await deliveriesOf(stack.services.database.db, 'permanent')).map((r) => [r.subscriber_id, r]),
    );
    expect(byId.get('pm-131026')).toMatchObject({ status: 'failed', error_code: '131026', attempts: 1 });
    expect(byId.get('pm-132001')).toMatchObject({ status: 'failed', error_code: '132001', attempts: 1 });
    expect(byId.get('pm-550')).toMatchObject({ status: 'failed', error_code: '550', attempts: 1 });
    for (const row of byId.values()) {
      expect(await attemptsOf(stack.services.database.db, row.id)).toEqual([
        { outcome: 'failed', error_code: row.error_code },
      ]);
    }
    expect(graphRequestsTo(subs.undeliverable.phone!)).toBe(1);
    expect(graphRequestsTo(subs.noTemplate.phone!)).toBe(1);
    expect(smtp.messages.filter((m) => m.envelope.rcptTo.includes(subs.smtp550.email!))).toHaveLength(0);
    // The workers' counters (GET /metrics) saw the same three failures.
    expect(await sendsCounted('whatsapp', 'failed')).toBe(failedBefore.whatsapp + 2);
    expect(await sendsCounted('email', 'failed')).toBe(failedBefore.email + 1);
  });
});

describe('an invalid token (190)', () => {
  const start = BASE + 20 * MINUTE;
  const wa = [
    subscriber('tk-1', 301, ['whatsapp']),
    subscriber('tk-2', 302, ['whatsapp']),
    subscriber('tk-3', 303, ['whatsapp']),
  ];
  const mail = subscriber('tk-mail', 304, ['email']);

  it('stops the WhatsApp channel, keeps its messages queued, and lets email go on', async () => {
    await campaignFor('token', start, [...wa, mail]);
    const { graph, smtp } = stack.services;
    graph.setFailure(failures.badToken(), { times: 100 });

    await tick(start + MINUTE);
    await waitFor('email sent', () => smtp.messages.some((m) => m.envelope.rcptTo.includes(mail.email!)));
    const queue = stack.workers.queues.get(QUEUES.whatsapp);
    await waitFor('WhatsApp queue paused', () => queue.isPaused());
    await waitFor('WhatsApp deliveries back in the queue', async () => {
      const rows = (await deliveriesOf(stack.services.database.db, 'token')).filter(
        (r) => r.channel === 'whatsapp',
      );
      return rows.every((r) => r.status === 'queued' && r.error_code === '190');
    });
    expect(await channelDownNote(stack.workers.queues, 'whatsapp')).toMatchObject({ code: '190' });
    const tried = graph.requests.length;
    for (const s of wa) expect(graphRequestsTo(s.phone!)).toBeLessThanOrEqual(1);
    expect(graph.sent().filter((m) => wa.some((s) => m.to === digits(s.phone!)))).toHaveLength(0);
    // The jobs' channel-down delay (200 ms) passes: they come due, and wait in the paused queue.
    const waRows = (await deliveriesOf(stack.services.database.db, 'token')).filter(
      (r) => r.channel === 'whatsapp',
    );
    await waitFor('the WhatsApp jobs to come due and wait in the paused queue', async () => {
      const states = await Promise.all(
        waRows.map((r) => queue.getJobState(jobIdOf('send', { deliveryId: r.id }))),
      );
      return states.every((state) => state === 'waiting');
    });
    expect(graph.requests.length).toBe(tried); // nothing more is attempted while it is down

    // The operator fixes the token and resumes the channel: every message goes out once.
    graph.clearFailures();
    await reviewChannel(
      stack.workers.queues,
      'whatsapp',
      'new-credentials',
      false,
      createLogger({ logLevel: 'silent' }),
    );
    await settled('token');
    const rows = await deliveriesOf(stack.services.database.db, 'token');
    expect(rows.map((r) => r.status)).toEqual(['sent', 'sent', 'sent', 'sent']);
    for (const s of wa) expect(graph.sent().filter((m) => m.to === digits(s.phone!))).toHaveLength(1);
    expect(await queue.isPaused()).toBe(false);
  });
});

describe('opt-outs between planning and sending', () => {
  const start = BASE + 30 * MINUTE;
  const subs = {
    unsubscribedEarly: subscriber('oo-unsub-early', 401, ['whatsapp']),
    doneEarly: subscriber('oo-done-early', 402, ['whatsapp']),
    unsubscribedLate: subscriber('oo-unsub-late', 403, ['whatsapp']),
    doneLate: subscriber('oo-done-late', 404, ['whatsapp']),
    stoppedLate: subscriber('oo-stop-late', 405, ['whatsapp']),
    control: subscriber('oo-control', 406, ['whatsapp']),
  };
  const db = () => stack.services.database.db;
  const unsubscribe = (id: string, state = 'unsubscribed') =>
    db().exec(`UPDATE subscriber_channels SET state = $2 WHERE subscriber_id = $1`, [id, state]);
  const markDone = (id: string) =>
    db().exec(`UPDATE subscribers SET done_at = $2 WHERE id = $1`, [id, new Date(clock.now())]);

  it('get nothing: no delivery before fan-out, a skipped one (with its reason) after', async () => {
    await campaignFor('optout', start, Object.values(subs));
    // After planning, before fan-out:
    await unsubscribe(subs.unsubscribedEarly.id);
    await markDone(subs.doneEarly.id);
    // Hold the senders so that the next changes land between fan-out and send.
    const queue = stack.workers.queues.get(QUEUES.whatsapp);
    await queue.pause();
    await tick(start + MINUTE);
    await unsubscribe(subs.unsubscribedLate.id);
    await unsubscribe(subs.stoppedLate.id, 'stopped');
    await markDone(subs.doneLate.id);
    await queue.resume();
    await settled('optout');

    const byId = new Map((await deliveriesOf(db(), 'optout')).map((r) => [r.subscriber_id, r]));
    expect(byId.has('oo-unsub-early')).toBe(false);
    expect(byId.has('oo-done-early')).toBe(false);
    expect(byId.get('oo-unsub-late')).toMatchObject({ status: 'skipped', skip_reason: 'unsubscribed' });
    expect(byId.get('oo-stop-late')).toMatchObject({ status: 'skipped', skip_reason: 'stopped' });
    expect(byId.get('oo-done-late')).toMatchObject({ status: 'skipped', skip_reason: 'done' });
    expect(byId.get('oo-control')).toMatchObject({ status: 'sent' });
    for (const s of Object.values(subs)) {
      expect(stack.services.graph.sent().filter((m) => m.to === digits(s.phone!))).toHaveLength(
        s === subs.control ? 1 : 0,
      );
    }
  });
});

describe('a campaign paused while its messages wait', () => {
  const start = BASE + 40 * MINUTE;
  const subs = [subscriber('ps-1', 501, ['whatsapp']), subscriber('ps-2', 502, ['whatsapp'])];

  it('holds them, then sends each once after resume', async () => {
    const db = stack.services.database.db;
    await campaignFor('paused', start, subs);
    const queue = stack.workers.queues.get(QUEUES.whatsapp);
    await queue.pause();
    await tick(start + MINUTE);
    const campaigns = createCampaignService({ db });
    await campaigns.pause('paused', clock.now());
    await queue.resume();
    await waitFor('senders to hand the messages back', async () => {
      const rows = await deliveriesOf(db, 'paused');
      return (
        rows.length === 2 && rows.every((r) => r.status === 'queued' && r.error_code === 'campaign-paused')
      );
    });
    const sentTo = () =>
      stack.services.graph.sent().filter((m) => subs.some((s) => m.to === digits(s.phone!)));
    expect(sentTo()).toHaveLength(0);

    await campaigns.resume('paused', clock.now());
    await tick(start + MINUTE + 30_000);
    await settled('paused');
    const rows = await deliveriesOf(db, 'paused');
    expect(rows.map((r) => [r.status, r.attempts])).toEqual([
      ['sent', 1],
      ['sent', 1],
    ]);
    expect(sentTo()).toHaveLength(2);
  });
});
