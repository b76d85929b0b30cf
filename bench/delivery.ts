// Delivery benchmarks, one go (`npm run bench:delivery`), each next to raw BullMQ doing the
// same amount of queue work, on a database and a Redis prefix of their own (dropped at the end):
// 1. fan-out: a due slot of N subscribers → delivery rows + send jobs per second, vs a bare
//    `addBulk` of N jobs with the same ids, payloads and options;
//    "subscribers made ready to send per second" (rows inserted and their page jobs queued),
//    whose target is at least 1.0 × the bare addBulk of one job per subscriber;
// 2. dispatch: WhatsApp messages per second from one worker process to the fake Graph API on
//    loopback (run in a process of its own), WHATSAPP_RATE out of the way, vs the ceiling of the
//    machine: plain `fetch` of the same kind of request to the same fake, CONCURRENCY in flight
//    (target: at least 0.40 of it); and vs a no-op BullMQ worker at the same concurrency;
// 3. Redis memory: a started campaign of M subscribers before fan-out (slots live in
//    PostgreSQL) vs M raw delayed jobs, one per subscriber.
//
//   node bench/delivery.ts [--fanout 100000] [--dispatch 20000] [--memory 1000000] [--delayed 1000000]
//                          [--concurrency 50] [--skip-memory] [--only fanout|dispatch|memory] [--keep]
//                          [--fanout-page 5000]
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { createCampaignService } from '../src/campaigns/campaign.service.ts';
import { loadMessageTemplates, SHIPPED_MESSAGES_DIR } from '../src/campaigns/messages.ts';
import { parseConfig, type WorkConfig } from '../src/config/config.ts';
import { claimDueSlots, type FanoutDeps, fanOut } from '../src/delivery/fanout.service.ts';
import { jobFor, QUEUES, sendBatchSize } from '../src/queue/catalog.ts';
import { QueueSet } from '../src/queue/connection.ts';
import { startWorkers } from '../src/roles/work.ts';
import { createLogger } from '../src/shared/logger.ts';
import { databaseName, migrate, withDatabase } from '../src/store/migrate.ts';
import { type Db, openDb } from '../src/store/pool.ts';
import { campaignFile, cleanUp, printTable, seed, startGraphSandbox } from './support.ts';

const { values: opts } = parseArgs({
  options: {
    fanout: { type: 'string', default: '100000' },
    dispatch: { type: 'string', default: '20000' },
    memory: { type: 'string', default: '1000000' },
    delayed: { type: 'string', default: '1000000' },
    concurrency: { type: 'string', default: '50' },
    'skip-memory': { type: 'boolean', default: false },
    /** Run one part only (e.g. `--only fanout`, about 15 s, to iterate on fan-out). */
    only: { type: 'string' },
    /** Subscribers per fan-out page (default: the fan-out's own). */
    'fanout-page': { type: 'string' },
    /** Keep the benchmark database (to look at its plans); its name is printed. */
    keep: { type: 'boolean', default: false },
  },
});
const FANOUT = Number(opts.fanout);
const DISPATCH = Number(opts.dispatch);
const MEMORY = Number(opts.memory);
const DELAYED = Number(opts.delayed);
const CONCURRENCY = Number(opts.concurrency);
const PARTS = ['fanout', 'dispatch', 'memory'] as const;
if (opts.only !== undefined && !PARTS.includes(opts.only as (typeof PARTS)[number]))
  throw new Error(`--only takes one of ${PARTS.join(', ')}`);
const runs = (part: (typeof PARTS)[number]) =>
  opts.only === undefined ? part !== 'memory' || !opts['skip-memory'] : opts.only === part;

const SERVER = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const TAG = randomBytes(3).toString('hex');
const DATABASE_URL = withDatabase(SERVER, `lastcall_bench_${TAG}`);
// Every key of the run starts with `${PREFIX}:` (each queue under its own hash tag).
const PREFIX = `lastcall-bench-${TAG}`;
const MINUTE = 60_000;
const results: string[][] = [];
const seconds = (ms: number) => (ms / 1000).toFixed(1);
const perSecond = (n: number, ms: number) => Math.round((n / ms) * 1000);
const log = (line: string) => console.log(`· ${line}`);

