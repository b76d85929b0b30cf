// Console page times at size (`node bench/console.ts`): a database of its own with 1,000,000
// subscribers (40 zones, WhatsApp for all, email for half), 50 campaigns (10 running, 40
// drafts) and 1,000,000 deliveries of the campaign looked at, seeded with generate_series in SQL.
// Then each console page and each JSON route its live parts poll is requested through the real
// server (Fastify inject, signed in with ADMIN_TOKEN): the median and worst of 5 runs.
//
//   node bench/console.ts [--subscribers 1000000] [--campaigns 50] [--keep]
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { findCampaign } from '../src/campaigns/campaign.repository.ts';
import { createCampaignService } from '../src/campaigns/campaign.service.ts';
import { planCost } from '../src/campaigns/cost-estimate.ts';
import { parsePriceTable } from '../src/campaigns/whatsapp-prices.ts';
import { parseConfig } from '../src/config/config.ts';
import { buildServer } from '../src/http/server.ts';
import { createServices } from '../src/roles/services.ts';
import { ManualClock } from '../src/shared/clock.ts';
import { createLogger } from '../src/shared/logger.ts';
import { databaseName, migrate, withDatabase } from '../src/store/migrate.ts';
import { openDb } from '../src/store/pool.ts';
import { insertChannels } from './support.ts';

const { values: opts } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '1000000' },
    campaigns: { type: 'string', default: '50' },
    keep: { type: 'boolean', default: false },
  },
});
const N = Number(opts.subscribers);
const CAMPAIGNS = Number(opts.campaigns);
const SERVER = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE_URL = withDatabase(SERVER, `lastcall_bench_console_${randomBytes(3).toString('hex')}`);
const NOW = Date.parse('2031-03-10T09:00:00Z');
const PRICES = parsePriceTable('currency: EUR\nprices:\n  "33": { utility: 0.0305 }\n', 'bench');
const DAY = 86_400_000;
const ZONES = [
  'Europe/Paris',
  'Europe/London',
  'Europe/Berlin',
  'Europe/Madrid',
  'Europe/Rome',
  'Europe/Lisbon',
  'Europe/Athens',
  'Europe/Helsinki',
  'Europe/Moscow',
  'Africa/Casablanca',
  'Africa/Dakar',
  'Africa/Abidjan',
  'Africa/Lagos',
  'Africa/Nairobi',
  'Africa/Johannesburg',
  'Asia/Dubai',
  'Asia/Karachi',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Asia/Dhaka',
  'Asia/Bangkok',
  'Asia/Singapore',
  'Asia/Shanghai',
  'Asia/Tokyo',
  'Australia/Adelaide',
  'Australia/Sydney',
  'Pacific/Auckland',
  'Pacific/Chatham',
  'Pacific/Honolulu',
  'America/Anchorage',
  'America/Los_Angeles',
  'America/Denver',
  'America/Chicago',
  'America/New_York',
  'America/Montreal',
  'America/Halifax',
  'America/St_Johns',
  'America/Sao_Paulo',
  'America/Bogota',
  'UTC',
];
const log = (line: string) => console.log(`· ${line}`);

async function timed<T>(what: string, run: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const result = await run();
  log(`${what}: ${((performance.now() - start) / 1000).toFixed(1)} s`);
  return result;
}

async function campaignFile(id: string, deadline: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lastcall-bench-console-'));
  const file = join(dir, `${id}.yaml`);
  await writeFile(
    file,
    [
      `id: ${id}`,
      `name: "Bench ${id}"`,
      `deadline: "${new Date(deadline).toISOString()}"`,
      'sendAt: "10:00"',
      'window: { start: "09:00", end: "20:00" }',
      'catchUp: { minGap: PT24H }',
      'steps:',
      '  - { id: d7, before: P7D, channels: [whatsapp, email], template: first-notice }',
      '  - { id: d1, before: P1D, channels: [whatsapp, email], template: one-week }',
      '  - { id: h6, before: PT6H, channels: [whatsapp], template: first-notice }',
      '',
    ].join('\n'),
  );
  return file;
}

