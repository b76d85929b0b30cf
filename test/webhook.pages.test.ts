// WhatsApp statuses settled a page at a time, on a real PostgreSQL: one webhook job takes every
// stored event still waiting (its own first), applies their statuses in the order received, as
// the status rule says, writes each changed delivery once with its events in order, and marks
// the events processed; the jobs of the events it took find nothing left to do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEvent } from '../src/inbound/webhook.repository.ts';
import { processWebhookEvent, settleStatuses } from '../src/inbound/webhook.service.ts';
import type { StatusItem, StatusPricing } from '../src/inbound/webhook-payload.ts';
import { statusesChange, webhookPayload } from '../src/sandbox/webhook-payloads.ts';
import { createLogger } from '../src/shared/logger.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { seedSubscribers, subscriber } from './support/delivery.ts';
import { testServices } from './support/services.ts';

const NOW = Date.parse('2030-03-02T10:00:00Z');
const meta = { phoneNumberId: '100', displayPhoneNumber: '15550001111' };
let t: TestDatabase;
const ids: number[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  await seedSubscribers(
    t.db,
    [1, 2, 3].map((n) => subscriber(`wp-${n}`, 300 + n, ['whatsapp'])),
    NOW - 3600_000,
  );
  await t.db.exec(
    `INSERT INTO campaigns (id, name, state, definition, deadline) VALUES ('wp', 'Pages', 'running', '{}', $1)`,
    [new Date(NOW + 86_400_000)],
  );
  ids.push(...(await sentDeliveries('d1', 'WP')));
});

/** wp-1, wp-2 and wp-3's messages of `step`, sent as wamid.<prefix><n>: their ids, in that order. */
async function sentDeliveries(step: string, prefix: string): Promise<number[]> {
  const rows = await t.db.query<{ id: number }>(
    `INSERT INTO deliveries (campaign_id, step_id, subscriber_id, channel, kind, status, provider_message_id, sent_at)
     SELECT 'wp', $1, 'wp-' || n, 'whatsapp', 'scheduled', 'sent', $2 || n, $3 FROM generate_series(1, 3) AS n
      ORDER BY n RETURNING id`,
    [step, `wamid.${prefix}`, new Date(NOW - 600_000)],
  );
  return rows.map((r) => Number(r.id));
}
afterAll(async () => {
  await t?.drop();
});

const at = (minutesAfter: number) => new Date(NOW + minutesAfter * 60_000);
type Status = 'delivered' | 'read' | 'failed';
const statuses = (list: [n: number, status: Status, minutes: number][]) =>
  JSON.stringify(
    webhookPayload([
      {
        id: 'waba',
        changes: [
          statusesChange(
            meta,
            list.map(([n, status, minutes]) => ({
              id: `wamid.WP${n}`,
              status,
              recipientId: `3362${String(300 + n).padStart(7, '0')}`,
              at: at(minutes),
            })),
          ),
        ],
      },
    ]),
  );

