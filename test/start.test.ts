// `npm start` (lastcall start) as an operator runs it: one child process that migrates a fresh
// database, then serves and works; it answers /healthz and the sign-up page, runs the workers
// (the tick scheduler appears in Redis), and exits 0 on SIGTERM.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { QUEUES } from '../src/queue/catalog.ts';
import { queueKeyPrefix } from '../src/queue/keys.ts';
import { LASTCALL_BIN } from './support/cli.ts';
import { dropDatabase, newDatabaseUrl } from './support/db.ts';
import { waitFor } from './support/delivery.ts';
import { createTestRedis, type TestRedis } from './support/redis.ts';

let child: ChildProcess;
let output = '';
let databaseUrl: string;
let redis: TestRedis;
let base: string;
let scratch: string;

beforeAll(async () => {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  base = `http://127.0.0.1:${port}`;
  databaseUrl = newDatabaseUrl();
  redis = createTestRedis();
  scratch = mkdtempSync(join(tmpdir(), 'lastcall-start-'));
  child = spawn(process.execPath, [LASTCALL_BIN, 'start'], {
    cwd: scratch,
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: databaseUrl,
      ...redis.env,
      HTTP_PORT: String(port),
      PUBLIC_URL: base,
      SECRET_KEY: 'k'.repeat(64),
      ADMIN_TOKEN: 'a'.repeat(32),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const collect = (chunk: Buffer) => {
    output += chunk.toString('utf8');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  await waitFor(
    'lastcall start',
    // The banner's last line: the whole banner is out.
    () => output.includes('lastcall campaign list') || child.exitCode !== null,
    30_000,
  );
  if (child.exitCode !== null) throw new Error(`lastcall start exited with ${child.exitCode}:\n${output}`);
}, 40_000);

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await redis?.cleanup();
  if (databaseUrl) await dropDatabase(databaseUrl);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

it('migrates, serves and works in one process, in production mode', async () => {
  expect(output).toMatch(/database lastcall_test_\w+: applied 1795564800000_initial-schema/);
  expect(output).toContain(`sign-up page    ${base}/subscribe`);
  expect(output).toContain(`queue board     ${base}/admin/queues   (sign in with ADMIN_TOKEN)`);
  expect(output).toContain(`console         ${base}/console   (sign in with ADMIN_TOKEN or a key`);
  const console = await fetch(`${base}/console/campaigns`, { redirect: 'manual' });
  expect(console.headers.get('location')).toBe('/console/sign-in?next=%2Fconsole%2Fcampaigns');
  const health = await fetch(`${base}/healthz`);
  expect(health.status).toBe(200);
  expect((await fetch(`${base}/subscribe`)).status).toBe(200);
  const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  try {
    const keys = await waitFor('the tick scheduler', async () => {
      const found = await client.keys(`${queueKeyPrefix(redis.prefix, QUEUES.tick)}:tick:*`);
      return found.length > 0 ? found : undefined;
    });
    expect(keys.length).toBeGreaterThan(0);
  } finally {
    client.disconnect();
  }
});

it('exits 0 on SIGTERM', async () => {
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
}, 30_000);
