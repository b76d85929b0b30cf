// Import through the API with bounded memory: POST /api/v1/subscribers/import with a generated
// CSV of N rows (default 100,000), sent as a stream, to a `lastcall serve` child process (so the
// server's memory is measured alone) on a database of its own, dropped at the end. Prints the
// time, rows per second and the server's RSS before and its peak (VmHWM) after the import: the
// body is streamed into the import service, so the peak does not grow with the file.
//
//   node bench/api-import.ts [--rows 100000]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from '../src/ops/local-servers/probe.ts';
import { migrate, withDatabase } from '../src/store/migrate.ts';
import { deleteKeys, dropDatabase } from './support.ts';

const { values: opts } = parseArgs({ options: { rows: { type: 'string', default: '100000' } } });
const ROWS = Number(opts.rows);
const SERVER = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const TAG = randomBytes(3).toString('hex');
// Every key of the run starts with `${PREFIX}:` (each queue under its own hash tag).
const PREFIX = `lastcall-bench-${TAG}`;
const DATABASE_URL = withDatabase(SERVER, `lastcall_bench_${TAG}`);
const TOKEN = 'bench-admin-token-0123456789';
const HEADER = 'id,name,phone,email,locale,timezone,assistant,channels,consent_at,consent_source,tags\n';
const ZONES = ['Europe/Paris', 'America/New_York', 'Asia/Kolkata', 'UTC'];

async function* csv(rows: number): AsyncGenerator<string> {
  yield HEADER;
  let chunk = '';
  for (let i = 0; i < rows; i++) {
    const n = String(i).padStart(7, '0');
    chunk += `b${n},Abonné ${n},+3361${n},b${n}@example.test,${i % 2 ? 'en' : 'fr'},${ZONES[i % 4]},both,whatsapp;email,2026-01-01T00:00:00Z,bench,\n`;
    if (chunk.length > 64 * 1024) {
      yield chunk;
      chunk = '';
    }
  }
  yield chunk;
}

/** Resident and peak resident memory of a process, in MiB (Linux /proc). */
async function memory(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

async function main(): Promise<void> {
  await migrate({ databaseUrl: DATABASE_URL });
  const port = await freePort();
  const child = spawn(process.execPath, ['bin/lastcall.js', 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL,
      REDIS_URL,
      QUEUE_PREFIX: PREFIX,
      HTTP_PORT: String(port),
      LASTCALL_ENV: 'development',
      ADMIN_TOKEN: TOKEN,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      const up = await fetch(`${base}/api/v1/openapi.json`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) break;
      if (i > 300) throw new Error('lastcall serve did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const before = await memory(child.pid!);
    const started = performance.now();
    const response = await fetch(`${base}/api/v1/subscribers/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/csv' },
      body: Readable.toWeb(Readable.from(csv(ROWS))) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    const summary = (await response.json()) as { inserted?: number; bad?: number; detail?: string };
    const ms = performance.now() - started;
    const after = await memory(child.pid!);
    if (!response.ok) throw new Error(`import answered ${response.status}: ${summary.detail}`);
    console.log(
      `rows            ${ROWS.toLocaleString('en')} (inserted ${summary.inserted}, bad ${summary.bad})`,
    );
    console.log(
      `time            ${(ms / 1000).toFixed(1)} s, ${Math.round((ROWS / ms) * 1000).toLocaleString('en')} rows/s`,
    );
    console.log(
      `server RSS      ${before.rss.toFixed(0)} MiB before, peak ${after.peak.toFixed(0)} MiB (VmHWM)`,
    );
    console.log(
      `CSV size        ${((ROWS * 130) / 1024 / 1024).toFixed(0)} MiB (about): the body is never held whole`,
    );
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    await dropDatabase(SERVER, DATABASE_URL);
    const redis = new Redis(REDIS_URL);
    await deleteKeys(redis, `${PREFIX}:*`);
    redis.disconnect();
  }
}

await main();
