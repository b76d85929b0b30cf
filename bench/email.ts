// Email dispatch benchmark (`npm run bench:email`): N reminders on the email channel sent by one
// `lastcall work` process (a child process, as in production, with its default settings) to a
// loopback SMTP sink (smtp-server in a process of its own), EMAIL_RATE out of the way, beside the
// ceilings measured in the same run against the same sink:
// 1. nodemailer's pooled SMTP transport as it comes, the same pool size, sending the same
//    messages (rendered by the worker's renderer, given to nodemailer by the same `mailOptions`),
//    200 in flight (the worker's two pages of 100): what the SMTP path allows without claims,
//    pages, gate or outcome writes;
// 2. a raw SMTP client on as many connections (PIPELINING, the bytes nodemailer built for the
//    same messages): what the sink allows, without nodemailer.
// The worker's time runs from the moment its queue is resumed (the pages were queued while it
// was paused, and the worker had started) to the last delivery settled in PostgreSQL. CPU per
// message is read from /proc for the worker and the sink, from process.cpuUsage for the ceilings.
// `--accept-delay-ms` makes the sink answer each message that much later, as a remote relay
// would: loopback has no latency, so only then does the pool size show.
//
//   node bench/email.ts [--emails 5000] [--pool N (EMAIL_POOL_SIZE)] [--accept-delay-ms 0]
//                       [--cpu-prof DIR] [--keep]
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { Redis } from 'ioredis';
import nodemailer from 'nodemailer';
import { createCampaignService } from '../src/campaigns/campaign.service.ts';
import { type Config, parseConfig } from '../src/config/config.ts';
import { type EmailSend, mailOptions } from '../src/delivery/channels/email.ts';
import { claimDueSlots, fanOut } from '../src/delivery/fanout.service.ts';
import { DeliveryRenderer } from '../src/delivery/render.ts';
import type { ClaimedDelivery } from '../src/delivery/send.repository.ts';
import { QUEUES, sendBatchSize } from '../src/queue/catalog.ts';
import { QueueSet } from '../src/queue/connection.ts';
import { createLogger } from '../src/shared/logger.ts';
import { migrate, withDatabase } from '../src/store/migrate.ts';
import { type Db, openDb } from '../src/store/pool.ts';
import { cleanUp, cpuMs, insertChannels, startSmtpSink } from './support.ts';

