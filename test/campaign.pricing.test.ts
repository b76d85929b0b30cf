// WhatsApp pricing in campaign stats (docs/whatsapp.md, "Pricing"): the `pricing` of status
// webhooks, settled through the webhook service into real PostgreSQL, counted per step, category
// and recipient calling code, and priced with the operator's table: text, --json and counters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statsJson } from '../src/campaigns/campaign.json.ts';
import { type CampaignService, createCampaignService } from '../src/campaigns/campaign.service.ts';
import { parsePriceTable } from '../src/campaigns/whatsapp-prices.ts';
import { planCostLines } from '../src/cli/commands/campaign-lifecycle.ts';
import { pricingLines } from '../src/cli/commands/campaign-stats.ts';
import { settleStatuses } from '../src/inbound/webhook.service.ts';
import type { StatusItem, StatusPricing } from '../src/inbound/webhook-payload.ts';
import { at, campaignFile, seedSubscriber } from './support/campaign.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';

let t: TestDatabase;
let priced: CampaignService;
let unpriced: CampaignService;
const start = at('2030-01-01T00:00:00Z');
const now = at('2030-01-08T12:00:00Z');

const PRICES = parsePriceTable(
  `currency: EUR
prices:
  "33": { utility: 0.0305, marketing: 0.1 }
  "1": { utility: 0.004 }
  default: { utility: 0.01 }
`,
  'prices.yaml',
);

const utility: StatusPricing = { billable: true, model: 'PMP', category: 'utility', type: 'regular' };
const marketing: StatusPricing = { ...utility, category: 'marketing' };
const service: StatusPricing = {
  billable: false,
  model: 'PMP',
  category: 'service',
  type: 'free_customer_service',
};

const status = (wamid: string, s: string, pricing: StatusPricing | undefined, atIso: string): StatusItem => ({
  kind: 'status',
  wamid,
  status: s,
  at: Date.parse(atIso),
  callbackData: undefined,
  error: undefined,
  userId: undefined,
  pricing,
});

// Recipients: two French, one American, one British (no 44 nor marketing in default), one German
// (default), and one erased before her statuses came (no phone: the default price).
const PEOPLE = [
  ['fr1', '+33612345601'],
  ['fr2', '+33612345602'],
  ['us1', '+14155550123'],
  ['gb1', '+447700900123'],
  ['de1', '+4915123456789'],
  ['fr3', '+33612345603'],
] as const;

beforeAll(async () => {
  t = await createTestDatabase();
  priced = createCampaignService({ db: t.db, prices: PRICES });
  unpriced = createCampaignService({ db: t.db });
  for (const [id, phone] of PEOPLE)
    await seedSubscriber(t.db, { id, phone, zone: 'Europe/Paris', channels: ['whatsapp'] });
  await priced.create(campaignFile('c1'), start);
  await priced.start('c1', start);
  for (const [id] of PEOPLE)
    await t.db.exec(
      `INSERT INTO deliveries (campaign_id, step_id, subscriber_id, channel, kind, status, provider_message_id, sent_at)
       VALUES ('c1', 'd7', $1, 'whatsapp', 'scheduled', 'sent', $2, $3)`,
      [id, `wamid.${id}`, new Date(now)],
    );
  // fr1 again in d1; and a test send, which is never counted.
  await t.db.exec(
    `INSERT INTO deliveries (campaign_id, step_id, subscriber_id, channel, kind, status, provider_message_id, sent_at) VALUES
       ('c1', 'd1', 'fr1', 'whatsapp', 'scheduled', 'sent', 'wamid.fr1.d1', $1),
       ('c1', 'd1', 'fr2', 'whatsapp', 'test', 'sent', 'wamid.test', $1)`,
    [new Date(now)],
  );
  await t.db.exec(`UPDATE deliveries SET subscriber_id = NULL WHERE subscriber_id = 'fr3'`);
  await t.db.exec(`DELETE FROM subscribers WHERE id = 'fr3'`);

  const first = '2030-01-08T12:01:00Z';
  await settleStatuses(
    t.db,
    [
      status('wamid.fr1', 'delivered', utility, first),
      status('wamid.fr2', 'delivered', utility, first),
      status('wamid.us1', 'delivered', utility, first),
      status('wamid.gb1', 'delivered', marketing, first),
      status('wamid.de1', 'delivered', utility, first),
      status('wamid.fr3', 'delivered', utility, first),
      status('wamid.fr1.d1', 'delivered', service, first),
      status('wamid.test', 'delivered', utility, first),
    ],
    now,
  );
  // Later statuses: the same pricing again (counted once), and fr2's re-priced as marketing
  // (moves from utility to marketing).
  const later = '2030-01-08T12:05:00Z';
  await settleStatuses(
    t.db,
    [
      status('wamid.fr1', 'read', utility, later),
      status('wamid.us1', 'read', utility, later),
      status('wamid.fr2', 'read', marketing, later),
    ],
    now,
  );
});
afterAll(() => t.drop());

