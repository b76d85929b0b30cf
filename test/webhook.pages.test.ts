// WhatsApp statuses settled a page at a time, on a real PostgreSQL: one webhook job takes every
// stored event still waiting (its own first), applies their statuses in the order received, as
// the status rule says, writes each changed delivery once with its events in order, and marks
// the events processed; the jobs of the events it took find nothing left to do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEvent } from '../src/inbound/webhook.repository.ts';
import { processWebhookEvent } from '../src/inbound/webhook.service.ts';
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
  for (const n of [1, 2, 3]) {
    const row = await t.db.one<{ id: number }>(
      `INSERT INTO deliveries (campaign_id, step_id, subscriber_id, channel, kind, status, provider_message_id, sent_at)
       VALUES ('wp', 'd1', $1, 'whatsapp', 'scheduled', 'sent', $2, $3) RETURNING id`,
      [`wp-${n}`, `wamid.WP${n}`, new Date(NOW - 600_000)],
    );
    ids.push(Number(row!.id));
  }
});
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
});