async function main(): Promise<void> {
  console.log(
    `Delivery benchmark: ${cpus().length} CPUs (${cpus()[0]?.model}), load ${loadavg()[0]?.toFixed(1)}, node ${process.version}`,
  );
  await migrate({ databaseUrl: DATABASE_URL });
  if (process.env.BENCH_ASYNC_COMMIT) {
    const admin = openDb({ databaseUrl: SERVER });
    await admin.exec(`ALTER DATABASE "${databaseName(DATABASE_URL)}" SET synchronous_commit = off`);
    await admin.close();
  }
  const db = openDb({ databaseUrl: DATABASE_URL }, { max: 20 });
  const redis = new Redis(REDIS_URL);
  const graph = await startGraphSandbox();
  try {
    const config = parseConfig(
      {
        DATABASE_URL,
        REDIS_URL,
        QUEUE_PREFIX: PREFIX,
        LASTCALL_ENV: 'development',
        LOG_LEVEL: 'silent',
        WHATSAPP_TOKEN: 'TEST_TOKEN',
        WHATSAPP_PHONE_NUMBER_ID: '100000000000001',
        WHATSAPP_APP_SECRET: 'bench',
        WHATSAPP_VERIFY_TOKEN: 'bench',
        WHATSAPP_API_URL: graph.url,
        WHATSAPP_RATE: '1000000',
      },
      'work',
    );
    await benchFanoutAndDispatch(db, redis, config);
    if (runs('memory')) await benchMemory(db, redis, config);
  } finally {
    graph.stop();
    await cleanUp({
      redis,
      prefix: PREFIX,
      db,
      server: SERVER,
      databaseUrl: DATABASE_URL,
      keep: opts.keep === true,
    });
  }
  console.log();
  printTable(['measure', 'Lastcall', 'raw BullMQ', 'ratio'], results);
}