describe('a page of stored webhooks', () => {
  it('is settled by one job, in the order received, each row written once with its events in order', async () => {
    const stored: number[] = [];
    for (const [digest, body] of [
      [
        'p1',
        statuses([
          [1, 'delivered', 2],
          [2, 'delivered', 3],
        ]),
      ],
      [
        'p2',
        statuses([
          [1, 'read', 5],
          [2, 'failed', 4],
          [3, 'read', 6],
        ]),
      ],
      // Late and repeated: an earlier-dated "delivered" refines the time, a repeat changes nothing.
      [
        'p3',
        statuses([
          [1, 'delivered', 1],
          [3, 'delivered', 6],
          [1, 'read', 5],
        ]),
      ],
    ] as const)
      stored.push((await storeEvent(t.db, { digest, fields: ['messages'], rawJson: body, now: at(7) })).id);

    const deps = {
      db: t.db,
      subscriptions: testServices(t.config, t.db).subscriptions,
      replier: undefined,
      logger: createLogger({ logLevel: 'silent' }),
    };
    const report = await processWebhookEvent(deps, stored[1]!, NOW + 8 * 60_000);
    expect(report).toEqual({
      processed: true,
      outcomes: { 'status:applied': 6, 'status:unchanged': 2 },
    });
    // The other events' own jobs come after: nothing left.
    expect(await processWebhookEvent(deps, stored[0]!, NOW + 9 * 60_000)).toEqual({
      processed: false,
      outcomes: {},
    });
    expect(
      await t.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM webhook_events WHERE processed_at IS NULL OR payload IS NOT NULL',
      ),
    ).toEqual([{ n: 0 }]);

    const rows = await t.db.query<{
      status: string;
      delivered_at: Date | null;
      read_at: Date | null;
      error_code: string | null;
    }>('SELECT status, delivered_at, read_at, error_code FROM deliveries WHERE id = ANY($1) ORDER BY id', [
      ids,
    ]);
    expect(rows).toEqual([
      { status: 'read', delivered_at: at(1), read_at: at(5), error_code: null },
      // Delivered first: a later "failed" does not take it back (the error is kept).
      { status: 'delivered', delivered_at: at(3), read_at: null, error_code: '131026' },
      { status: 'read', delivered_at: at(6), read_at: at(6), error_code: null },
    ]);
    const events = await t.db.query<{ type: string; delivery: number }>(
      `SELECT type, (data->>'deliveryId')::int AS delivery FROM event_outbox WHERE type LIKE 'delivery.%' ORDER BY seq`,
    );
    expect(events).toEqual([
      { type: 'delivery.delivered', delivery: ids[0] },
      { type: 'delivery.delivered', delivery: ids[1] },
      { type: 'delivery.read', delivery: ids[0] },
      { type: 'delivery.read', delivery: ids[2] },
    ]);
  });

  it("writes a row once per page with its state and Meta's pricing, and not at all when neither changes", async () => {
    // Every row version a statement writes, by delivery and transaction.
    await t.db.exec(`
      CREATE TABLE row_writes (id bigint, tx xid8 DEFAULT pg_current_xact_id());
      CREATE FUNCTION note_row_write() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO row_writes (id) VALUES (NEW.id); RETURN NULL; END $$;
      CREATE TRIGGER note_row_write AFTER UPDATE ON deliveries FOR EACH ROW EXECUTE FUNCTION note_row_write();`);
    const d2 = await sentDeliveries('d2', 'WQ');
    const utility: StatusPricing = { billable: true, model: 'PMP', category: 'utility', type: 'regular' };
    const marketing: StatusPricing = { ...utility, category: 'marketing' };
    const status = (n: number, s: string, minutes: number, pricing?: StatusPricing): StatusItem => ({
      kind: 'status',
      wamid: `wamid.WQ${n}`,
      status: s,
      at: at(minutes).getTime(),
      callbackData: undefined,
      error: undefined,
      userId: undefined,
      pricing,
    });
    const writes = async () =>
      (
        await t.db.query<{ id: number; n: number }>(
          `SELECT id::int AS id, count(*)::int AS n FROM row_writes GROUP BY id, tx ORDER BY id`,
        )
      ).map((r) => [d2.indexOf(r.id) + 1, r.n]);

    // A new state and a first pricing (given twice) in one version of each row.
    await settleStatuses(
      t.db,
      [
        status(1, 'delivered', 2, utility),
        status(2, 'delivered', 2, utility),
        status(2, 'delivered', 2, utility),
      ],
      NOW,
    );
    expect(await writes()).toEqual([
      [1, 1],
      [2, 1],
    ]);
    await t.db.exec('TRUNCATE row_writes');
    // 1: a repeat with the same pricing writes nothing; 2: a late "sent" that re-prices it writes
    // the pricing alone (still delivered); 3: read, without a pricing, keeps none.
    await settleStatuses(
      t.db,
      [status(1, 'delivered', 2, utility), status(2, 'sent', 3, marketing), status(3, 'read', 4)],
      NOW,
    );
    expect(await writes()).toEqual([
      [2, 1],
      [3, 1],
    ]);
    expect(
      await t.db.query(
        'SELECT status, pricing_category, pricing_calling_code FROM deliveries WHERE id = ANY($1) ORDER BY id',
        [d2],
      ),
    ).toEqual([
      { status: 'delivered', pricing_category: 'utility', pricing_calling_code: '33' },
      { status: 'delivered', pricing_category: 'marketing', pricing_calling_code: '33' },
      { status: 'read', pricing_category: null, pricing_calling_code: null },
    ]);
    // The priced counts equal the priced deliveries.
    expect(
      await t.db.query(
        `SELECT category, sum(n)::int AS n FROM whatsapp_pricing_counts WHERE campaign_id = 'wp' AND step_id = 'd2'
          GROUP BY 1 HAVING sum(n) <> 0 ORDER BY 1`,
      ),
    ).toEqual([
      { category: 'marketing', n: 1 },
      { category: 'utility', n: 1 },
    ]);
  });

  it('drains every event waiting in one job, a page of 50 at a time (serve queues one job per batch)', async () => {
    const d3 = await sentDeliveries('d3', 'WD');
    const body = (i: number) =>
      JSON.stringify(
        webhookPayload([
          {
            id: 'waba',
            changes: [
              statusesChange(meta, [
                {
                  id: `wamid.WD${(i % 3) + 1}`,
                  status: 'delivered',
                  recipientId: `3362${String(301 + (i % 3)).padStart(7, '0')}`,
                  at: at(2),
                },
              ]),
            ],
          },
        ]),
      );
    const stored: number[] = [];
    for (let i = 0; i < 120; i++)
      stored.push(
        (await storeEvent(t.db, { digest: `drain-${i}`, fields: ['messages'], rawJson: body(i), now: at(7) }))
          .id,
      );
    const deps = {
      db: t.db,
      subscriptions: testServices(t.config, t.db).subscriptions,
      replier: undefined,
      logger: createLogger({ logLevel: 'silent' }),
    };
    // The batch's job names its newest event; it takes the 119 others too.
    expect(await processWebhookEvent(deps, stored.at(-1)!, NOW + 8 * 60_000)).toEqual({
      processed: true,
      outcomes: { 'status:applied': 3, 'status:unchanged': 117 },
    });
    // Three pages (50, 50, 20), each its own transaction.
    expect(
      await t.db.query<{ pages: number; waiting: number }>(
        `SELECT count(DISTINCT xmin::text)::int AS pages, count(*) FILTER (WHERE processed_at IS NULL)::int AS waiting
           FROM webhook_events WHERE id = ANY($1)`,
        [stored],
      ),
    ).toEqual([{ pages: 3, waiting: 0 }]);
    expect(await t.db.query('SELECT status FROM deliveries WHERE id = ANY($1) ORDER BY id', [d3])).toEqual([
      { status: 'delivered' },
      { status: 'delivered' },
      { status: 'delivered' },
    ]);
  });
});
