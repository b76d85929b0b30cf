// Operations routes on a real PostgreSQL and Redis: /healthz (and its 503 when Redis is gone),
// /metrics, the queue board behind ADMIN_TOKEN (with its scoped CSP, checked in headless
// Chromium), and `lastcall serve` itself as an operator runs it, stopped by SIGTERM.
import { type ChildProcess, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServeConfig } from '../src/config/config.ts';
import { buildServer } from '../src/http/server.ts';
import { freePort } from '../src/ops/local-servers/probe.ts';
import { QUEUES } from '../src/queue/catalog.ts';
import { QueueSet } from '../src/queue/connection.ts';
import { launchChromium } from './support/chromium.ts';
import { LASTCALL_BIN } from './support/cli.ts';
import { testConfig } from './support/config.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { createTestRedis, type TestRedis } from './support/redis.ts';
import { testServices } from './support/services.ts';

const ADMIN = 'ops-admin-token-for-tests';

let database: TestDatabase;
let redis: TestRedis;
let config: ServeConfig;
let queues: QueueSet;
let app: Awaited<ReturnType<typeof buildServer>>;

function serverFor(cfg: ServeConfig, q: QueueSet) {
  return buildServer({
    config: cfg,
    db: database.db,
    queues: q,
    services: testServices(cfg, database.db),
    logger: pino({ level: 'silent' }),
  });
}

beforeAll(async () => {
  database = await createTestDatabase();
  redis = createTestRedis();
  config = testConfig({ DATABASE_URL: database.url, ...redis.env, ADMIN_TOKEN: ADMIN }, 'serve');
  queues = new QueueSet(config);
  app = await serverFor(config, queues);
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await queues?.close();
  await redis?.cleanup();
  await database?.drop();
});

