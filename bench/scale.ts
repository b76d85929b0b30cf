// Scale run (`node bench/scale.ts [--subscribers 1000000] [--zones 30] [--workers 2]`): a CSV of
// N subscribers over Z zones and both channels, imported with the public CLI
// (`lastcall subscribers import`, so it runs whichever import the CLI has), a campaign with two
// steps due two and three minutes after it starts, W `lastcall work` processes against the
// loopback fakes (the fake Graph API and an SMTP sink, each in a process of its own), every rate
// out of the way. Timed: import, start, each step's fan-out and dispatch; measured: PostgreSQL
// size per subscriber, Redis memory under the run's prefix (peak of samples), worker RSS (peak).
// Everything it starts is stopped, and its database and keys dropped (unless --keep).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { databaseName, migrate, withDatabase } from '../src/store/migrate.ts';
import { openDb } from '../src/store/pool.ts';
import { deleteKeys, dropDatabase, printTable, rssOf, startGraphSandbox, startSmtpSink } from './support.ts';

const { values: opts } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '1000000' },
    zones: { type: 'string', default: '30' },
    workers: { type: 'string', default: '2' },
    /** Stop waiting for the dispatch after this many minutes and report what was sent. */
    'max-minutes': { type: 'string', default: '60' },
    keep: { type: 'boolean', default: false },
  },
});
const N = Number(opts.subscribers);
const ZONES = Intl.supportedValuesOf('timeZone')
  .filter((z) => z.includes('/'))
  .slice(0, Number(opts.zones));
const WORKERS = Number(opts.workers);
const SERVER = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const TAG = randomBytes(3).toString('hex');
const DATABASE_URL = withDatabase(SERVER, `lastcall_scale_${TAG}`);
// Every key of the run starts with `${PREFIX}:` (each queue under its own hash tag).
const PREFIX = `lastcall-scale-${TAG}`;
const BIN = join(import.meta.dirname, '..', 'bin', 'lastcall.js');
const MINUTE = 60_000;
const rows: string[][] = [];
const log = (line: string) => console.log(`· ${new Date().toISOString().slice(11, 19)} ${line}`);
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** Samples a process's RSS until it exits; resolves with the peak. */
function peakRss(child: ChildProcess): Promise<number> {
  let peak = 0;
  const timer = setInterval(async () => {
    peak = Math.max(peak, await rssOf(child.pid!));
  }, 250);
  return new Promise((resolve) =>
    child.once('exit', () => {
      clearInterval(timer);
      resolve(peak);
    }),
  );
}

async function cli(
  env: Record<string, string>,
  args: string[],
): Promise<{ ms: number; out: string; rss: number }> {
  const t = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const [rss, code] = await Promise.all([
    peakRss(child),
    new Promise<number | null>((r) => child.once('exit', (c) => r(c))),
  ]);
  if (code !== 0) throw new Error(`lastcall ${args.join(' ')} exited ${code}: ${out}`);
  return { ms: performance.now() - t, out, rss };
}

async function writeCsv(file: string): Promise<void> {
  const out = createWriteStream(file);
  const write = (line: string) =>
    out.write(line) ? Promise.resolve() : new Promise<void>((r) => out.once('drain', () => r()));
  await write('id,name,phone,email,locale,timezone,assistant,channels,consent_at,consent_source,tags\n');
  const sets = ['whatsapp;email', 'whatsapp', 'email'];
  const assistants = ['chatgpt', 'copilot', 'both'];
  for (let i = 0; i < N; i++) {
    const n = String(i).padStart(8, '0');
    const channels = sets[Math.floor(i / ZONES.length) % 3]!;
    const phone = channels.includes('whatsapp') ? `+336${n}` : '';
    const email = channels.includes('email') ? `s${n}@example.test` : '';
    await write(
      `s${n},Abonné ${n},${phone},${email},${i % 2 ? 'en-US' : 'fr-FR'},${ZONES[i % ZONES.length]},` +
        `${assistants[i % 3]},${channels},2026-01-02T10:00:00Z,scale bench,\n`,
    );
  }
  await new Promise<void>((r) => out.end(() => r()));
}

