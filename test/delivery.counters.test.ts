// The campaign counters (delivery_counts, docs/delivery.md "Counters") always equal a count(*)
// … GROUP BY over the deliveries, whatever moved them: fan-out, pages sent by real workers to the
// fake Graph API and the fake SMTP server with retries, refusals and a timeout, opt-outs between
// fan-out and send, a worker that died after its claim (recovery calls the rows unknown), a
// change rolled back, late, repeated and out-of-order WhatsApp statuses, and a cancel. And
// `campaign stats` read from them gives the figures the rows give.
import { describe, expect, it } from 'vitest';
import { createCampaignService } from '../src/campaigns/campaign.service.ts';
import { claimDeliveries } from '../src/delivery/send.repository.ts';
import { storeEvent } from '../src/inbound/webhook.repository.ts';
import { processWebhookEvent } from '../src/inbound/webhook.service.ts';
import { QUEUES } from '../src/queue/catalog.ts';
import { statusesChange, webhookPayload } from '../src/sandbox/webhook-payloads.ts';
import { ManualClock } from '../src/shared/clock.ts';
import { createLogger } from '../src/shared/logger.ts';
import { failures } from './fakes/graph-api.ts';
import {
  inFlight,
  seedSubscribers,
  startCampaign,
  subscriber,
  tickAndWait,
  waitFor,
} from './support/delivery.ts';
import { useDeliveryWorkers } from './support/delivery-workers.ts';
import { testServices } from './support/services.ts';

const MINUTE = 60_000;
const BASE = Date.parse('2031-10-06T07:00:00Z');
const clock = new ManualClock(BASE);

const stack = useDeliveryWorkers(clock, {
  // A timeout a loaded machine does not reach by accident; the late answer comes well after it.
  timeouts: { whatsappTimeoutMs: 3_000 },
  recovery: { graceMs: 0, orphanAfterMs: 0 },
});

type Count = {
  campaign_id: string;
  step_id: string;
  channel: string;
  status: string;
  reason: string;
  n: number;
};

/** The counters, and the same figures counted over the rows. */
async function both(): Promise<{ counters: Count[]; rows: Count[] }> {
  const db = stack.services.database.db;
  const counters = await db.query<Count>(
    `SELECT campaign_id, step_id, channel, status, reason, sum(n)::int AS n FROM delivery_counts
      GROUP BY 1, 2, 3, 4, 5 HAVING sum(n) <> 0 ORDER BY 1, 2, 3, 4, 5`,
  );
  const rows = await db.query<Count>(
    `SELECT campaign_id, step_id, channel, status, delivery_count_reason(status, error_code, skip_reason) AS reason,
            count(*)::int AS n
       FROM deliveries WHERE kind <> 'test' GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5`,
  );
  return { counters, rows };
}

async function expectExact(): Promise<Count[]> {
  const { counters, rows } = await both();
  expect(counters).toEqual(rows);
  return rows;
}

const statusPayload = (list: { wamid: string; status: 'delivered' | 'read' | 'failed'; at: number }[]) =>
  JSON.stringify(
    webhookPayload([
      {
        id: 'waba',
        changes: [
          statusesChange(
            { phoneNumberId: '1', displayPhoneNumber: '1' },
            list.map((s) => ({ id: s.wamid, status: s.status, recipientId: '1', at: new Date(s.at) })),
          ),
        ],
      },
    ]),
  );