describe('WhatsApp pricing in campaign stats', () => {
  it('stores each delivery calling code from its phone, and counts without counting deliveries', async () => {
    const rows = await t.db.query<{ id: string; code: string; category: string }>(
      `SELECT coalesce(subscriber_id, '(erased)') AS id, pricing_calling_code AS code, pricing_category AS category
         FROM deliveries WHERE step_id = 'd7' ORDER BY 1`,
    );
    expect(rows).toEqual([
      { id: '(erased)', code: '', category: 'utility' },
      { id: 'de1', code: '49', category: 'utility' },
      { id: 'fr1', code: '33', category: 'utility' },
      { id: 'fr2', code: '33', category: 'marketing' },
      { id: 'gb1', code: '44', category: 'marketing' },
      { id: 'us1', code: '1', category: 'utility' },
    ]);
    // The counters equal a count over the priced deliveries (test sends aside).
    const counters = await t.db.query(
      `SELECT step_id, category, calling_code, billable, sum(n)::int AS n FROM whatsapp_pricing_counts
        GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0 ORDER BY 1, 2, 3, 4`,
    );
    const counted = await t.db.query(
      `SELECT step_id, pricing_category AS category, pricing_calling_code AS calling_code,
              pricing_billable AS billable, count(*)::int AS n
         FROM deliveries WHERE pricing_category IS NOT NULL AND kind <> 'test'
        GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
    );
    expect(counters).toEqual(counted);
    expect(counters).toHaveLength(7);
  });

  it('prices the billable messages per recipient calling code and category', async () => {
    const stats = await priced.stats('c1', now);
    // d7 utility: fr1 0.0305 + us1 0.004 + de1 (default) 0.01 + erased (default) 0.01 = 0.0545.
    // d7 marketing: fr2 0.1; gb1 has no price (no 44, no marketing in default).
    expect(stats.whatsappPricing).toEqual([
      { step: 'd1', category: 'service', billable: 0, free: 1, costMicros: 0, unpriced: 0 },
      { step: 'd7', category: 'marketing', billable: 2, free: 0, costMicros: 100_000, unpriced: 1 },
      { step: 'd7', category: 'utility', billable: 4, free: 0, costMicros: 54_500, unpriced: 0 },
    ]);
    expect(stats.whatsappCost).toEqual({
      currency: 'EUR',
      file: 'prices.yaml',
      micros: 154_500,
      unpriced: 1,
    });
    const json = statsJson(stats);
    expect(json.whatsappPricing).toEqual([
      { step: 'd1', category: 'service', billable: 0, free: 1, estimatedCost: 0, unpriced: 0 },
      { step: 'd7', category: 'marketing', billable: 2, free: 0, estimatedCost: 0.1, unpriced: 1 },
      { step: 'd7', category: 'utility', billable: 4, free: 0, estimatedCost: 0.0545, unpriced: 0 },
    ]);
    expect(json.whatsappCost).toEqual({ currency: 'EUR', estimated: 0.1545, unpriced: 1 });
    expect(pricingLines(stats)).toEqual([
      '  d1 whatsapp priced service: 0 billable, 1 free, estimated EUR 0.00',
      '  d7 whatsapp priced marketing: 2 billable, 0 free, estimated EUR 0.10 (1 with no price in the table)',
      '  d7 whatsapp priced utility: 4 billable, 0 free, estimated EUR 0.0545',
      '  estimated WhatsApp cost: EUR 0.1545 (your prices, config/whatsapp-prices.yaml; 1 billable messages have no price in it)',
    ]);
  });

  it('without a price table: the counts, no cost, and how to add one', async () => {
    const stats = await unpriced.stats('c1', now);
    expect(stats.whatsappCost).toBeNull();
    expect(stats.whatsappPricing).toEqual([
      { step: 'd1', category: 'service', billable: 0, free: 1 },
      { step: 'd7', category: 'marketing', billable: 2, free: 0 },
      { step: 'd7', category: 'utility', billable: 4, free: 0 },
    ]);
    expect(statsJson(stats).whatsappCost).toBeNull();
    expect(pricingLines(stats)).toEqual([
      '  d1 whatsapp priced service: 0 billable, 1 free',
      '  d7 whatsapp priced marketing: 2 billable, 0 free',
      '  d7 whatsapp priced utility: 4 billable, 0 free',
      '  estimated WhatsApp cost: no price table: copy config/whatsapp-prices.example.yaml to config/whatsapp-prices.yaml, put your own prices in it, for an estimated cost (docs/whatsapp.md)',
    ]);
  });
});

describe('the estimated cost of a plan at campaign start', () => {
  it('prices each step: planned messages per calling code × the template category × price', async () => {
    // Meta re-categorised last-day's English template as marketing; the others are as filed.
    await t.db.exec(
      `INSERT INTO template_statuses (name, language, status, category) VALUES
         ('lastcall_ai_assistants_last_day', 'en', 'APPROVED', 'MARKETING')`,
    );
    await priced.create(campaignFile('c2'), start);
    const result = await priced.start('c2', start);
    // Five people on WhatsApp (fr1, fr2: 33; us1: 1; gb1: 44; de1: 49), each planned d7, d1, h6.
    // utility: 33 → 0.0305, 1 → 0.004, 44 and 49 → default 0.01: 2×0.0305 + 0.004 + 2×0.01 = 0.085.
    // marketing: 33 → 0.1, no price elsewhere: 0.2, 3 unpriced.
    expect(result.whatsappCost).toEqual({
      currency: 'EUR',
      estimated: 0.37,
      messages: 15,
      unpriced: 3,
      steps: [
        {
          step: 'd7',
          category: 'utility',
          categoryFrom: 'message file',
          messages: 5,
          estimatedCost: 0.085,
          unpriced: 0,
        },
        {
          step: 'd1',
          category: 'marketing',
          categoryFrom: 'meta',
          messages: 5,
          estimatedCost: 0.2,
          unpriced: 3,
        },
        {
          step: 'h6',
          category: 'utility',
          categoryFrom: 'message file',
          messages: 5,
          estimatedCost: 0.085,
          unpriced: 0,
        },
      ],
    });
    expect(planCostLines(result.whatsappCost)).toEqual([
      'estimated WhatsApp cost of the plan: EUR 0.37 for 15 messages (your prices, config/whatsapp-prices.yaml; 3 messages have no price in it)',
      '  d7: 5 messages, utility (category of the message file, not yet confirmed by Meta), EUR 0.085',
      "  d1: 5 messages, marketing (Meta's category), EUR 0.20, 3 with no price",
      '  h6: 5 messages, utility (category of the message file, not yet confirmed by Meta), EUR 0.085',
    ]);
  });

  it('without a price table: no estimate, and how to add one', async () => {
    await unpriced.create(campaignFile('c3'), start);
    const result = await unpriced.start('c3', start);
    expect(result.whatsappCost).toBeNull();
    expect(planCostLines(result.whatsappCost)).toEqual([
      'estimated WhatsApp cost: no price table: copy config/whatsapp-prices.example.yaml to config/whatsapp-prices.yaml, put your own prices in it, for an estimated cost (docs/whatsapp.md)',
    ]);
    await unpriced.create(
      campaignFile('c4', { steps: ['{ id: e1, before: P1D, channels: [email], template: last-day }'] }),
      start,
    );
    expect((await unpriced.start('c4', start)).whatsappCost).toBeUndefined();
  });
});
