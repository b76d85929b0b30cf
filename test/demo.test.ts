// `npm run demo` as a new user runs it (README.md, "Quick start"): `lastcall demo` in a child
// process, from a copy of the tree, with DATABASE_URL and REDIS_URL pointing at closed loopback
// ports and no SMTP_URL. It starts private PostgreSQL and Redis in its data folder, the sandbox
// with its mail catcher, serve and work; then headless Chromium walks the README's five-minute tour
// in one tab: sign up on the demo campaign's page, confirm by mail in the sandbox inbox, get a
// reminder on both channels, STOP on WhatsApp and the one-click unsubscribe by mail, and the next
// step skips both channels. A second start re-uses the data folder. Screenshots of each page, at
// 1280 and 390 px wide, go to test-artifacts/screenshots/ (git-ignored).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/ops/local-servers/probe.ts';
import type { Conversation, Mailbox } from '../src/sandbox/inbox-store.ts';
import { type Db, openDb } from '../src/store/pool.ts';
import { launchChromium, requireChromium } from './support/chromium.ts';
import { runCli } from './support/cli.ts';
import { waitFor } from './support/delivery.ts';

const ROOT = join(import.meta.dirname, '..');
const SHOTS = join(ROOT, 'test-artifacts', 'screenshots');
const VISITOR = {
  name: 'Nora Visitor',
  phone: '+33 6 11 22 33 44',
  digits: '33611223344',
  email: 'nora@example.net',
};

interface Demo {
  child: ChildProcess;
  output: string;
}

let copy: string;
let env: Record<string, string>;
let base: string;
let inboxUrl: string;
let demo: Demo;
let db: Db | undefined;
let browser: Browser;