describe('delivery counters', () => {
  it('equal a count over the rows through sends, crashes, retries, webhooks and a cancel', {
    timeout: 120_000,
  }, async () => {
    const db = stack.services.database.db;
    const wa = Array.from({ length: 12 }, (_, i) => subscriber(`cw-${i}`, 600 + i, ['whatsapp']));
    const mail = Array.from({ length: 8 }, (_, i) => subscriber(`cm-${i}`, 650 + i, ['email']));
    await seedSubscribers(db, [...wa, ...mail], BASE - 60 * MINUTE);
    await startCampaign(
      db,
      {
        id: 'counted',
        deadline: BASE + 30 * MINUTE,
        steps: [
          { id: 'm20', before: 'PT20M', channels: ['whatsapp', 'email'], template: 'first-notice' },
          { id: 'm10', before: 'PT10M', channels: ['whatsapp', 'email'], template: 'one-week' },
        ],
      },
      BASE,
    );
    await expectExact();

    // First step: a 5xx once (retried, then sent), a refusal, a timeout (unknown), an SMTP 451
    // once and a 550, and an opt-out between fan-out and send.
    stack.services.graph.setFailure(failures.serverError(), { to: wa[1]!.phone!, times: 1 });
    stack.services.graph.setFailure(failures.undeliverable(), { to: wa[2]!.phone!, times: 1 });
    stack.services.graph.setFailure(failures.lateAnswer(12_000), { to: wa[3]!.phone!, times: 1 });
    stack.services.smtp.setFailure({ code: 451, message: 'later' }, { to: mail[1]!.email!, times: 1 });
    stack.services.smtp.setFailure({ code: 550, message: 'no such user' }, { to: mail[2]!.email!, times: 1 });
    const held = [stack.workers.queues.get(QUEUES.whatsapp), stack.workers.queues.get(QUEUES.email)];
    for (const queue of held) await queue.pause();
    await tickAndWait(clock, stack.workers, db, BASE + 10 * MINUTE);
    await expectExact(); // everything queued
    await db.exec(`UPDATE subscriber_channels SET state = 'unsubscribed' WHERE subscriber_id = $1`, [
      wa[4]!.id,
    ]);
    for (const queue of held) await queue.resume();
    await waitFor('first step settled', async () => (await inFlight(db, 'counted')) === 0, 60_000);
    const afterSend = await expectExact();
    const first = (status: string) =>
      afterSend.filter((c) => c.step_id === 'm20' && c.status === status).reduce((sum, c) => sum + c.n, 0);
    expect([first('sent'), first('failed'), first('skipped'), first('unknown')]).toEqual([16, 2, 1, 1]);

    // Second step: a worker claims a page and dies before any call (nothing recorded); the rest
    // go out; recovery finds the claimed rows `sending` with no job behind them: unknown.
    for (const queue of held) await queue.pause();
    await tickAndWait(clock, stack.workers, db, BASE + 20 * MINUTE);
    const second = await db.query<{ id: number }>(
      `SELECT id FROM deliveries WHERE campaign_id = 'counted' AND step_id = 'm10' AND channel = 'whatsapp' ORDER BY id LIMIT 3`,
    );
    const claimed = await claimDeliveries(
      db,
      second.map((r) => r.id),
      'batch-died',
      new Date(clock.now()),
    );
    expect(claimed).toHaveLength(3);
    await expectExact(); // three `sending`
    for (const queue of held) await queue.resume();
    const waiting = () =>
      db.query<{ status: string; n: number }>(
        `SELECT status, count(*)::int AS n FROM deliveries
          WHERE campaign_id = 'counted' AND status IN ('queued', 'retrying', 'sending') GROUP BY 1`,
      );
    await waitFor(
      'second step sent but the claimed three',
      async () => JSON.stringify(await waiting()) === JSON.stringify([{ status: 'sending', n: 3 }]),
      60_000,
    );
    clock.advance(MINUTE);
    await stack.workers.runTick(clock.now());
    await waitFor('recovery', async () => (await inFlight(db, 'counted')) === 0, 30_000);
    const afterCrash = await expectExact();
    expect(afterCrash.find((c) => c.step_id === 'm10' && c.status === 'unknown')?.n).toBe(3);

    // A change rolled back moves no count.
    await expect(
      db.tx(async (sql) => {
        await sql.exec(
          `UPDATE deliveries SET status = 'read' WHERE campaign_id = 'counted' AND status = 'sent'`,
        );
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    await expectExact();

    // WhatsApp statuses: delivered and read in separate webhooks, read before delivered, repeats,
    // a failure after delivery, a failure of a sent one, each webhook twice in a page.
    const sent = await db.query<{ wamid: string }>(
      `SELECT provider_message_id AS wamid FROM deliveries
        WHERE campaign_id = 'counted' AND channel = 'whatsapp' AND status = 'sent' ORDER BY id`,
    );
    expect(sent.length).toBeGreaterThanOrEqual(10);
    const t = clock.now();
    const bodies = [
      statusPayload(sent.slice(0, 6).map((s) => ({ wamid: s.wamid, status: 'read', at: t + 2_000 }))),
      statusPayload(sent.slice(0, 8).map((s) => ({ wamid: s.wamid, status: 'delivered', at: t + 1_000 }))),
      statusPayload([
        { wamid: sent[6]!.wamid, status: 'failed', at: t + 3_000 },
        { wamid: sent[8]!.wamid, status: 'failed', at: t + 3_000 },
        { wamid: sent[9]!.wamid, status: 'read', at: t + 3_000 },
        { wamid: sent[9]!.wamid, status: 'read', at: t + 3_000 },
      ]),
    ];
    const deps = {
      db,
      subscriptions: testServices(stack.services.database.config, db).subscriptions,
      replier: undefined,
      logger: createLogger({ logLevel: 'silent' }),
    };
    const stored: number[] = [];
    for (const [i, body] of bodies.entries())
      stored.push(
        (await storeEvent(db, { digest: `c${i}`, fields: ['messages'], rawJson: body, now: new Date(t) })).id,
      );
    // Each webhook as its own job, the first twice (a retried job), the page taking them all.
    for (const id of [stored[1]!, stored[0]!, stored[1]!, stored[2]!])
      await processWebhookEvent(deps, id, t + 4_000);
    // Redelivered later, and late: the same bodies again, as new events.
    for (const [i, body] of bodies.entries()) {
      const again = await storeEvent(db, {
        digest: `c${i}-again`,
        fields: ['messages'],
        rawJson: body,
        now: new Date(t),
      });
      await processWebhookEvent(deps, again.id, t + 5_000);
    }
    const afterWebhooks = await expectExact();
    const m = (status: string) =>
      afterWebhooks
        .filter((c) => c.channel === 'whatsapp' && c.status === status)
        .reduce((sum, c) => sum + c.n, 0);
    expect(m('read')).toBe(7);
    expect(m('delivered')).toBe(2); // sent[6] and [7]: sent[6]'s late failure keeps it delivered

    // The figures `campaign stats` shows are the rows' figures.
    const stats = await createCampaignService({ db }).stats('counted', clock.now());
    for (const s of stats.steps) {
      const of = (status: string) =>
        afterWebhooks
          .filter((c) => c.step_id === s.step && c.channel === s.channel && c.status === status)
          .reduce((sum, c) => sum + c.n, 0);
      expect(s.read).toBe(of('read'));
      expect(s.delivered).toBe(of('read') + of('delivered'));
      expect(s.sent).toBe(of('read') + of('delivered') + of('sent'));
      expect([s.failed, s.skipped, s.unknown]).toEqual([of('failed'), of('skipped'), of('unknown')]);
    }

    // A cancel skips what still waits: still exact.
    await createCampaignService({ db }).cancel('counted', clock.now());
    await expectExact();
  });
});