async function main(): Promise<void> {
  console.log(
    `Console benchmark: ${N} subscribers, ${CAMPAIGNS} campaigns, ${cpus().length} CPUs, node ${process.version}`,
  );
  await migrate({ databaseUrl: DATABASE_URL });
  const db = openDb({ databaseUrl: DATABASE_URL }, { max: 10 });
  try {
    await timed('seed subscribers and channels (generate_series)', async () => {
      await db.exec(
        `INSERT INTO subscribers (id, name, phone, email, locale, timezone, attributes)
         SELECT 's' || lpad(g::text, 7, '0'), 'Subscriber ' || g, '+3361' || lpad(g::text, 7, '0'),
                CASE WHEN g % 2 = 0 THEN 's' || g || '@example.test' END,
                CASE WHEN g % 2 = 0 THEN 'fr' ELSE 'en' END, ($2::text[])[1 + g % 40],
                jsonb_build_object('assistant', (ARRAY['chatgpt', 'copilot', 'both'])[1 + g % 3])
           FROM generate_series(1, $1::int) g`,
        [N, ZONES],
      );
      await insertChannels(
        db,
        `INSERT INTO subscriber_channels (subscriber_id, channel, state, consent_at)
         SELECT id, 'whatsapp', 'active', $1::timestamptz FROM subscribers
         UNION ALL SELECT id, 'email', 'active', $1::timestamptz FROM subscribers WHERE email IS NOT NULL`,
        [new Date(NOW - DAY)],
      );
    });
    const campaigns = createCampaignService({ db });
    await timed(`create ${CAMPAIGNS} campaigns, start 10`, async () => {
      for (let i = 0; i < CAMPAIGNS; i++) {
        const id = `c${String(i).padStart(2, '0')}`;
        await campaigns.create(await campaignFile(id, NOW + (10 + i) * DAY), NOW);
        if (i < 10) await campaigns.start(id, NOW);
      }
    });
    await timed('seed 1 delivery per subscriber of c00 (mixed statuses, last hour)', async () => {
      // Step d7 of c00 went out in the last hour: its slots are done, its deliveries exist.
      await db.exec(`UPDATE slots SET state = 'done' WHERE campaign_id = 'c00' AND step_id = 'd7'`);
      await db.exec(
        `INSERT INTO deliveries (campaign_id, step_id, subscriber_id, channel, kind, status, error_code, queued_at, sent_at)
         SELECT 'c00', 'd7', s.id, 'whatsapp', 'scheduled',
                (ARRAY['sent', 'delivered', 'read', 'read', 'failed', 'queued'])[1 + (row_number() OVER ()) % 6],
                CASE WHEN (row_number() OVER ()) % 6 = 4 THEN '131026' END,
                $1::timestamptz, $1::timestamptz + ((row_number() OVER ()) % 3600) * interval '1 second'
           FROM subscribers s`,
        [new Date(NOW - 3_600_000)],
      );
    });
    await timed(
      'price the messages c00 sent (utility, billable; counters as the webhook writes them)',
      async () => {
        await db.exec(
          `UPDATE deliveries SET pricing_billable = true, pricing_model = 'PMP', pricing_category = 'utility',
                pricing_type = 'regular', pricing_calling_code = '33'
          WHERE campaign_id = 'c00' AND status IN ('sent', 'delivered', 'read')`,
        );
        await db.exec(
          `INSERT INTO whatsapp_pricing_counts (campaign_id, step_id, category, calling_code, billable, shard, n)
         SELECT campaign_id, step_id, pricing_category, pricing_calling_code, pricing_billable, 0, count(*)
           FROM deliveries WHERE campaign_id = 'c00' AND pricing_category IS NOT NULL GROUP BY 1, 2, 3, 4, 5`,
        );
      },
    );
    await timed('ANALYZE', () => db.exec('ANALYZE'));
    // What `campaign start` adds with a price table: the plan's WhatsApp cost, per step and
    // calling code (one scan of the eligible subscribers, grouped).
    const c20 = await findCampaign(db, 'c20');
    const cost = await timed('estimate the WhatsApp cost of a draft plan (1M people on WhatsApp)', () =>
      planCost(db, c20!, NOW, PRICES),
    );
    log(`  ${cost.messages} WhatsApp messages, ${cost.currency} ${cost.estimated}`);

    const config = parseConfig({ DATABASE_URL, LASTCALL_ENV: 'development', LOG_LEVEL: 'silent' }, 'serve');
    const clock = new ManualClock(NOW);
    const services = createServices({
      config,
      db,
      clock,
      logger: createLogger(config),
      prices: PRICES,
    });
    const app = await buildServer({ config, db, clock, services });
    await app.ready();
    const signIn = await app.inject({
      method: 'POST',
      url: '/console/sign-in',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `key=${encodeURIComponent(config.adminToken!)}`,
    });
    const cookie = `lastcall_console=${signIn.cookies.find((c) => c.name === 'lastcall_console')?.value}`;
    const pages = [
      ['campaigns list', '/console/campaigns'],
      ['campaign page (funnel)', '/console/campaigns/c00'],
      ['  live: funnel JSON (polled)', '/api/v1/campaigns/c00/live-stats'],
      ["  the API's stats (not polled)", '/api/v1/campaigns/c00/stats'],
      ['  live: sends per minute JSON', '/api/v1/campaigns/c00/activity'],
      ['  plan per hour by zone JSON', '/api/v1/campaigns/c00/plan-hours'],
      ['  plan of a draft (planner)', '/api/v1/campaigns/c20/plan-hours'],
      ['subscribers, first page', '/console/subscribers'],
      ['subscribers, a page deep in', '/console/subscribers?after=s0900000'],
      ['search by phone', '/console/subscribers?q=%2B33610765432'],
      ['profile', '/console/subscribers/s0765432'],
    ] as const;
    console.log('\npage                              median     worst   status');
    for (const [name, url] of pages) {
      const times: number[] = [];
      let status = 0;
      for (let i = 0; i < 5; i++) {
        const start = performance.now();
        const res = await app.inject({ url, headers: { cookie } });
        times.push(performance.now() - start);
        status = res.statusCode;
      }
      times.sort((a, b) => a - b);
      console.log(
        `${name.padEnd(32)} ${times[2]!.toFixed(0).padStart(6)} ms ${times[4]!.toFixed(0).padStart(6)} ms   ${status}`,
      );
    }
    // The priced messages per step and category: from their counters (what stats runs), and by
    // counting the deliveries (what it ran before the counters), for the ratio.
    const pricing = [
      [
        'WhatsApp pricing from counters',
        `SELECT step_id, category, calling_code, billable, sum(n)::int FROM whatsapp_pricing_counts WHERE campaign_id = 'c00' GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0`,
      ],
      [
        '  by counting deliveries (before)',
        `SELECT step_id, pricing_category, count(*) FILTER (WHERE pricing_billable)::int, count(*) FILTER (WHERE NOT pricing_billable)::int FROM deliveries WHERE campaign_id = 'c00' AND channel = 'whatsapp' AND pricing_category IS NOT NULL GROUP BY 1, 2`,
      ],
    ] as const;
    const medians: number[] = [];
    for (const [name, query] of pricing) {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const start = performance.now();
        await db.query(query);
        times.push(performance.now() - start);
      }
      times.sort((a, b) => a - b);
      medians.push(times[2]!);
      console.log(
        `${name.padEnd(32)} ${times[2]!.toFixed(1).padStart(6)} ms ${times[4]!.toFixed(1).padStart(6)} ms`,
      );
    }
    console.log(`  counters are ${(medians[1]! / medians[0]!).toFixed(0)}× faster`);
    await app.close();
  } finally {
    await db.close();
    if (opts.keep) log(`kept database ${databaseName(DATABASE_URL)}`);
    else {
      const admin = openDb({ databaseUrl: SERVER });
      await admin.exec(`DROP DATABASE IF EXISTS "${databaseName(DATABASE_URL)}" WITH (FORCE)`);
      await admin.close();
    }
  }
}

await main();