describe('GET /healthz', () => {
  it('is ok when PostgreSQL and Redis answer, with the security headers', async () => {
    const res = await app.inject({ url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', postgres: 'ok', redis: 'ok', tzVersion: process.versions.tz });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
  });

  it('answers 503 naming Redis when REDIS_URL points at a closed port', async () => {
    const down: ServeConfig = { ...config, redisUrl: `redis://127.0.0.1:${await freePort()}` };
    const downQueues = new QueueSet(down);
    downQueues.connection.on('error', () => {});
    const downApp = await serverFor(down, downQueues);
    for (const name of Object.values(QUEUES)) downQueues.get(name).on('error', () => {});
    try {
      const started = Date.now();
      const res = await downApp.inject({ url: '/healthz' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({
        status: 'unavailable',
        postgres: 'ok',
        redis: expect.stringMatching(/^(down|timeout)$/),
      });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await downApp.close();
      downQueues.connection.disconnect();
      await downQueues.close();
    }
  });
});

describe('GET /metrics', () => {
  it('exposes the named series: sends, deliveries by status, queue depths, webhooks, HTTP durations', async () => {
    await database.db.exec(
      `INSERT INTO campaigns (id, name, definition, deadline) VALUES ('c1', 'Test', '{}', '2026-06-01T00:00:00Z')`,
    );
    await database.db.exec(
      `INSERT INTO campaign_steps (campaign_id, step_id, position, before, channels, template)
       VALUES ('c1', 's1', 0, 'P1D', '{whatsapp,email}', 't')`,
    );
    await database.db.exec(
      `INSERT INTO deliveries (campaign_id, step_id, subscriber_id, channel, kind, status)
       VALUES ('c1', 's1', NULL, 'whatsapp', 'scheduled', 'delivered'),
              ('c1', 's1', NULL, 'whatsapp', 'scheduled', 'delivered'),
              ('c1', 's1', NULL, 'email', 'scheduled', 'failed')`,
    );
    await queues.get(QUEUES.fanout).add('fanout', { slotId: 1 }, { jobId: 'slot-1' });
    await app.inject({ url: '/healthz' });

    const res = await app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = res.body;
    expect(text).toContain('lastcall_deliveries{channel="whatsapp",status="delivered"} 2');
    expect(text).toContain('lastcall_deliveries{channel="email",status="failed"} 1');
    expect(text).toContain('lastcall_deliveries{channel="email",status="read"} 0');
    expect(text).toContain('lastcall_queue_jobs{queue="fanout",state="waiting"} 1');
    expect(text).toContain('lastcall_queue_jobs{queue="webhooks",state="failed"} 0');
    expect(text).toContain('lastcall_webhook_events_unprocessed 0');
    expect(text).toContain('lastcall_metrics_source_up{source="postgres"} 1');
    expect(text).toContain('lastcall_metrics_source_up{source="redis"} 1');
    expect(text).toMatch(
      /lastcall_http_request_duration_seconds_count\{method="GET",route="\/healthz",status_code="200"\} \d+/,
    );
    for (const series of [
      'lastcall_sends_total',
      'lastcall_send_duration_seconds',
      'lastcall_webhook_requests_total',
      'lastcall_webhook_changes_total',
      'lastcall_webhook_items_total',
      'lastcall_process_cpu_user_seconds_total',
      'lastcall_nodejs_eventloop_lag_seconds',
    ])
      expect(text).toContain(`# TYPE ${series} `);
  });
});

describe('/admin/queues', () => {
  it('answers 401 without the admin token or with a wrong one', async () => {
    for (const headers of [
      {},
      { authorization: 'Bearer wrong-token' },
      { authorization: ADMIN },
      { cookie: 'lastcall_admin=1.x' },
    ]) {
      const res = await app.inject({ url: '/admin/queues', headers });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toContain('Bearer');
      expect(res.body).not.toContain('<html');
    }
    expect((await app.inject({ url: '/admin/queues/api/queues' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/admin/queues?token=wrong' })).statusCode).toBe(401);
  });

  it('gives a browser a sign-in page instead of a JSON 401, and says when the token was wrong', async () => {
    const accept = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
    const page = await app.inject({ url: '/admin/queues', headers: accept });
    expect(page.statusCode).toBe(401);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<form method="get" action="/admin/queues">');
    expect(page.body).toContain('<input id="token" name="token" type="password"');
    expect(page.body).not.toContain('not the admin token');
    const wrong = await app.inject({ url: '/admin/queues?token=wrong', headers: accept });
    expect(wrong.body).toContain('That token is not the admin token.');
    const script = await app.inject({ url: '/admin/queues' });
    expect(script.json()).toEqual({ error: expect.stringContaining('ADMIN_TOKEN required') });
  });

  it('shows the board with the bearer token, under a CSP relaxed for /admin only', async () => {
    const auth = { authorization: `Bearer ${ADMIN}` };
    const page = await app.inject({ url: '/admin/queues', headers: auth });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<base href="/admin/queues/"');
    expect(page.headers['content-security-policy']).toContain("base-uri 'self'");
    expect(page.headers['content-security-policy']).toContain("script-src 'self';");
    expect(page.headers['x-frame-options']).toBe('SAMEORIGIN');
    const api = await app.inject({ url: '/admin/queues/api/queues', headers: auth });
    expect(api.statusCode).toBe(200);
    const names = (api.json() as { queues: { name: string }[] }).queues.map((q) => q.name).sort();
    expect(names).toEqual(Object.values(QUEUES).sort());
    const publicPage = await app.inject({ url: '/subscribe' });
    expect(publicPage.headers['content-security-policy']).toContain("base-uri 'none'");
  });

  it('logs a browser in once with ?token=, as an HttpOnly cookie, then redirects without it', async () => {
    const login = await app.inject({ url: `/admin/queues?token=${ADMIN}` });
    expect(login.statusCode).toBe(303);
    expect(login.headers.location).toBe('/admin/queues');
    const setCookie = String(login.headers['set-cookie']);
    expect(setCookie).toMatch(
      /^lastcall_admin=\d+\.[\w-]+; HttpOnly; SameSite=Strict; Path=\/admin; Max-Age=43200$/,
    );
    expect(setCookie).not.toContain(ADMIN);
    const cookie = setCookie.split(';')[0]!;
    const page = await app.inject({ url: '/admin/queues', headers: { cookie } });
    expect(page.statusCode).toBe(200);
    const tampered = cookie.replace(/=(\d+)\./, (_m, n: string) => `=${Number(n) + 1000}.`);
    expect((await app.inject({ url: '/admin/queues', headers: { cookie: tampered } })).statusCode).toBe(401);
  });

  it('loads in a real browser: scripts and styles run under the CSP', async () => {
    const port = await freePort();
    const live = await serverFor(config, queues);
    await live.listen({ host: '127.0.0.1', port });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const violations: string[] = [];
      page.on('console', (m) => {
        if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
      });
      await page.goto(`http://127.0.0.1:${port}/admin/queues?token=${ADMIN}`);
      await page.getByText(QUEUES.whatsapp).first().waitFor({ timeout: 20_000 });
      expect(page.url()).toBe(`http://127.0.0.1:${port}/admin/queues`);
      // The board links Google Fonts; the CSP keeps the operator's browser from calling Google.
      expect(violations.filter((v) => !v.includes('fonts.googleapis.com'))).toEqual([]);
    } finally {
      await browser.close();
      await live.close();
    }
  }, 60_000);
});

describe('lastcall serve', () => {
  it('listens on HTTP_PORT, says where, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const child: ChildProcess = spawn(process.execPath, [LASTCALL_BIN, 'serve'], {
      env: {
        PATH: process.env.PATH ?? '',
        DATABASE_URL: database.url,
        ...redis.env,
        HTTP_PORT: String(port),
        PUBLIC_URL: 'https://lastcall.example',
        LASTCALL_ENV: 'development',
        LOG_LEVEL: 'info',
      },
      cwd: tmpdir(), // no stray .env
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk) => {
      output += String(chunk);
    });
    child.stderr?.on('data', (chunk) => {
      output += String(chunk);
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
          (r) => r.status === 200,
          () => false,
        );
        if (ok) break;
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`serve did not come up:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(output).toContain('https://lastcall.example/subscribe');
      expect(output).toContain('https://lastcall.example/admin/queues');
      expect(output).toContain(`0.0.0.0:${port}`);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output).toContain('"how":"graceful"');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 40_000);
});