/** The tree as a fresh clone has it: the files git knows (node_modules linked, not copied). */
function copyTree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lastcall-demo-tree-'));
  // As root, the private PostgreSQL runs as another user, who must reach the data folder.
  chmodSync(dir, 0o755);
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  for (const file of files.split('\0').filter(Boolean)) {
    if (existsSync(join(ROOT, file))) cpSync(join(ROOT, file), join(dir, file), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

async function startDemo(): Promise<Demo> {
  const child = spawn(
    process.execPath,
    [
      'bin/lastcall.js',
      'demo',
      '--minutes',
      '5',
      '--sandbox-port',
      new URL(inboxUrl).port,
      '--tick-every',
      '1',
    ],
    { cwd: copy, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const run: Demo = { child, output: '' };
  const collect = (chunk: Buffer) => {
    run.output += chunk.toString('utf8');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  await waitFor(
    'the demo to start',
    // The banner's last line: the whole banner is out.
    () => run.output.includes('campaign stats demo') || child.exitCode !== null,
    90_000,
    100,
  );
  if (child.exitCode !== null) throw new Error(`lastcall demo exited with ${child.exitCode}:\n${run.output}`);
  return run;
}

/** The running demo's variables, as `.env.demo` in its data folder has them (dotenv reads it). */
function demoEnv(): Record<string, string> {
  const file = join(copy, '.lastcall-demo', '.env.demo');
  expect(demo.output).toContain(`CLI beside it   set -a; . '${file}'; set +a`);
  return parseDotenv(readFileSync(file));
}

async function stopDemo(run: Demo): Promise<number | null> {
  if (run.child.exitCode !== null) return run.child.exitCode;
  const exited = new Promise<number | null>((resolve) => run.child.once('exit', (code) => resolve(code)));
  run.child.kill('SIGTERM');
  return exited;
}

async function inbox(): Promise<{ conversations: Conversation[]; mailboxes: Mailbox[] }> {
  // No ?to=: reading the state must not mark anything read.
  return (await fetch(`${inboxUrl}/inbox/api/state`)).json() as Promise<{
    conversations: Conversation[];
    mailboxes: Mailbox[];
  }>;
}

/** The page as it is, full length, at a desktop and a phone width. */
async function shoot(page: Page, name: string): Promise<void> {
  for (const [width, height] of [
    [1280, 900],
    [390, 844],
  ] as const) {
    await page.setViewportSize({ width, height });
    await page.screenshot({ path: join(SHOTS, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

beforeAll(async () => {
  requireChromium();
  mkdirSync(SHOTS, { recursive: true });
  copy = copyTree();
  const [httpPort, sandboxPort, closedPg, closedRedis] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  base = `http://127.0.0.1:${httpPort}`;
  inboxUrl = `http://127.0.0.1:${sandboxPort}`;
  env = {
    PATH: process.env.PATH ?? '',
    // Nothing listens there: the demo must start its own.
    DATABASE_URL: `postgres://postgres@127.0.0.1:${closedPg}/lastcall`,
    REDIS_URL: `redis://127.0.0.1:${closedRedis}`,
    HTTP_PORT: String(httpPort),
    PUBLIC_URL: base,
    LOG_LEVEL: 'warn',
  };
  // Chromium starts while the demo does; afterAll closes whichever started.
  const [started, launched] = await Promise.allSettled([startDemo(), launchChromium()]);
  if (launched.status === 'fulfilled') browser = launched.value;
  if (started.status === 'rejected') throw started.reason;
  demo = started.value;
  if (launched.status === 'rejected') throw launched.reason;
  db = openDb({ databaseUrl: demoEnv().DATABASE_URL! }, { max: 2 });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await db?.close();
  if (demo) await stopDemo(demo);
  if (copy) rmSync(copy, { recursive: true, force: true });
}, 60_000);

describe('npm run demo without Docker, PostgreSQL or Redis running', () => {
  it('starts private servers in its data folder and says where to click', () => {
    const data = join(copy, '.lastcall-demo');
    expect(demo.output).toContain(`private PostgreSQL (`);
    expect(demo.output).toContain(`data in ${join(data, 'postgres')}`);
    expect(demo.output).toContain(`private Redis (`);
    expect(demo.output).toContain(`data folder     ${data} (re-used by the next run`);
    expect(demo.output).toContain(`1. sign up      ${base}/subscribe/demo`);
    expect(demo.output).toContain(`2. inbox        http://localhost:${new URL(inboxUrl).port}/`);
    expect(demo.output).toMatch(
      /queue board {5}http:\/\/127\.0\.0\.1:\d+\/admin\/queues\?token=[0-9a-f]{32}/,
    );
    expect(demo.output).toContain('email           to the sandbox inbox (its mail catcher)');
  });

  it('shows a WhatsApp message and an email in the sandbox inbox', async () => {
    const state = await waitFor(
      'a first notice on both channels',
      async () => {
        const s = await inbox();
        return s.conversations.length > 0 && s.mailboxes.length > 0 ? s : undefined;
      },
      90_000,
      250,
    );
    expect(state.conversations[0]!.messages[0]).toMatchObject({ direction: 'out' });
    expect(state.mailboxes[0]!.mails[0]!.subject).not.toBe('');
  }, 100_000);

  it('walks the tour in one tab: sign up, confirm, reminders, STOP, one-click unsubscribe', async () => {
    const context = await browser.newContext({
      locale: 'en-GB',
      timezoneId: 'Europe/Paris',
      viewport: { width: 1280, height: 900 },
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));

    await page.goto(`${base}/`);
    expect(page.url()).toBe(`${base}/subscribe`);
    await shoot(page, '01-subscribe-list');
    await page.getByRole('link', { name: /^Demo:/ }).click();
    await page.waitForURL(/\/subscribe\/demo/);
    // The deadline in the visitor's zone (Paris), written by the page's script.
    expect(await page.locator('time.local').first().textContent()).toMatch(/CET|GMT\+1|UTC\+1/);
    await shoot(page, '02-campaign-page');

    await page.getByLabel('Your name').fill(VISITOR.name);
    await page.getByLabel(/WhatsApp phone number/).fill(VISITOR.phone);
    await page.getByLabel(/Email address/).fill(VISITOR.email);
    await page.getByLabel('Both').check();
    await page.getByLabel('WhatsApp', { exact: true }).check();
    await page.getByLabel('Email', { exact: true }).check();
    await page.locator('#consent').check();
    expect(await page.locator('label[for="consent"]').textContent()).toContain('from Lastcall demo,');
    await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Sign me up' }).click()]);
    expect(await page.locator('h1').textContent()).toBe('Thank you, you are signed up');
    await shoot(page, '03-signed-up');

    // The confirmation mail, in the sandbox inbox, in the same tab.
    await page.goto(`${inboxUrl}/?to=${encodeURIComponent(VISITOR.email)}`);
    // The mail shows its HTML part in a sandboxed frame (its links open a new tab); the same link
    // is in the plain-text part below it, followed here in the same tab.
    await page.locator('iframe.mail-html').first().waitFor({ timeout: 30_000 });
    const confirmLink = page.locator('.mail-body a[href*="/confirm/"]').first();
    await confirmLink.waitFor({ state: 'attached', timeout: 30_000 });
    await shoot(page, '04-inbox-confirmation-mail');
    await page.goto((await confirmLink.getAttribute('href'))!);
    await page.waitForURL(/\/confirm\//);
    expect(await page.locator('h1').textContent()).toBe('Email address confirmed');
    await shoot(page, '05-confirmed');

    // A reminder on both channels: the catch-up of the step the visitor joined after.
    await page.goto(`${inboxUrl}/?to=${VISITOR.digits}`);
    await page.locator('.msg.from-lastcall').first().waitFor({ timeout: 150_000 });
    expect(await page.locator('.msg.from-lastcall .body').first().textContent()).toContain(
      'Hello Nora Visitor,',
    );
    await shoot(page, '06-inbox-whatsapp-reminder');
    await Promise.all([
      page.waitForEvent('load'),
      page.getByRole('button', { name: 'STOP', exact: true }).click(),
    ]);
    await page
      .locator('.msg.from-subscriber', { hasText: 'Lastcall answered 200' })
      .waitFor({ timeout: 20_000 });

    await page.goto(`${inboxUrl}/?to=${encodeURIComponent(VISITOR.email)}`);
    const reminder = page.locator('.mail', { hasNot: page.locator('a[href*="/confirm/"]') });
    await reminder.first().waitFor({ timeout: 150_000 });
    await shoot(page, '07-inbox-email-reminder');
    await Promise.all([
      page.waitForEvent('load'),
      reminder
        .first()
        .getByRole('button', { name: /Unsubscribe \(one click/ })
        .click(),
    ]);
    expect(await page.locator('.one-click-result').first().textContent()).toContain('Lastcall answered 200');
    await shoot(page, '08-inbox-unsubscribed');

    // The help page the reminders link to, and the board's sign-in, as a browser sees them.
    await page.goto(`${base}/help?campaign=demo&lang=en`);
    expect(await page.locator('h1').textContent()).toMatch(/^Demo:/);
    await shoot(page, '09-help');
    await page.goto(`${base}/admin/queues`);
    expect(await page.locator('h1').textContent()).toBe('Lastcall queues');
    await shoot(page, '10-board-sign-in');

    expect(errors).toEqual([]);
    await context.close();
  }, 420_000);

  it('runs the CLI beside it with the variables of .env.demo: doctor, stats, send-test', async () => {
    const file = join(copy, '.lastcall-demo', '.env.demo');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const vars = demoEnv();
    const [doctor, stats] = await Promise.all([
      runCli(['doctor'], vars),
      runCli(['campaign', 'stats', 'demo'], vars),
    ]);
    expect(doctor.stdout).toContain('all required checks passed');
    expect(doctor.code).toBe(0);
    expect(stats.code).toBe(0);
    expect(stats.stdout).toContain('demo (');
    const sent = await runCli(
      ['send-test', '--campaign', 'demo', '--step', 'm2', '--to', '+33 6 99 88 77 66'],
      vars,
    );
    expect(sent.stderr).toBe('');
    expect(sent.code).toBe(0);
    const state = await waitFor(
      'the test message in the sandbox inbox',
      async () => {
        const s = await inbox();
        return s.conversations.find((c) => c.digits === '33699887766');
      },
      30_000,
      250,
    );
    expect(state.messages.at(-1)).toMatchObject({ direction: 'out' });
  }, 120_000);

  // After the CLI test, which runs while the demo's clock comes to m2 (its send-test of m2 is a
  // 'test' delivery, not counted here).
  it('sends the next step (m2) to the demo subscribers, and to neither channel of the visitor', async () => {
    const visitor = await db!.one<{ id: string }>('SELECT id FROM subscribers WHERE email = $1', [
      VISITOR.email,
    ]);
    await waitFor(
      'step m2 sent to the demo subscribers',
      async () => {
        const sent = await db!.one<{ n: number }>(
          `SELECT count(*)::int AS n FROM deliveries
            WHERE campaign_id = 'demo' AND step_id = 'm2' AND kind <> 'test'
              AND status IN ('sent', 'delivered', 'read')`,
        );
        return (sent?.n ?? 0) > 0 ? true : undefined;
      },
      200_000,
      1_000,
    );
    const visitorDeliveries = await db!.query<{ step_id: string; channel: string; status: string }>(
      `SELECT step_id, channel, status FROM deliveries WHERE subscriber_id = $1 AND status IN ('sent', 'delivered', 'read') ORDER BY step_id, channel`,
      [visitor!.id],
    );
    expect(visitorDeliveries.map((d) => `${d.step_id}/${d.channel}`)).toEqual([
      'start/email',
      'start/whatsapp',
    ]);
    const states = await db!.query<{ channel: string; state: string }>(
      'SELECT channel, state FROM subscriber_channels WHERE subscriber_id = $1 ORDER BY channel',
      [visitor!.id],
    );
    expect(states).toEqual([
      { channel: 'email', state: 'unsubscribed' },
      { channel: 'whatsapp', state: 'stopped' },
    ]);
  }, 220_000);

  it('stops cleanly, and a second start re-uses the data folder', async () => {
    expect(await stopDemo(demo)).toBe(0);
    await db?.close();
    db = undefined;
    demo = await startDemo();
    expect(demo.output).toContain(`re-using ${join(copy, '.lastcall-demo', 'postgres')}`);
    expect(demo.output).toMatch(/replaced and started campaign "demo"/);
    db = openDb({ databaseUrl: demoEnv().DATABASE_URL! }, { max: 2 });
    // The visitor's sign-up survived the restart.
    expect(await db.one('SELECT tags FROM subscribers WHERE email = $1', [VISITOR.email])).toEqual({
      tags: ['demo'],
    });
    expect(await stopDemo(demo)).toBe(0);
  }, 150_000);
});