async function main(): Promise<void> {
  console.log(
    `Scale run: ${N} subscribers, ${ZONES.length} zones, ${WORKERS} workers; ${cpus().length} CPUs, load ${loadavg()[0]?.toFixed(1)}, node ${process.version}`,
  );
  await migrate({ databaseUrl: DATABASE_URL });
  const db = openDb({ databaseUrl: DATABASE_URL });
  const redis = new Redis(REDIS_URL);
  const [graph, smtp] = [await startGraphSandbox(), await startSmtpSink()];
  const dir = await mkdtemp(join(tmpdir(), 'lastcall-scale-'));
  const workers: ChildProcess[] = [];
  const env = {
    DATABASE_URL,
    REDIS_URL,
    QUEUE_PREFIX: PREFIX,
    LASTCALL_ENV: 'development',
    LOG_LEVEL: 'warn',
    PUBLIC_URL: 'https://lastcall.example.org',
    WHATSAPP_TOKEN: 'TEST_TOKEN',
    WHATSAPP_PHONE_NUMBER_ID: '100000000000001',
    WHATSAPP_APP_SECRET: 'scale',
    WHATSAPP_VERIFY_TOKEN: 'scale',
    WHATSAPP_API_URL: graph.url,
    WHATSAPP_RATE: '1000000',
    SMTP_URL: smtp.url,
    MAIL_FROM: 'Lastcall <rappels@lastcall.example.org>',
    EMAIL_RATE: '1000000',
  };
  try {
    const csv = join(dir, 'subscribers.csv');
    await writeCsv(csv);
    log(`CSV written: ${csv}`);
    const imported = await cli(env, ['subscribers', 'import', '--file', csv, '--json']);
    log(`import: ${s(imported.ms)}, peak RSS ${mib(imported.rss)}`);
    rows.push([
      'import (CLI)',
      s(imported.ms),
      `${Math.round((N / imported.ms) * 1000)} rows/s, peak RSS ${mib(imported.rss)}`,
    ]);
    const size = async () =>
      (await db.one<{ n: number }>('SELECT pg_database_size(current_database())::bigint AS n'))?.n ?? 0;
    const afterImport = await size();
    rows.push(['PostgreSQL after import', mib(afterImport), `${Math.round(afterImport / N)} B/subscriber`]);

    const start = Date.now();
    const deadline = start + 6 * 60 * MINUTE;
    const file = join(dir, 'scale.yaml');
    await writeFile(
      file,
      [
        'id: scale',
        'name: "Scale run"',
        `deadline: "${new Date(deadline).toISOString()}"`,
        'window: { start: "00:00", end: "23:59" }',
        'steps:',
        '  - { id: first, before: PT5H58M, channels: [whatsapp, email], template: first-notice }',
        '  - { id: second, before: PT5H57M, channels: [whatsapp, email], template: one-week }',
        '',
      ].join('\n'),
    );
    await cli(env, ['campaign', 'create', '--file', file]);
    const started = await cli(env, ['campaign', 'start', 'scale', '--json']);
    log(`start: ${s(started.ms)} ${started.out.trim().slice(0, 200)}`);
    rows.push(['campaign start (plan slots)', s(started.ms), '2 steps × 2 channels × zones']);

    const planned =
      2 *
      ((
        await db.one<{ n: number }>(
          `SELECT count(*)::int AS n FROM subscriber_channels WHERE state = 'active'`,
        )
      )?.n ?? 0);
    const workerRss: number[] = [];
    for (let i = 0; i < WORKERS; i++) {
      const child = spawn(process.execPath, [BIN, 'work'], {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      workers.push(child);
      void peakRss(child).then((peak) => workerRss.push(peak));
    }
    // Redis under our prefix, sampled (MEMORY USAGE of every key) while the run goes on.
    let redisPeak = 0;
    const sampleRedis = async () => {
      let total = 0;
      for await (const keys of redis.scanStream({ match: `${PREFIX}:*`, count: 1000 }) as AsyncIterable<
        string[]
      >) {
        if (keys.length === 0) continue;
        const p = redis.pipeline();
        for (const key of keys) p.memory('USAGE', key, 'SAMPLES', '0');
        for (const [, bytes] of (await p.exec()) ?? []) total += Number(bytes ?? 0);
      }
      redisPeak = Math.max(redisPeak, total);
    };
    const until = Date.now() + Number(opts['max-minutes']) * MINUTE;
    let done = 0;
    for (let round = 0; Date.now() < until; round++) {
      done =
        (
          await db.one<{ n: number }>(
            `SELECT count(*)::int AS n FROM deliveries WHERE status NOT IN ('queued', 'sending', 'retrying')`,
          )
        )?.n ?? 0;
      if (done >= planned) break;
      if (round % 6 === 0) {
        await sampleRedis();
        log(
          `${done} of ${planned} messages settled; Redis under the prefix ${mib(redisPeak)} at most so far`,
        );
      }
      await new Promise((r) => setTimeout(r, 5_000));
    }

    const steps = await db.query<{
      step_id: string;
      channel: string;
      slots: number;
      fan_s: number;
      rows: number;
      sent: number;
      dispatch_s: number;
    }>(
      // One pass over each table (a correlated join of deliveries × slots took minutes at 1M).
      `WITH s AS (SELECT step_id, channel, count(*)::int AS slots, min(claimed_at) AS claimed, max(updated_at) AS done
                    FROM slots WHERE campaign_id = 'scale' GROUP BY 1, 2),
            d AS (SELECT step_id, channel, count(*)::int AS rows, (count(*) FILTER (WHERE status = 'sent'))::int AS sent,
                         max(sent_at) AS last_sent
                    FROM deliveries WHERE campaign_id = 'scale' GROUP BY 1, 2)
       SELECT s.step_id, s.channel, s.slots, extract(epoch FROM s.done - s.claimed)::float AS fan_s, d.rows, d.sent,
              extract(epoch FROM d.last_sent - s.claimed)::float AS dispatch_s
         FROM s JOIN d USING (step_id, channel) ORDER BY 1, 2`,
    );
    for (const st of steps) {
      rows.push([
        `fan-out ${st.step_id}/${st.channel}`,
        `${st.fan_s?.toFixed(1)} s`,
        `${st.rows} rows over ${st.slots} slots, ${Math.round(st.rows / Math.max(st.fan_s, 0.001))} rows/s`,
      ]);
      rows.push([
        `dispatch ${st.step_id}/${st.channel}`,
        st.dispatch_s == null ? 'not started' : `${st.dispatch_s.toFixed(1)} s`,
        st.dispatch_s == null
          ? `0 of ${st.rows} sent before the run stopped waiting`
          : `${st.sent} sent, ${Math.round(st.sent / Math.max(st.dispatch_s, 0.001))} msg/s (from its fan-out's start)`,
      ]);
    }
    const whole = await db.one<{ sent: number; span: number }>(
      `SELECT count(*)::int AS sent, extract(epoch FROM max(sent_at) - min(queued_at))::float AS span
         FROM deliveries WHERE status = 'sent'`,
    );
    rows.push([
      'dispatch, whole campaign',
      `${whole?.span?.toFixed(1)} s`,
      `${whole?.sent} of ${planned} sent, ${Math.round((whole?.sent ?? 0) / Math.max(whole?.span ?? 0, 0.001))} msg/s with ${WORKERS} workers`,
    ]);
    await sampleRedis();
    const end = await size();
    rows.push([
      'PostgreSQL at the end',
      mib(end),
      `${Math.round(end / N)} B/subscriber (with ${planned} deliveries and their attempts)`,
    ]);
    rows.push([
      'Redis under the prefix (peak of samples)',
      mib(redisPeak),
      'jobs of pages, retries, rate gate, markers',
    ]);
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(
      workers.map((w) => new Promise((r) => (w.exitCode === null ? w.once('exit', r) : r(null)))),
    );
    await new Promise((r) => setTimeout(r, 500));
    rows.push(['worker RSS (peak)', workerRss.map(mib).join(', '), `${WORKERS} lastcall work processes`]);
  } finally {
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
    graph.stop();
    smtp.stop();
    await rm(dir, { recursive: true, force: true });
    await deleteKeys(redis, `${PREFIX}:*`);
    redis.disconnect();
    await db.close();
    if (opts.keep) console.log(`kept database ${databaseName(DATABASE_URL)}`);
    else await dropDatabase(SERVER, DATABASE_URL);
  }
  console.log();
  printTable(['phase', 'time / size', 'detail'], rows);
}

await main();