async function benchFanoutAndDispatch(db: Db, redis: Redis, config: WorkConfig): Promise<void> {
  if (!runs('fanout') && !runs('dispatch')) return;
  const now = Date.now();
  log(`seeding ${runs('fanout') ? FANOUT : 0} + ${runs('dispatch') ? DISPATCH : 0} subscribers`);
  if (runs('fanout')) await seed(db, 'f', FANOUT, ['Europe/Paris'], 600_000_000);
  if (runs('dispatch')) await seed(db, 'd', DISPATCH, ['Europe/Berlin'], 700_000_000);
  const campaigns = createCampaignService({ db });
  const deadline = now + 60 * MINUTE;
  await campaigns.create(
    await campaignFile(
      'bench',
      deadline,
      '  - { id: s1, before: PT50M, channels: [whatsapp], template: first-notice }',
    ),
    now,
  );
  await campaigns.start('bench', now);
  const slots = await db.query<{ id: number; zone: string }>(
    `SELECT id, zone FROM slots WHERE campaign_id = 'bench'`,
  );
  const slotOf = (zone: string) => slots.find((s) => s.zone === zone)!.id;

  const queues = new QueueSet(config);
  const logger = createLogger({ logLevel: 'silent' });
  const due = now + 11 * MINUTE;
  await claimDueSlots({ db }, due);
  const batchSize = () => sendBatchSize(config.rates.whatsapp);
  if (runs('fanout'))
    await benchFanout(db, redis, { queues, logger, batchSize }, slotOf('Europe/Paris'), due);
  if (!runs('dispatch')) return await queues.close();

  // 2. Dispatch: DISPATCH messages through one worker (this process) to the loopback fake.
  await fanOut({ db, queues, logger, batchSize }, slotOf('Europe/Berlin'), due);
  await queues.close();
  const workers = await startWorkers(config, { scheduleTick: false, concurrency: { whatsapp: CONCURRENCY } });
  let t = performance.now();
  for (;;) {
    const row = await db.one<{ n: number }>(
      `SELECT count(*)::int AS n FROM deliveries WHERE status = 'sent'`,
    );
    if ((row?.n ?? 0) >= DISPATCH) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const dispatchMs = performance.now() - t;
  await workers.close(10_000);
  log(
    `dispatch: ${DISPATCH} WhatsApp messages in ${seconds(dispatchMs)} s (pages of ${batchSize()}, --concurrency ${CONCURRENCY})`,
  );

  const noop = new Queue('bench-noop', { connection: redis, prefix: PREFIX });
  for (let i = 0; i < DISPATCH; i += 1000) {
    await noop.addBulk(
      Array.from({ length: Math.min(1000, DISPATCH - i) }, (_, j) =>
        jobFor('send', { deliveryId: i + j + 1 }),
      ),
    );
  }
  let done = 0;
  t = performance.now();
  const noopConnection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const noopWorker = new Worker('bench-noop', async () => {}, {
    connection: noopConnection,
    prefix: PREFIX,
    concurrency: CONCURRENCY,
  });
  await new Promise<void>((resolve) =>
    noopWorker.on('completed', () => {
      if (++done === DISPATCH) resolve();
    }),
  );
  const noopMs = performance.now() - t;
  await noopWorker.close();
  noopConnection.disconnect();
  await noop.obliterate({ force: true });
  results.push([
    `dispatch, ${DISPATCH} messages vs no-op jobs at concurrency ${CONCURRENCY} (msg/s)`,
    String(perSecond(DISPATCH, dispatchMs)),
    `${perSecond(DISPATCH, noopMs)} (no-op jobs)`,
    (noopMs / dispatchMs).toFixed(2),
  ]);

  const { ms: fetchMs, failed } = await plainFetch(config, DISPATCH, CONCURRENCY);
  log(
    `plain fetch: ${DISPATCH} requests in ${seconds(fetchMs)} s, ${CONCURRENCY} in flight (${failed} not 2xx)`,
  );
  results.push([
    `dispatch vs plain fetch, ${CONCURRENCY} in flight (msg/s)`,
    String(perSecond(DISPATCH, dispatchMs)),
    `${perSecond(DISPATCH, fetchMs)} (fetch)`,
    (fetchMs / dispatchMs).toFixed(2),
  ]);
}

/** 1. Fan-out of one slot of FANOUT subscribers, as the fan-out worker runs it, then the bare
 *  addBulk of FANOUT jobs beside it. */
async function benchFanout(
  db: Db,
  redis: Redis,
  deps: Omit<FanoutDeps, 'db'>,
  slotId: number,
  due: number,
): Promise<void> {
  let t = performance.now();
  const fanned = await fanOut({ db, ...deps }, slotId, due);
  const fanoutMs = performance.now() - t;
  if (fanned.status === 'database-unavailable')
    throw new Error('PostgreSQL became unreachable during the fan-out');
  log(`fan-out: ${fanned.queued} deliveries + jobs in ${seconds(fanoutMs)} s (${fanned.pages} pages)`);

  const raw = new Queue('bench-raw', { connection: redis, prefix: PREFIX });
  t = performance.now();
  for (let i = 0; i < FANOUT; i += 1000) {
    await raw.addBulk(
      Array.from({ length: Math.min(1000, FANOUT - i) }, (_, j) => jobFor('send', { deliveryId: i + j + 1 })),
    );
  }
  const rawAddMs = performance.now() - t;
  results.push([
    `fan-out, ${FANOUT} subscribers made ready to send (/s)`,
    String(perSecond(FANOUT, fanoutMs)),
    `${perSecond(FANOUT, rawAddMs)} (addBulk, a job each)`,
    (rawAddMs / fanoutMs).toFixed(2),
  ]);
  await raw.obliterate({ force: true });
  await deps.queues.get(QUEUES.whatsapp).obliterate({ force: true });
  await db.exec(
    `UPDATE deliveries SET status = 'skipped', skip_reason = 'benchmark' WHERE status = 'queued'`,
  );
}

/**
 * The machine's ceiling for dispatch: `count` template sends as plain `fetch` POSTs to the same
 * fake, `inFlight` at a time, with a body like the worker's (the shipped first-notice template,
 * its parameters filled, a URL-button token and callback data), and nothing else.
 */
async function plainFetch(
  config: WorkConfig,
  count: number,
  inFlight: number,
): Promise<{ ms: number; failed: number }> {
  const wa = (await loadMessageTemplates(SHIPPED_MESSAGES_DIR, 'fr', 'first-notice')).whatsapp!;
  const url = `${config.graphApi.url}/${config.graphApi.version}/100000000000001/messages`;
  const body = (i: number) =>
    JSON.stringify({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: String(33_700_000_000 + i),
      type: 'template',
      template: {
        name: wa.name,
        language: { code: wa.language },
        components: [
          { type: 'body', parameters: wa.params.map((_, j) => ({ type: 'text', text: `valeur ${j} ${i}` })) },
          {
            type: 'button',
            sub_type: 'url',
            index: '0',
            parameters: [{ type: 'text', text: randomBytes(32).toString('base64url') }],
          },
        ],
      },
      biz_opaque_callback_data: `delivery-${i}`,
    });
  let next = 0;
  let failed = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let i = next++; i < count; i = next++) {
        const res = await fetch(url, {
          method: 'POST',
          headers: { authorization: 'Bearer TEST_TOKEN', 'content-type': 'application/json' },
          body: body(i),
        });
        await res.arrayBuffer();
        if (!res.ok) failed += 1;
      }
    }),
  );
  return { ms: performance.now() - t, failed };
}

