// `lastcall doctor` against the test PostgreSQL and Redis, a real SMTP server and the fake Graph
// API: all green when everything answers; a red line, its fix and exit 1 when Redis is on a
// closed port or a template the campaigns need is not approved.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCampaignService } from '../src/campaigns/campaign.service.ts';
import { type LocalTemplate, readLocalTemplates } from '../src/ops/whatsapp-templates.ts';
import { type FakeGraphApi, startFakeGraphApi, type TemplateSeed } from './fakes/graph-api.ts';
import { type FakeSmtp, startFakeSmtp } from './fakes/smtp.ts';
import { campaignFile, STEPS } from './support/campaign.ts';
import { runCli } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { createTestRedis } from './support/redis.ts';

/** A message file's template as the fake Graph API registers it. */
const seedOf = (l: LocalTemplate, status: TemplateSeed['status'] = 'APPROVED'): TemplateSeed => ({
  ...l.definition,
  components: l.definition.components as TemplateSeed['components'],
  status,
});

const PUBLIC_URL = 'https://lastcall.example.org';

let t: TestDatabase;
let approved: FakeGraphApi;
let pending: FakeGraphApi;
let smtp: FakeSmtp;
let env: Record<string, string>;

/** A port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  const local = await readLocalTemplates(PUBLIC_URL);
  const pendingOne = (l: LocalTemplate) => l.name.endsWith('_last_hours') && l.language === 'en';
  [t, approved, pending, smtp] = await Promise.all([
    createTestDatabase(),
    startFakeGraphApi({ templates: local.map((l) => seedOf(l)) }),
    startFakeGraphApi({ templates: local.map((l) => seedOf(l, pendingOne(l) ? 'PENDING' : 'APPROVED')) }),
    startFakeSmtp({ user: 'mailer', pass: 'secret' }),
  ]);
  env = {
    DATABASE_URL: t.url,
    ...createTestRedis().env,
    LASTCALL_ENV: 'development',
    LOG_LEVEL: 'silent',
    PUBLIC_URL,
    SMTP_URL: smtp.url,
    MAIL_FROM: 'Lastcall <no-reply@lastcall.example.org>',
    WHATSAPP_TOKEN: approved.token,
    WHATSAPP_PHONE_NUMBER_ID: approved.phoneNumberId,
    WHATSAPP_APP_SECRET: 'app-secret',
    WHATSAPP_VERIFY_TOKEN: 'verify-token',
    WHATSAPP_API_URL: approved.url,
    WHATSAPP_BUSINESS_ACCOUNT_ID: approved.wabaId,
  };
  // A campaign to come that sends every shipped template by WhatsApp (h6: last-hours).
  await createCampaignService({ db: t.db }).create(
    campaignFile('doctor', { deadline: '2030-01-15T00:00:00+01:00', steps: [STEPS.d7, STEPS.d1, STEPS.h6] }),
    Date.now(),
  );
});
afterAll(async () => {
  await Promise.all([t?.drop(), approved?.close(), pending?.close(), smtp?.close()]);
});

// Each test spawns the CLI a few times (a second or more each on a busy machine).
describe('lastcall doctor', { timeout: 120_000 }, () => {
  it('is all green against working services (persistence off is only a warning)', async () => {
    const result = await runCli(['doctor'], env);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    for (const title of [
      'configuration',
      'PostgreSQL',
      'migrations',
      'Redis ',
      'Redis eviction policy',
      'SMTP',
      'WhatsApp ',
      'WhatsApp templates',
    ]) {
      expect(lines.find((l) => l.includes(title))?.startsWith('✓'), `${title}\n${result.stdout}`).toBe(true);
    }
    expect(result.stdout).toMatch(/WhatsApp templates\s+6 needed by the campaigns, all approved/);
    expect(result.stdout).toMatch(/^[✓!] Redis persistence/m);
    expect(result.stdout).toMatch(/^! unsubscribe mailto\s+goes to .+, and nothing in Lastcall reads it/m);
    expect(result.stdout).toMatch(/fix: set UNSUBSCRIBE_SMTP_PORT/);
    expect(result.stdout).not.toContain('✗');
    expect(result.stdout.trim().split('\n').at(-1)).toBe('all required checks passed');
  });

  it('fails with a red line, its fix and exit 1 when Redis is on a closed port', async () => {
    const port = await closedPort();
    const result = await runCli(['doctor', '--only', 'redis,postgres'], {
      ...env,
      REDIS_URL: `redis://127.0.0.1:${port}`,
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      new RegExp(`^✗ Redis\\s+unreachable at redis://127\\.0\\.0\\.1:${port} \\(.*ECONNREFUSED`, 'm'),
    );
    expect(result.stdout).toMatch(/fix: start Redis .* or point REDIS_URL at a running server/);
    expect(result.stdout).toMatch(/^✓ PostgreSQL/m);
    expect(result.stdout).not.toContain('SMTP'); // --only: nothing else was checked
  });

  it('reports a template the campaigns need that Meta has not approved, as JSON', async () => {
    const result = await runCli(['doctor', '--only', 'whatsapp,templates', '--json'], {
      ...env,
      WHATSAPP_API_URL: pending.url,
      WHATSAPP_TOKEN: pending.token,
    });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.ok).toBe(false);
    expect(report.findings).toEqual([
      expect.objectContaining({ check: 'whatsapp', status: 'ok' }),
      expect.objectContaining({
        check: 'templates',
        status: 'fail',
        detail: expect.stringContaining('lastcall_ai_assistants_last_hours (en) PENDING [doctor]'),
        fix: expect.stringContaining('lastcall templates push'),
      }),
    ]);
  });

  it('lists every configuration problem and a wrong SMTP login', async () => {
    const badConfig = await runCli(['doctor', '--only', 'config'], {
      ...env,
      EMAIL_RATE: 'fast',
      HTTP_PORT: '99999',
    });
    expect(badConfig.code).toBe(1);
    expect(badConfig.stdout).toMatch(/^✗ configuration\s+invalid for cli, serve, work:/m);
    expect(badConfig.stdout).toContain('EMAIL_RATE');
    expect(badConfig.stdout).toContain('HTTP_PORT');
    const badLogin = await runCli(['doctor', '--only', 'smtp'], {
      ...env,
      SMTP_URL: smtp.url.replace('secret', 'wrong'),
    });
    expect(badLogin.code).toBe(1);
    expect(badLogin.stdout).toMatch(/^✗ SMTP\s+SMTP check failed/m);
    expect(badLogin.stdout).not.toContain('wrong'); // no password in the output
    const mailto = await runCli(['doctor', '--only', 'smtp'], {
      ...env,
      PUBLIC_URL: 'https://lastcall.example.org',
      UNSUBSCRIBE_SMTP_PORT: '2525',
    });
    expect(mailto.code, mailto.stdout).toBe(0);
    expect(mailto.stdout).toMatch(
      /^✓ unsubscribe mailto\s+unsubscribe@lastcall\.example\.org, received by serve on port 2525 \(no STARTTLS/m,
    );
  });
});
