// WhatsApp's estimated cost through the API (docs/whatsapp.md, "Pricing"), with the operator's
// price table: the start answer's estimate of the whole plan and the stats' cost of the priced
// messages, each answer checked against the OpenAPI document.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePriceTable } from '../src/campaigns/whatsapp-prices.ts';
import { writeDeliveryStates } from '../src/inbound/webhook.repository.ts';
import { type Api, CAMPAIGN, startApi } from './support/api.ts';
import { seedSubscriber } from './support/campaign.ts';

let api: Api;
beforeAll(async () => {
  api = await startApi({
    prices: parsePriceTable(
      'currency: EUR\nprices:\n  "33": { utility: 0.02 }\n  default: { utility: 0.01 }\n',
      'p.yaml',
    ),
  });
  // Two French numbers and an American one, on WhatsApp and email.
  for (const [id, phone] of [
    ['fr1', '+33612000001'],
    ['fr2', '+33612000002'],
    ['us1', '+14155550100'],
  ] as const)
    await seedSubscriber(api.db, { id, phone, zone: 'Europe/Paris', channels: ['whatsapp', 'email'] });
});
afterAll(async () => api?.close());

describe('the estimated WhatsApp cost in the API', () => {
  it('POST …/start answers the plan at the operator prices', async () => {
    expect((await api.call('PUT', '/api/v1/campaigns/api-test', { body: CAMPAIGN })).status).toBe(201);
    const started = await api.call('POST', '/api/v1/campaigns/api-test/start');
    expect(started.status).toBe(200);
    // Per step: 2 × 0.02 (33) + 0.01 (1: default); both templates are filed as UTILITY.
    expect(started.json.whatsappCost).toEqual({
      currency: 'EUR',
      estimated: 0.1,
      messages: 6,
      unpriced: 0,
      steps: [
        {
          step: 'd7',
          category: 'utility',
          categoryFrom: 'message file',
          messages: 3,
          estimatedCost: 0.05,
          unpriced: 0,
        },
        {
          step: 'd1',
          category: 'utility',
          categoryFrom: 'message file',
          messages: 3,
          estimatedCost: 0.05,
          unpriced: 0,
        },
      ],
    });
  });

  it('GET …/stats prices the billable messages next to their counts', async () => {
    const rows = await api.db.query<{ id: string; subscriber_id: string }>(
      `INSERT INTO deliveries (campaign_id, step_id, subscriber_id, channel, kind, status)
       SELECT 'api-test', 'd7', id, 'whatsapp', 'scheduled', 'sent' FROM subscribers ORDER BY id
       RETURNING id, subscriber_id`,
    );
    const codes: Record<string, string> = { fr1: '33', fr2: '33', us1: '1' };
    // As a page of statuses stores Meta's pricing of the messages (webhook.service.ts).
    await writeDeliveryStates(
      api.db,
      rows.map((r) => ({
        id: Number(r.id),
        pricing: {
          billable: true,
          model: 'PMP',
          category: 'utility',
          type: 'regular',
          callingCode: codes[r.subscriber_id]!,
        },
      })),
      [],
      new Date(),
    );
    const stats = await api.call('GET', '/api/v1/campaigns/api-test/stats');
    expect(stats.status).toBe(200);
    expect(stats.json.whatsappPricing).toEqual([
      { step: 'd7', category: 'utility', billable: 3, free: 0, estimatedCost: 0.05, unpriced: 0 },
    ]);
    expect(stats.json.whatsappCost).toEqual({ currency: 'EUR', estimated: 0.05, unpriced: 0 });

    // Meta repeats a message's pricing on each status: the same again moves nothing, a new one
    // (a free service message here) moves its row's count and is stored.
    const priced = (r: { id: string; subscriber_id: string }, billable: boolean, type: string) => ({
      id: Number(r.id),
      pricing: { billable, model: 'PMP', category: 'utility', type, callingCode: codes[r.subscriber_id]! },
    });
    await writeDeliveryStates(
      api.db,
      rows.map((r) => priced(r, true, 'regular')),
      [],
      new Date(),
    );
    await writeDeliveryStates(api.db, [priced(rows[0]!, false, 'free_customer_service')], [], new Date());
    const counted = await api.db.query(
      `SELECT category, billable, sum(n)::int AS n FROM whatsapp_pricing_counts WHERE campaign_id = 'api-test'
        GROUP BY 1, 2 HAVING sum(n) <> 0 ORDER BY 2`,
    );
    const stored = await api.db.query(
      `SELECT pricing_category AS category, pricing_billable AS billable, count(*)::int AS n FROM deliveries
        WHERE campaign_id = 'api-test' AND step_id = 'd7' GROUP BY 1, 2 ORDER BY 2`,
    );
    expect(stored).toEqual([
      { category: 'utility', billable: false, n: 1 },
      { category: 'utility', billable: true, n: 2 },
    ]);
    expect(counted).toEqual(stored);
    expect(await api.db.query(`SELECT pricing_type FROM deliveries WHERE id = $1`, [rows[0]!.id])).toEqual([
      { pricing_type: 'free_customer_service' },
    ]);
  });
});
