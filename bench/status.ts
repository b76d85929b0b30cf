// Status processing against dispatch, in one run (`npm run bench:status`): `lastcall serve` and
// one `lastcall work` as child processes, the fake Graph API in a process of its own.
// 1. dispatch: N WhatsApp messages fanned out, then sent by the worker: messages per second from
//    the worker's start to the last one `sent`;
// 2. statuses: for each message a signed "delivered", then a signed "read" webhook, 10 statuses
//    per POST, 20 POSTs in flight, to serve's /webhooks/whatsapp: statuses settled per second,
//    from the first POST to the moment every row is `read`.
// Printed: both rates and their ratio, statuses settled per message dispatched per second (the
// target is at least 3: each message brings back sent, delivered and read), and the CPU time
// `serve`, `work` and PostgreSQL's backends spent per 1,000 statuses (a figure a busy shared
// machine moves less than the rates). `--short` (N = 2000) finishes in well under a minute, for
// CI, which prints the ratio without judging it. `--profile DIR`: V8 CPU profiles of serve and
// work in DIR.
//
//   node bench/status.ts [--messages 20000] [--short] [--keep] [--profile DIR]
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { createCampaignService } from '../src/campaigns/campaign.service.ts';
import { parseConfig } from '../src/config/config.ts';
import { claimDueSlots, fanOut } from '../src/delivery/fanout.service.ts';
import { sendBatchSize } from '../src/queue/catalog.ts';
import { QueueSet } from '../src/queue/connection.ts';
import { statusesChange, webhookPayload } from '../src/sandbox/webhook-payloads.ts';
import { encodeWebhook } from '../src/sandbox/webhook-signing.ts';
import { createLogger } from '../src/shared/logger.ts';
import { migrate, withDatabase } from '../src/store/migrate.ts';
import { type Db, openDb } from '../src/store/pool.ts';
import {
  campaignFile,
  cleanUp,
  cpuMs,
  printTable,
  seed,
  spawnLastcall,
  startGraphSandbox,
} from './support.ts';

