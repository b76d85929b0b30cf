// `npm run demo` as a person runs it: `lastcall demo` in a child process (no Docker) against the
// test PostgreSQL (a fresh database the demo migrates itself), the test Redis (its own prefix) and
// the SMTP fake. The demo's first notice is due at the minute it starts, so with a one-second
// tick the first reminders reach the in-process WhatsApp sandbox and the SMTP server within
// seconds; `lastcall demo seed` then replaces the demo, and SIGTERM stops everything cleanly.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SUBSCRIBERS } from '../src/demo/demo-subscribers.ts';
import type { Conversation } from '../src/sandbox/inbox-store.ts';
import { type Db, openDb } from '../src/store/pool.ts';
import { waitFor } from './delivery.fixtures.ts';
import { type FakeSmtp, startFakeSmtp } from './fakes/smtp.ts';
import { LASTCALL_BIN, runCli } from './support/cli.ts';
import { dropDatabase, newDatabaseUrl } from './support/db.ts';
import { createTestRedis, type TestRedis } from './support/redis.ts';

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

const WITH_PHONE = DEMO_SUBSCRIBERS.filter((s) => s.channels.includes('whatsapp')).map((s) =>
  s.phone.slice(1),
);
const WITH_EMAIL = DEMO_SUBSCRIBERS.filter((s) => s.channels.includes('email')).map((s) => s.email);

let smtp: FakeSmtp;
let redis: TestRedis;
let databaseUrl: string;
let db: Db;
let env: Record<string, string>;
let sandboxUrl: string;
let child: ChildProcess;
let output = '';
let scratch: string;

beforeAll(async () => {
  smtp = await startFakeSmtp();
  redis = createTestRedis();
  databaseUrl = newDatabaseUrl();
  const [httpPort, sandboxPort] = [await freePort(), await freePort()];
  sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
  env = {
    DATABASE_URL: databaseUrl,
    ...redis.env,
    HTTP_PORT: String(httpPort),
    PUBLIC_URL: `http://127.0.0.1:${httpPort}`,
    SMTP_URL: smtp.url,
    MAIL_FROM: 'Lastcall demo <demo@lastcall.example>',
    LOG_LEVEL: 'warn',
  };
  scratch = mkdtempSync(join(tmpdir(), 'lastcall-demo-'));
  child = spawn(
    process.execPath,
    [LASTCALL_BIN, 'demo', '--minutes', '5', '--sandbox-port', String(sandboxPort), '--tick-every', '1'],
    { cwd: scratch, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  await waitFor(
    'the demo to start',
    // The banner's last line: the whole banner is out.
    () => output.includes('lastcall campaign stats demo') || child.exitCode !== null,
    30_000,
  );
  if (child.exitCode !== null) throw new Error(`lastcall demo exited with ${child.exitCode}:\n${output}`);
  db = openDb({ databaseUrl }, { max: 2 });
}, 40_000);

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await db?.close();
  await smtp?.close();
  await redis?.cleanup();
  if (databaseUrl) await dropDatabase(databaseUrl);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

async function conversations(): Promise<Conversation[]> {
  const res = await fetch(`${sandboxUrl}/inbox/api/state`);
  return ((await res.json()) as { conversations: Conversation[] }).conversations;
}

describe('npm run demo (lastcall demo)', () => {
  it('says where to look', () => {
    expect(output).toContain(`WhatsApp inbox  http://localhost:${new URL(sandboxUrl).port}/`);
    expect(output).toContain(`sign-up page    ${env.PUBLIC_URL}/subscribe`);
    expect(output).toMatch(/created and started campaign "demo": deadline \d\d:\d\d UTC/);
    expect(output).toContain('lastcall campaign stats demo');
  });

  it('delivers the first notice to every demo phone in the sandbox, with statuses sent back to Lastcall', async () => {
    const found = await waitFor(
      'a first notice for every demo phone, read',
      async () => {
        const list = await conversations();
        const read = list.filter((c) =>
          c.messages.some(
            (m) =>
              m.direction === 'out' &&
              m.template?.name === 'lastcall_ai_assistants_first_notice' &&
              m.status === 'read',
          ),
        );
        return read.length === WITH_PHONE.length ? list : undefined;
      },
      30_000,
      200,
    );
    expect(found.map((c) => c.digits).sort()).toEqual([...WITH_PHONE].sort());
    for (const c of found) {
      for (const m of c.messages) {
        // Lastcall accepted every status webhook the sandbox posted (signed, 2xx).
        if (m.direction === 'out') expect(m.webhookProblem).toBeUndefined();
      }
    }
    const camille = found.find((c) => c.digits === '33612345678')!.messages[0]!;
    expect(camille.direction === 'out' && camille.body).toContain('Bonjour Camille (démo),');
  }, 40_000);

  it('emails the first notice to every demo address through SMTP_URL', async () => {
    await waitFor(
      'an email to every demo address',
      () => smtp.messages.length >= WITH_EMAIL.length,
      30_000,
      200,
    );
    const recipients = smtp.messages.flatMap((m) => m.envelope.rcptTo).sort();
    expect(recipients).toEqual([...WITH_EMAIL].sort());
    const liam = smtp.messages.find((m) => m.envelope.rcptTo.includes('liam.demo@example.org'))!;
    expect(liam.parsed.subject).toContain('ChatGPT');
    expect(liam.parsed.text).toContain('Hello Liam (demo),');
    const deliveries = await db.query<{ channel: string; n: number }>(
      `SELECT channel, count(*)::int AS n FROM deliveries
        WHERE campaign_id = 'demo' AND step_id = 'start' AND status IN ('sent', 'delivered', 'read')
        GROUP BY channel ORDER BY channel`,
    );
    expect(deliveries).toEqual([
      { channel: 'email', n: WITH_EMAIL.length },
      { channel: 'whatsapp', n: WITH_PHONE.length },
    ]);
  }, 40_000);

  it('replaces the demo when seeded again', async () => {
    const before = await db.one<{ last: number }>(`SELECT max(id) AS last FROM deliveries`);
    expect(before?.last).toBeGreaterThan(0);
    const result = await runCli(['demo', 'seed', '--minutes', '5'], env, { timeoutMs: 30_000 });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/replaced and started campaign "demo"/);
    const counts = await db.one<{ campaigns: number; subscribers: number; deliveries: number }>(
      `SELECT (SELECT count(*)::int FROM campaigns) AS campaigns,
              (SELECT count(*)::int FROM subscribers WHERE 'demo' = ANY(tags)) AS subscribers,
              (SELECT count(*)::int FROM deliveries WHERE id <= $1) AS deliveries`,
      [before?.last],
    );
    // One demo, its six subscribers, and none of the previous run's deliveries left.
    expect(counts).toEqual({ campaigns: 1, subscribers: DEMO_SUBSCRIBERS.length, deliveries: 0 });
  }, 40_000);

  it('stops cleanly on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 30_000);
});