const { values: opts } = parseArgs({
  options: {
    emails: { type: 'string', default: '5000' },
    /** EMAIL_POOL_SIZE for the worker and the ceilings; unset: the worker's default. */
    pool: { type: 'string' },
    /** The sink answers each message this long after its data (a remote relay); default 0. */
    'accept-delay-ms': { type: 'string', default: '0' },
    /** Write a CPU profile of the worker process into this folder (node --cpu-prof). */
    'cpu-prof': { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const N = Number(opts.emails);
const SERVER = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const TAG = randomBytes(3).toString('hex');
const DATABASE_URL = withDatabase(SERVER, `lastcall_bench_email_${TAG}`);
// Every key of the run starts with `${PREFIX}:` (each queue under its own hash tag).
const PREFIX = `lastcall-bench-email-${TAG}`;
const BIN = join(import.meta.dirname, '..', 'bin', 'lastcall.js');
const MINUTE = 60_000;
const IN_FLIGHT = 200;
const log = (line: string) => console.log(`· ${line}`);
const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();
const perSecond = (n: number, ms: number) => Math.round((n / ms) * 1000);

/** One way of sending the N emails: wall time, the sender's CPU (this process's for the ceilings,
 *  the worker's for Lastcall) and the sink's. */
interface Phase {
  readonly sent: number;
  readonly ms: number;
  readonly cpuMs?: number;
  readonly sinkCpuMs: number;
}

/** Times a ceiling that runs in this process. */
async function measured(sinkPid: number, run: () => Promise<void>): Promise<Phase> {
  const [cpu, sink] = [process.cpuUsage(), await cpuMs(sinkPid)];
  const t = performance.now();
  await run();
  const ms = performance.now() - t;
  const { user, system } = process.cpuUsage(cpu);
  return { sent: N, ms, cpuMs: (user + system) / 1000, sinkCpuMs: (await cpuMs(sinkPid)) - sink };
}

async function main(): Promise<void> {
  const before = uptime();
  console.log(`Email dispatch benchmark: ${N} emails; ${cpus().length} CPUs, node ${process.version}`);
  console.log(`uptime before: ${before}`);
  await migrate({ databaseUrl: DATABASE_URL });
  const db = openDb({ databaseUrl: DATABASE_URL });
  const redis = new Redis(REDIS_URL);
  const sink = await startSmtpSink({ acceptDelayMs: Number(opts['accept-delay-ms']) });
  const env: Record<string, string> = {
    DATABASE_URL,
    REDIS_URL,
    QUEUE_PREFIX: PREFIX,
    LASTCALL_ENV: 'development',
    LOG_LEVEL: 'info',
    PUBLIC_URL: 'https://lastcall.example.org',
    SMTP_URL: sink.url,
    MAIL_FROM: 'Lastcall <rappels@lastcall.example.org>',
    EMAIL_RATE: '1000000',
    ...(opts.pool ? { EMAIL_POOL_SIZE: opts.pool } : {}),
  };
  const config = parseConfig(env, 'work');
  const pool = config.email!.poolSize;
  const rows: string[][] = [];
  const row = (what: string, r: Phase, worker?: Phase) =>
    rows.push([
      what,
      String(perSecond(r.sent, r.ms)),
      r.cpuMs === undefined ? '' : (r.cpuMs / N).toFixed(2),
      (r.sinkCpuMs / N).toFixed(2),
      worker ? (r.ms / worker.ms).toFixed(2) : '',
    ]);
  try {
    const worker = await benchWorker(db, config, env, sink.pid);
    row(
      `one \`lastcall work\`, EMAIL_POOL_SIZE ${pool}, pages of ${sendBatchSize(config.rates.email)}`,
      worker,
    );
    const messages = await renderAll(config);
    const viaPool = await measured(sink.pid, () => nodemailerPool(sink.url, pool, messages));
    log(`nodemailer pool of ${pool}: ${N} emails in ${(viaPool.ms / 1000).toFixed(1)} s`);
    row(`nodemailer pool of ${pool}, ${IN_FLIGHT} in flight`, viaPool, worker);
    const compiled = await compileAll(messages);
    const raw = await measured(sink.pid, () => rawSmtp(sink.url, pool, compiled));
    log(`raw SMTP client, ${pool} connections: ${N} emails in ${(raw.ms / 1000).toFixed(1)} s`);
    row(`raw SMTP client, ${pool} connections, pipelined`, raw, worker);
  } finally {
    sink.stop();
    await cleanUp({
      redis,
      prefix: PREFIX,
      db,
      server: SERVER,
      databaseUrl: DATABASE_URL,
      keep: opts.keep === true,
    });
  }
  const table = new Table({
    head: ['email dispatch to the sink', 'msg/s', 'sender CPU ms/msg', 'sink CPU ms/msg', 'Lastcall ÷ this'],
    style: { head: [], border: [] },
  });
  table.push(...rows);
  console.log(table.toString());
  console.log(`uptime before: ${before}`);
  console.log(`uptime after:  ${uptime()}`);
}

/** N subscribers with active email consent, a campaign with one email step, its slot fanned out
 *  while the queue is paused; then one worker, timed from the queue's resume to the last `sent`. */
async function benchWorker(
  db: Db,
  config: Config,
  env: Record<string, string>,
  sinkPid: number,
): Promise<Phase> {
  log(`seeding ${N} subscribers`);
  await db.exec(
    `INSERT INTO subscribers (id, name, email, locale, timezone, attributes)
     SELECT 'e' || lpad(i::text, 8, '0'), 'Bench ' || i, 'bench' || i || '@example.test',
            CASE WHEN i % 2 = 0 THEN 'fr' ELSE 'en' END, 'Europe/Paris', '{"assistant": "both"}'
       FROM generate_series(1, $1::int) AS i`,
    [N],
  );
  await insertChannels(
    db,
    `INSERT INTO subscriber_channels (subscriber_id, channel, state, consent_at)
     SELECT id, 'email', 'active', now() - interval '1 day' FROM subscribers`,
  );
  await db.exec('ANALYZE subscribers; ANALYZE subscriber_channels');
  const now = Date.now();
  const dir = await mkdtemp(join(tmpdir(), 'lastcall-bench-email-'));
  const file = join(dir, 'bench.yaml');
  await writeFile(
    file,
    `id: bench\nname: "Benchmark"\ndeadline: "${new Date(now + 60 * MINUTE).toISOString()}"\n` +
      'window: { start: "00:00", end: "23:59" }\n' +
      'steps:\n  - { id: s1, before: PT50M, channels: [email], template: first-notice }\n',
  );
  const campaigns = createCampaignService({ db });
  await campaigns.create(file, now);
  await campaigns.start('bench', now);
  await rm(dir, { recursive: true, force: true });

  const queues = new QueueSet(config);
  const queue = queues.get(QUEUES.email);
  await queue.pause();
  const due = now + 11 * MINUTE;
  await claimDueSlots({ db }, due);
  const slot = await db.one<{ id: number }>(`SELECT id FROM slots WHERE campaign_id = 'bench'`);
  const logger = createLogger({ logLevel: 'silent' });
  const batchSize = () => sendBatchSize(config.rates.email);
  const fanned = await fanOut({ db, queues, logger, batchSize }, slot!.id, due);
  if (fanned.status === 'database-unavailable') throw new Error('PostgreSQL became unreachable');
  log(`fan-out: ${fanned.queued} deliveries in ${fanned.pages} pages, queue paused`);

  const profile = opts['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${opts['cpu-prof']}`] : [];
  const child = spawn(process.execPath, [...profile, BIN, 'work'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await workerStarted(child);
    const [cpu, sink] = [await cpuMs(child.pid!), await cpuMs(sinkPid)];
    const t = performance.now();
    await queue.resume();
    let settled = { sent: 0, done: 0 };
    while (settled.done < N) {
      await new Promise((r) => setTimeout(r, 50));
      settled = (await db.one<{ sent: number; done: number }>(
        `SELECT (count(*) FILTER (WHERE status = 'sent'))::int AS sent,
                (count(*) FILTER (WHERE status NOT IN ('queued', 'sending', 'retrying')))::int AS done
           FROM deliveries`,
      ))!;
    }
    const ms = performance.now() - t;
    const phase = {
      sent: settled.sent,
      ms,
      cpuMs: (await cpuMs(child.pid!)) - cpu,
      sinkCpuMs: (await cpuMs(sinkPid)) - sink,
    };
    log(`worker: ${settled.sent} of ${N} sent in ${(ms / 1000).toFixed(1)} s`);
    return phase;
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
    await queues.close();
  }
}

/** Resolves when the worker logs that it is sending; its other lines are read and dropped. */
async function workerStarted(child: ChildProcess): Promise<void> {
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`lastcall work exited (${code})`)));
    lines.on('line', (line) => {
      if (line.includes('working: sending on email')) resolve();
    });
  });
}

/** The messages the worker sent, rendered again by its renderer (outside any timing). */
async function renderAll(config: Config): Promise<EmailSend[]> {
  const renderer = new DeliveryRenderer({
    publicUrl: config.publicUrl,
    secretKey: config.secretKey!,
    mailFrom: config.email!.from,
  });
  const now = Date.now();
  const messages: EmailSend[] = [];
  for (let i = 1; i <= N; i++) {
    const d: ClaimedDelivery = {
      id: i,
      campaignId: 'bench',
      stepId: 's1',
      channel: 'email',
      kind: 'scheduled',
      attempt: 1,
      campaign: {
        name: 'Benchmark',
        state: 'running',
        deadline: now + 45 * MINUTE,
        messagesDir: null,
        template: 'first-notice',
      },
      subscriber: {
        id: `e${String(i).padStart(8, '0')}`,
        name: `Bench ${i}`,
        phone: null,
        email: `bench${i}@example.test`,
        locale: i % 2 === 0 ? 'fr' : 'en',
        timezone: 'Europe/Paris',
        attributes: { assistant: 'both' },
        done: false,
        channelState: 'active',
      },
    };
    const rendered = await renderer.render(d as never, 'first-notice', now);
    if (rendered.channel === 'email') messages.push(rendered.message);
  }
  return messages;
}

/** Ceiling 1: the same messages through nodemailer's pool straight to the sink. */
async function nodemailerPool(url: string, pool: number, messages: readonly EmailSend[]): Promise<void> {
  const transport = nodemailer.createTransport({ pool: true, url, maxConnections: pool });
  await window(messages.length, async (i) => {
    await transport.sendMail(mailOptions(messages[i]!, new Date()));
  });
  transport.close();
}

/** The bytes nodemailer writes for each message (its stream transport: same headers, ics). */
async function compileAll(
  messages: readonly EmailSend[],
): Promise<{ from: string; to: string; data: Buffer }[]> {
  const stream = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  const out: { from: string; to: string; data: Buffer }[] = [];
  for (const m of messages) {
    const info = await stream.sendMail(mailOptions(m, new Date()));
    // Dot-stuffing (RFC 5321 4.5.2), as an SMTP client does on the way out.
    const data = Buffer.from((info.message as Buffer).toString('binary').replace(/^\./gm, '..'), 'binary');
    out.push({ from: info.envelope.from as string, to: (info.envelope.to as string[])[0]!, data });
  }
  return out;
}

/** Ceiling 2: a bare SMTP client, `connections` sockets, MAIL/RCPT/DATA pipelined (two round
 *  trips a message), each socket taking the next message when its last is accepted. */
async function rawSmtp(
  url: string,
  connections: number,
  messages: readonly { from: string; to: string; data: Buffer }[],
): Promise<void> {
  const { hostname, port } = new URL(url);
  let next = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      const socket = connect(Number(port), hostname);
      socket.setNoDelay(true);
      const replies = replyReader(socket);
      await replies(1);
      socket.write('EHLO bench.example.test\r\n');
      await replies(1);
      for (let i = next++; i < messages.length; i = next++) {
        const m = messages[i]!;
        socket.write(`MAIL FROM:<${m.from}>\r\nRCPT TO:<${m.to}>\r\nDATA\r\n`);
        await replies(3);
        socket.write(Buffer.concat([m.data, Buffer.from('\r\n.\r\n')]));
        await replies(1);
      }
      socket.end('QUIT\r\n');
    }),
  );
}