const { values: opts } = parseArgs({
  options: {
    messages: { type: 'string' },
    short: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    profile: { type: 'string' },
  },
});
const N = Number(opts.messages ?? (opts.short ? 2_000 : 20_000));
const PER_POST = 10;
const IN_FLIGHT = 20;
const SERVER = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const TAG = randomBytes(3).toString('hex');
const DATABASE_URL = withDatabase(SERVER, `lastcall_status_${TAG}`);
const PREFIX = `lastcall-status-${TAG}`;
const APP_SECRET = 'bench-status-app-secret';
const PHONE_NUMBER_ID = '100000000000001';
const MINUTE = 60_000;
const log = (line: string) => console.log(`· ${line}`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const perSecond = (n: number, ms: number) => (n / ms) * 1000;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** CPU time used so far by `serve`, `work` and the PostgreSQL backends of the database (the
 *  pools' connections stay open through a phase, so a difference of two readings is the phase's). */
async function cpuUse(db: Db, servePid: number, workPid: number) {
  const backends = await db.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`,
  );
  const postgres = (await Promise.all(backends.map((b) => cpuMs(b.pid)))).reduce((a, b) => a + b, 0);
  return { serve: await cpuMs(servePid), work: await cpuMs(workPid), postgres };
}

/** Polls `count` until it reaches `target` (or `limitMs` passes); resolves with when it did. */
async function until(what: string, count: () => Promise<number>, target: number, limitMs: number) {
  const end = performance.now() + limitMs;
  for (;;) {
    const n = await count();
    if (n >= target) return performance.now();
    if (performance.now() > end) throw new Error(`${what}: ${n} of ${target} after ${seconds(limitMs)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** How many of the campaign's deliveries are in `status`, from the counters (docs/delivery.md):
 *  polling must not scan the deliveries it is waiting for. */
const countStatus = (db: Db, status: string) => async () =>
  (
    await db.one<{ n: number }>(
      `SELECT coalesce(sum(n), 0)::int AS n FROM delivery_counts WHERE campaign_id = 'status' AND status = $1`,
      [status],
    )
  )?.n ?? 0;

async function main(): Promise<void> {
  console.log(
    `Status benchmark: ${N} messages; ${cpus().length} CPUs, load ${loadavg()[0]?.toFixed(1)}, node ${process.version}`,
  );
  await migrate({ databaseUrl: DATABASE_URL });
  const db = openDb({ databaseUrl: DATABASE_URL }, { max: 4 });
  const redis = new Redis(REDIS_URL);
  const graph = await startGraphSandbox();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    DATABASE_URL,
    REDIS_URL,
    QUEUE_PREFIX: PREFIX,
    LOG_LEVEL: 'warn',
    HTTP_PORT: String(port),
    PUBLIC_URL: base,
    WHATSAPP_TOKEN: 'TEST_TOKEN',
    WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID,
    WHATSAPP_APP_SECRET: APP_SECRET,
    WHATSAPP_VERIFY_TOKEN: 'bench',
    WHATSAPP_API_URL: graph.url,
    WHATSAPP_RATE: '1000000',
    // `--profile DIR`: serve and work write V8 CPU profiles there when they stop.
    ...(opts.profile ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${opts.profile}` } : {}),
  };
  const children: { stop(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> }[] = [];
  try {
    // Fan the step out first: the send pages wait on the queue for the worker.
    const now = Date.now();
    await seed(db, 'st', N, ['Europe/Berlin'], 750_000_000);
    const campaigns = createCampaignService({ db });
    await campaigns.create(
      await campaignFile(
        'status',
        now + 60 * MINUTE,
        '  - { id: s1, before: PT50M, channels: [whatsapp], template: first-notice }',
      ),
      now,
    );
    await campaigns.start('status', now);
    const due = now + 11 * MINUTE;
    await claimDueSlots({ db }, due);
    const [slot] = await db.query<{ id: number }>(`SELECT id FROM slots WHERE campaign_id = 'status'`);
    const config = parseConfig({ ...env, LASTCALL_ENV: 'development' }, 'work');
    const queues = new QueueSet(config);
    const batchSize = () => sendBatchSize(config.rates.whatsapp);
    await fanOut({ db, queues, logger: createLogger({ logLevel: 'silent' }), batchSize }, slot!.id, due);
    await queues.close();
    log(`${N} deliveries queued in pages of ${batchSize()}`);

    // 1. Dispatch, timed from the worker's "working" line.
    // serve logs each request at info: it runs at warn, and is ready once /healthz answers.
    const serve = await spawnLastcall(['serve'], env);
    children.push(serve);
    await until(
      'serve',
      async () => Number((await fetch(`${base}/healthz`).catch(() => null))?.ok ?? 0),
      1,
      MINUTE,
    );
    const work = await spawnLastcall(['work'], { ...env, LOG_LEVEL: 'info' }, 'working');
    children.push(work);
    const dispatchStart = performance.now();
    const dispatchEnd = await until('dispatch', countStatus(db, 'sent'), N, 10 * MINUTE);
    const dispatchMs = dispatchEnd - dispatchStart;
    log(`dispatch: ${N} messages in ${seconds(dispatchMs)}`);

    // 2. Statuses: the signed bodies are made before the clock starts.
    const sent = await db.query<{ id: number; wamid: string; phone: string }>(
      `SELECT d.id, d.provider_message_id AS wamid, s.phone FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
        WHERE d.campaign_id = 'status' ORDER BY d.id`,
    );
    const meta = { phoneNumberId: PHONE_NUMBER_ID, displayPhoneNumber: '15550001111' };
    const bodies = (['delivered', 'read'] as const).flatMap((status, k) => {
      const at = new Date(Date.now() + k * 1000);
      const out: { body: string; signature: string }[] = [];
      for (let i = 0; i < sent.length; i += PER_POST) {
        const statuses = sent.slice(i, i + PER_POST).map((d) => ({
          id: d.wamid,
          status,
          recipientId: d.phone.slice(1),
          at,
          callbackData: String(d.id),
        }));
        out.push(
          encodeWebhook(
            webhookPayload([{ id: 'waba', changes: [statusesChange(meta, statuses)] }]),
            APP_SECRET,
          ),
        );
      }
      return out;
    });
    const url = `${base}/webhooks/whatsapp`;
    let next = 0;
    const cpuBefore = await cpuUse(db, serve.pid, work.pid);
    const statusStart = performance.now();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < bodies.length) {
          const { body, signature } = bodies[next++]!;
          const res = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
            body,
          });
          if (res.status !== 200) throw new Error(`webhook POST answered ${res.status}: ${await res.text()}`);
        }
      }),
    );
    const takenMs = performance.now() - statusStart;
    log(`statuses: ${2 * N} taken by serve in ${seconds(takenMs)} (${bodies.length} POSTs)`);
    const settledEnd = await until('statuses', countStatus(db, 'read'), N, 10 * MINUTE);
    const settledMs = settledEnd - statusStart;
    log(`statuses: every row read after ${seconds(settledMs)}`);
    const cpuAfter = await cpuUse(db, serve.pid, work.pid);
    const perThousand = (k: 'serve' | 'work' | 'postgres') =>
      `${Math.round(((cpuAfter[k] - cpuBefore[k]) / (2 * N)) * 1000)} ms`;

    const dispatchRate = perSecond(N, dispatchMs);
    const statusRate = perSecond(2 * N, settledMs);
    const ratio = statusRate / dispatchRate;
    console.log();
    printTable(
      ['measure', 'value'],
      [
        [`dispatch, ${N} WhatsApp messages, one \`lastcall work\``, `${Math.round(dispatchRate)} msg/s`],
        [
          `statuses taken by \`serve\` (${PER_POST} per POST, ${IN_FLIGHT} in flight)`,
          `${Math.round(perSecond(2 * N, takenMs))} statuses/s`,
        ],
        [`statuses settled (${2 * N}, delivered then read)`, `${Math.round(statusRate)} statuses/s`],
        ['statuses settled per message dispatched (target >= 3)', ratio.toFixed(2)],
        [
          'CPU per 1,000 statuses: serve / work / PostgreSQL',
          `${perThousand('serve')} / ${perThousand('work')} / ${perThousand('postgres')}`,
        ],
      ],
    );
  } finally {
    for (const child of children.reverse()) await child.stop('SIGTERM');
    graph.stop();
    await cleanUp({ redis, prefix: PREFIX, db, server: SERVER, databaseUrl: DATABASE_URL, keep: opts.keep });
  }
}

await main();