async function benchMemory(db: Db, redis: Redis, config: WorkConfig): Promise<void> {
  const zones = Intl.supportedValuesOf('timeZone')
    .filter((z) => z.includes('/'))
    .slice(0, 40);
  log(`seeding ${MEMORY} subscribers over ${zones.length} zones`);
  await seed(db, 'm', MEMORY, zones, 800_000_000, ['memory']);
  const now = Date.now();
  const before = await prefixBytes(redis);
  const usedBefore = await usedMemory(redis);
  const campaigns = createCampaignService({ db });
  await campaigns.create(
    await campaignFile(
      'bench-memory',
      now + 60 * 24 * 60 * MINUTE,
      [
        '  - { id: d30, before: P30D, channels: [whatsapp], template: first-notice }',
        '  - { id: d7, before: P7D, channels: [whatsapp], template: one-week }',
        '  - { id: d1, before: P1D, channels: [whatsapp], template: first-notice }',
        '  - { id: h6, before: PT6H, channels: [whatsapp], template: one-week }',
      ].join('\n'),
      '{ start: "09:00", end: "20:00" }',
      ['memory'],
    ),
    now,
  );
  let t = performance.now();
  const started = await campaigns.start('bench-memory', now);
  const startMs = performance.now() - t;
  // What a worker adds before anything is due: the tick scheduler and its next job.
  const queues = new QueueSet(config);
  await queues.get(QUEUES.tick).upsertJobScheduler('tick', { every: 60_000 }, { name: 'tick', data: {} });
  await queues.close();
  const campaignBytes = (await prefixBytes(redis)) - before;
  const campaignUsed = (await usedMemory(redis)) - usedBefore;
  log(
    `campaign of ${started.reach} subscribers started in ${seconds(startMs)} s: ${started.slotsCreated} slots in PostgreSQL, ` +
      `${campaignBytes} bytes under the prefix in Redis (used_memory ${signed(campaignUsed)})`,
  );

  const delayed = new Queue('bench-delayed', { connection: redis, prefix: PREFIX });
  const usedBeforeJobs = await usedMemory(redis);
  t = performance.now();
  for (let i = 0; i < DELAYED; i += 1000) {
    await delayed.addBulk(
      Array.from({ length: Math.min(1000, DELAYED - i) }, (_, j) =>
        jobFor('send', { deliveryId: i + j + 1 }, { delay: 7 * 24 * 60 * MINUTE }),
      ),
    );
  }
  const addMs = performance.now() - t;
  const jobsUsed = (await usedMemory(redis)) - usedBeforeJobs;
  const jobsBytes = (await prefixBytes(redis)) - before - campaignBytes;
  log(
    `${DELAYED} delayed jobs added in ${seconds(addMs)} s: ${mib(jobsBytes)} under the prefix (used_memory ${signed(jobsUsed)})`,
  );
  await delayed.obliterate({ force: true });
  const scale = MEMORY / DELAYED;
  results.push([
    `Redis for ${MEMORY} subscribers before fan-out`,
    `${campaignBytes} B (${started.slotsCreated} slots in PG)`,
    `${mib(jobsBytes * scale)}${scale === 1 ? '' : ` (×${scale} of ${DELAYED})`}, ${Math.round(jobsBytes / DELAYED)} B/job`,
    campaignBytes > 0 ? `1 : ${Math.round((jobsBytes * scale) / campaignBytes)}` : 'n/a',
  ]);
}

/** Bytes of every key under our prefix (MEMORY USAGE), unaffected by other Redis users. */
async function prefixBytes(redis: Redis): Promise<number> {
  let total = 0;
  for await (const keys of redis.scanStream({ match: `${PREFIX}:*`, count: 1000 }) as AsyncIterable<
    string[]
  >) {
    if (keys.length === 0) continue;
    const pipeline = redis.pipeline();
    for (const key of keys) pipeline.memory('USAGE', key, 'SAMPLES', '0');
    for (const [, bytes] of (await pipeline.exec()) ?? []) total += Number(bytes ?? 0);
  }
  return total;
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const signed = (bytes: number) => `${bytes >= 0 ? '+' : '−'}${mib(Math.abs(bytes))}`;

await main();