/** Waits for `n` complete SMTP replies (a reply ends with a "ddd " line); throws on 4xx/5xx. */
function replyReader(socket: ReturnType<typeof connect>): (n: number) => Promise<void> {
  let buffered = '';
  const complete: string[] = [];
  let waiting: { n: number; resolve: () => void; reject: (e: Error) => void } | undefined;
  const settle = () => {
    if (!waiting || complete.length < waiting.n) return;
    const got = complete.splice(0, waiting.n);
    const w = waiting;
    waiting = undefined;
    const bad = got.find((r) => /^[45]/.test(r));
    if (bad) w.reject(new Error(`SMTP sink answered ${bad}`));
    else w.resolve();
  };
  socket.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('latin1');
    let at = buffered.indexOf('\r\n');
    while (at !== -1) {
      const line = buffered.slice(0, at);
      buffered = buffered.slice(at + 2);
      if (/^\d{3} /.test(line)) complete.push(line);
      at = buffered.indexOf('\r\n');
    }
    settle();
  });
  socket.on('error', (e) => waiting?.reject(e));
  return (n) =>
    new Promise<void>((resolve, reject) => {
      waiting = { n, resolve, reject };
      settle();
    });
}

/** Runs `task(0 … count−1)`, IN_FLIGHT at a time. */
async function window(count: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      for (let i = next++; i < count; i = next++) await task(i);
    }),
  );
}

await main();
