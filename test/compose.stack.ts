// The Docker Compose stack run for real (`npm run test:compose`, a step of .ci/run; not part of
// `npm test`): the image built from this tree, the stack up on free host ports under a project
// name of its own, then, against the real containers: every service healthy, the published
// pages, `cli doctor`, the demo profile's campaign on both channels, three workers sending
// nothing twice, a worker SIGKILLed mid-step and Redis restarted, `down` + `up` keeping the data,
// `down -v` leaving nothing. docs/docker.md says what it needs and how long it takes.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_SUBSCRIBERS } from '../src/demo/demo-subscribers.ts';
import { en } from '../src/http/i18n.en.ts';
import {
  type ComposeContainer,
  ensureBaseImages,
  ensureEngine,
  freePorts,
  leftovers,
  parsePs,
  ROOT,
  removeLeftovers,
  run,
  tail,
} from './support/compose.ts';
import { digits, waitFor } from './support/delivery.ts';

const MINUTE = 60_000;
const PROJECT = `lastcall-compose-test-${process.pid}-${randomBytes(3).toString('hex')}`;
const ADMIN = 'development-admin-token'; // the stack's development mode (no .env)
const LONG_RUNNING = ['api', 'mailpit', 'postgres', 'redis', 'sandbox', 'worker'];
/** The images the Dockerfile builds from and the compose file runs, but its own. */
function baseImages(): string[] {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const stages = [...dockerfile.matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map((m) => m[1]);
  const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)/gim)].map((m) => m[1]);
  const runs = [
    ...readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8').matchAll(/^\s+image:\s*(\S+)/gm),
  ].map((m) => m[1]);
  return [...new Set([...froms, ...runs])].filter(
    (i): i is string => !!i && !stages.includes(i) && i !== 'lastcall:local',
  );
}
const log = (line: string) => console.log(`[compose ${new Date().toISOString().slice(11, 19)}] ${line}`);

let env: NodeJS.ProcessEnv;
let urls: { api: string; sandbox: string; mailpit: string };

/** `docker compose` on this test's project; every profile named where a command must see them all. */
const compose = (args: readonly string[], timeoutMs = 300_000) =>
  run('docker', ['compose', '--project-name', PROJECT, '--file', join(ROOT, 'docker-compose.yml'), ...args], {
    env,
    timeoutMs,
  });
const mustCompose = async (args: readonly string[], timeoutMs = 300_000) => {
  const result = await compose(args, timeoutMs);
  if (result.code !== 0)
    throw new Error(
      `docker compose ${args.join(' ')} exited ${result.code}:\n${tail(`${result.stdout}\n${result.stderr}`)}`,
    );
  return result;
};
const ALL_PROFILES = ['--profile', 'demo', '--profile', 'cli'];
const UP = ['up', '--detach', '--wait', '--wait-timeout', '600'];

async function containers(service?: string): Promise<ComposeContainer[]> {
  const out = await mustCompose([
    ...ALL_PROFILES,
    'ps',
    '--all',
    '--format',
    'json',
    ...(service ? [service] : []),
  ]);
  return parsePs(out.stdout);
}

async function http(url: string, init: RequestInit = {}) {
  const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(20_000), ...init });
  return { status: res.status, headers: res.headers, text: await res.text() };
}
async function api<T = unknown>(path: string, init: { method?: string; body?: unknown } = {}) {
  const res = await http(`${urls.api}/api/v1${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${ADMIN}`,
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return { status: res.status, json: (res.text ? JSON.parse(res.text) : undefined) as T };
}

interface StepStats {
  step: string;
  channel: string;
  planned: number;
  queued: number;
  sent: number;
  failed: number;
  skipped: number;
  unknown: number;
}
const stats = async (campaign: string) =>
  (await api<{ steps: StepStats[] }>(`/campaigns/${campaign}/stats`)).json.steps;

interface Delivery {
  id: number;
  step: string;
  subscriberId: string | null;
  channel: 'whatsapp' | 'email';
  status: string;
}
async function deliveries(campaign: string): Promise<Delivery[]> {
  const all: Delivery[] = [];
  let cursor: string | null = null;
  do {
    const page: { json: { items: Delivery[]; nextCursor: string | null } } = await api(
      `/campaigns/${campaign}/deliveries?limit=500${cursor ? `&cursor=${cursor}` : ''}`,
    );
    all.push(...page.json.items);
    cursor = page.json.nextCursor;
  } while (cursor !== null);
  return all;
}
async function subscribers(): Promise<unknown[]> {
  const all: unknown[] = [];
  let cursor: string | null = null;
  do {
    const page: { json: { items: unknown[]; nextCursor: string | null } } = await api(
      `/subscribers?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    all.push(...page.json.items);
    cursor = page.json.nextCursor;
  } while (cursor !== null);
  return all;
}

/** Every email Mailpit caught: recipient, and the delivery its Message-ID names (<delivery-ID.campaign@host>). */
async function mails(): Promise<{ to: string; delivery: number | undefined }[]> {
  const body = JSON.parse((await http(`${urls.mailpit}/api/v1/messages?limit=5000`)).text) as {
    messages: { To: { Address: string }[]; MessageID: string }[];
  };
  return body.messages.flatMap((m) => {
    const delivery = m.MessageID.match(/^<?delivery-(\d+)\./)?.[1];
    return m.To.map((t) => ({
      to: t.Address.toLowerCase(),
      delivery: delivery ? Number(delivery) : undefined,
    }));
  });
}
/** Every WhatsApp message the sandbox accepted from Lastcall: recipient digits and template. */
async function whatsapps(): Promise<{ to: string; template: string }[]> {
  const state = JSON.parse((await http(`${urls.sandbox}/inbox/api/state`)).text) as {
    conversations: { digits: string; messages: { direction: string; template?: { name: string } }[] }[];
  };
  return state.conversations.flatMap((c) =>
    c.messages
      .filter((m) => m.direction === 'out')
      .map((m) => ({ to: c.digits, template: m.template?.name ?? '' })),
  );
}
/** How many times each key occurs. */
const tally = (keys: readonly string[]) => {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return counts;
};

beforeAll(async () => {
  // A .env would reach the containers (env_file) and the compose file's defaults: real
  // credentials, real providers. This test runs the development stack only.
  if (existsSync(join(ROOT, '.env')))
    throw new Error(
      'a .env is in the repository: the compose test would read it; move it away and run again',
    );
  await ensureEngine(log);
  await ensureBaseImages(baseImages(), log);
  const [apiPort, sandboxPort, mailpitPort] = await freePorts(3);
  env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => /^(DOCKER_|BUILDKIT_)/.test(k))),
    LASTCALL_API_PORT: String(apiPort),
    LASTCALL_SANDBOX_PORT: String(sandboxPort),
    LASTCALL_MAILPIT_PORT: String(mailpitPort),
    // Slow senders, so that a step takes long enough to be interrupted in its middle.
    EMAIL_RATE: '2',
    WHATSAPP_RATE: '2',
  };
  urls = {
    api: `http://127.0.0.1:${apiPort}`,
    sandbox: `http://127.0.0.1:${sandboxPort}`,
    mailpit: `http://127.0.0.1:${mailpitPort}`,
  };
  log(`project ${PROJECT}: api :${apiPort}, sandbox :${sandboxPort}, mailpit :${mailpitPort}`);
  log('building the image (docker compose build)');
  await mustCompose(['build'], 1_800_000);
  // The image this build replaced, now untagged (a CI machine would pile them up).
  await run('docker', [
    'image',
    'prune',
    '--force',
    '--filter',
    'label=org.opencontainers.image.title=lastcall',
  ]);
}, 3_600_000);

afterAll(async () => {
  if (env === undefined) return;
  await compose([...ALL_PROFILES, 'down', '--volumes', '--remove-orphans', '--timeout', '10'], 300_000).catch(
    () => {},
  );
  await removeLeftovers(PROJECT).catch(() => {});
}, 600_000);

beforeEach(({ onTestFailed }) => {
  onTestFailed(async () => {
    const ps = await compose([...ALL_PROFILES, 'ps', '--all'], 60_000).catch(() => undefined);
    const logs = await compose([...ALL_PROFILES, 'logs', '--no-color', '--tail', '40'], 60_000).catch(
      () => undefined,
    );
    console.error(
      `--- docker compose ps --all\n${ps?.stdout ?? ''}\n--- docker compose logs --tail 40\n${tail(logs?.stdout ?? '', 300)}`,
    );
  });
});

describe('the compose stack, for real', () => {
  it('starts every service healthy, after migrate exited 0', async () => {
    await mustCompose(UP, 900_000);
    const all = await containers();
    const byService = new Map(all.map((c) => [c.Service, c]));
    expect([...byService.keys()].sort()).toEqual([...LONG_RUNNING, 'migrate'].sort());
    for (const service of LONG_RUNNING) {
      expect(byService.get(service), service).toMatchObject({ State: 'running', Health: 'healthy' });
    }
    expect(byService.get('migrate')).toMatchObject({ State: 'exited', ExitCode: 0 });
  }, 1_200_000);

  it('answers on the published ports: health, sign-up, console sign-in, sandbox, Mailpit', async () => {
    const health = await http(`${urls.api}/healthz`);
    expect(health.status).toBe(200);
    expect(JSON.parse(health.text)).toMatchObject({ status: 'ok', postgres: 'ok', redis: 'ok' });

    // No campaign yet: the sign-up page says none is open (the demo's own page is checked below).
    const subscribe = await http(`${urls.api}/subscribe?lang=en`);
    expect(subscribe.status).toBe(200);
    expect(subscribe.text).toContain(`<h1>${en.campaign.noneTitle}</h1>`);

    const signInPage = await http(`${urls.api}/console/sign-in`);
    expect(signInPage.status).toBe(200);
    expect(signInPage.text).toContain('name="key"');
    const signIn = await http(`${urls.api}/console/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ key: ADMIN, next: '/console/campaigns' }).toString(),
    });
    expect(signIn.status).toBe(303);
    expect(signIn.headers.get('location')).toBe('/console/campaigns');
    const cookie = signIn.headers.get('set-cookie')?.split(';')[0] ?? '';
    expect(cookie).not.toBe('');
    const console_ = await http(`${urls.api}/console/campaigns`, { headers: { cookie } });
    expect(console_.status).toBe(200);
    expect(console_.headers.get('content-type')).toContain('text/html');

    expect(JSON.parse((await http(`${urls.sandbox}/healthz`)).text)).toEqual({ status: 'ok' });
    const inbox = await http(`${urls.sandbox}/`);
    expect(inbox.status).toBe(200);
    expect(inbox.headers.get('content-type')).toContain('text/html');
    const mailpit = await http(`${urls.mailpit}/api/v1/messages`);
    expect(mailpit.status).toBe(200);
    expect(JSON.parse(mailpit.text)).toMatchObject({ total: 0 });
  });

  it('passes cli doctor', async () => {
    const doctor = await compose(['run', '--rm', 'cli', 'doctor'], 300_000);
    expect(doctor.code, `${doctor.stdout}\n${doctor.stderr}`).toBe(0);
    expect(doctor.stdout).toContain('all required checks passed');
    expect(doctor.stdout).toMatch(/✓ Redis eviction policy +maxmemory-policy is noeviction/);
  }, 600_000);

  it("sends the demo profile's first notice on both channels, once each", async () => {
    await mustCompose(['--profile', 'demo', 'up', '--detach', 'demo-seed'], 600_000);
    const seed = await waitFor(
      'demo-seed to exit',
      async () => {
        const [c] = await containers('demo-seed');
        if (c?.State !== 'exited') throw new Error(`demo-seed is ${c?.State ?? 'missing'}`);
        return c;
      },
      300_000,
      1_000,
    );
    expect(seed.ExitCode, (await compose(['--profile', 'demo', 'logs', 'demo-seed'])).stdout).toBe(0);
    // The demo campaign is open for sign-up: listed, with its own form.
    expect((await http(`${urls.api}/subscribe?lang=en`)).text).toContain('href="/subscribe/demo?lang=en"');
    const signUp = await http(`${urls.api}/subscribe/demo?lang=en`);
    expect(signUp.status).toBe(200);
    expect(signUp.text).toMatch(/<form[^>]+method="post"/i);

    const emails = DEMO_SUBSCRIBERS.filter((s) => s.channels.includes('email')).map((s) => s.email);
    const phones = DEMO_SUBSCRIBERS.filter((s) => s.channels.includes('whatsapp')).map((s) =>
      digits(s.phone),
    );
    // The first notice goes out at the next tick (every minute).
    await waitFor(
      'the first notice in Mailpit and the sandbox',
      async () => {
        const steps = (await stats('demo')).filter((s) => s.step === 'start');
        const [m, w] = [await mails(), await whatsapps()];
        const done =
          steps.length === 2 && steps.every((s) => s.queued === 0 && s.sent === s.planned && s.planned > 0);
        if (!done || m.length < emails.length || w.length < phones.length)
          throw new Error(`${JSON.stringify(steps)}; ${m.length} mails, ${w.length} WhatsApp`);
        return true;
      },
      300_000,
      2_000,
    );
    const m = await mails();
    const w = await whatsapps();
    expect([...tally(m.map((x) => x.to)).entries()].sort()).toEqual(emails.sort().map((e) => [e, 1]));
    expect([...tally(w.map((x) => x.to)).entries()].sort()).toEqual(phones.sort().map((p) => [p, 1]));
    expect(new Set(w.map((x) => x.template))).toEqual(new Set(['lastcall_ai_assistants_first_notice']));
  }, 900_000);

  // A campaign of its own for the next two tests: 30 people on both channels, a first step sent
  // at the next minute (a catch-up), a second one a minute later.
  const PEOPLE = Array.from({ length: 30 }, (_, i) => ({
    id: `compose-${i}`,
    name: `Compose ${i}`,
    phone: `+3361${String(2_000_000 + i).padStart(7, '0')}`,
    email: `compose.${i}@example.org`,
    locale: 'en',
    timezone: 'Europe/Paris',
    assistant: 'chatgpt',
    channels: ['whatsapp', 'email'],
    tags: ['compose'],
    consent_at: new Date(Date.now() - 24 * 3_600_000).toISOString(),
    consent_source: 'compose test',
  }));
  const EMAILS = new Set(PEOPLE.map((p) => p.email));
  const PHONES = new Set(PEOPLE.map((p) => digits(p.phone)));
  const ours = async () => ({
    mails: (await mails()).filter((x) => EMAILS.has(x.to)),
    whatsapps: (await whatsapps()).filter((x) => PHONES.has(x.to)),
  });
  let firstMails = new Set<number>();
  let firstTemplate = '';

  it('with --scale worker=3, sends nothing twice', async () => {
    await mustCompose([...UP, '--scale', 'worker=3'], 900_000);
    const workers = await containers('worker');
    expect(workers.map((c) => [c.State, c.Health])).toEqual([
      ['running', 'healthy'],
      ['running', 'healthy'],
      ['running', 'healthy'],
    ]);

    for (let i = 0; i < PEOPLE.length; i += 6) {
      const answers = await Promise.all(
        PEOPLE.slice(i, i + 6).map(({ id, ...fields }) =>
          api(`/subscribers/${id}`, { method: 'PUT', body: fields }),
        ),
      );
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 201));
    }
    // Late in a minute, wait for the next one: the catch-up (next minute) and the second step
    // (the one after) must not land on the same minute.
    const intoMinute = Date.now() % MINUTE;
    if (intoMinute > 40_000) await new Promise((r) => setTimeout(r, MINUTE - intoMinute + 1_000));
    const minute = Math.floor(Date.now() / MINUTE) * MINUTE;
    const campaign = {
      id: 'compose-run',
      name: 'Compose test: two steps a minute apart',
      deadline: new Date(minute + 5 * MINUTE).toISOString(),
      window: { start: '00:00', end: '23:59' },
      catchUp: { minGap: 'PT1S' },
      audience: { tags: ['compose'] },
      steps: [
        { id: 'first', before: 'PT5M', channels: ['whatsapp', 'email'], template: 'one-week' },
        { id: 'second', before: 'PT3M', channels: ['whatsapp', 'email'], template: 'last-day' },
      ],
    };
    expect((await api('/campaigns/compose-run', { method: 'PUT', body: campaign })).status).toBe(201);
    const started = await api<{ started: boolean; reach: number }>('/campaigns/compose-run/start', {
      method: 'POST',
    });
    expect(started.json).toMatchObject({ started: true, reach: 2 * PEOPLE.length });

    await waitFor(
      'the first step sent by three workers',
      async () => {
        const first = (await stats('compose-run')).filter((s) => s.step === 'first');
        if (!first.every((s) => s.queued === 0 && s.sent === PEOPLE.length))
          throw new Error(JSON.stringify(first));
        return true;
      },
      300_000,
      1_000,
    );
    const got = await ours();
    // Each person once on each channel, all of the first step: each email names its delivery.
    const firstDeliveries = (await deliveries('compose-run')).filter((d) => d.step === 'first');
    firstMails = new Set(firstDeliveries.filter((d) => d.channel === 'email').map((d) => d.id));
    expect([...tally(got.mails.map((x) => x.to)).values()]).toEqual(PEOPLE.map(() => 1));
    expect(got.mails.map((x) => x.delivery).sort()).toEqual([...firstMails].sort());
    expect([...tally(got.whatsapps.map((x) => x.to)).values()]).toEqual(PEOPLE.map(() => 1));
    expect(new Set(got.whatsapps.map((x) => x.template)).size).toBe(1);
    firstTemplate = got.whatsapps[0]!.template;
    for (const s of (await stats('compose-run')).filter((s) => s.step === 'first'))
      expect(s).toMatchObject({ failed: 0, unknown: 0, skipped: 0 });

    // Which copies sent them (each copy's own counters at :9464/metrics on the compose network).
    const shares: string[] = [];
    for (const index of [1, 2, 3]) {
      const metrics = await compose([
        'exec',
        '-T',
        '--index',
        String(index),
        'worker',
        'node',
        '-e',
        "fetch('http://127.0.0.1:9464/metrics').then(r=>r.text()).then(t=>console.log(t))",
      ]);
      const sends = [...metrics.stdout.matchAll(/^lastcall_sends_total\{[^}]*\} (\d+)/gm)].reduce(
        (sum, m) => sum + Number(m[1]),
        0,
      );
      shares.push(`worker ${index}: ${sends}`);
    }
    log(`sends per worker copy (demo included): ${shares.join(', ')}`);
  }, 1_200_000);

  it('after a worker SIGKILLed mid-step and a Redis restart, the reminders still arrive, once', async () => {
    const second = async () => (await stats('compose-run')).filter((s) => s.step === 'second');
    await waitFor(
      'the second step to begin',
      async () => (await second()).some((s) => s.sent > 0) || undefined,
      300_000,
      250,
    );
    await mustCompose(['kill', '--signal', 'KILL', 'worker']);
    const atKill = (await deliveries('compose-run')).filter((d) => d.step === 'second');
    const inFlight = new Set(atKill.filter((d) => d.status === 'sending').map((d) => d.id));
    const sentAtKill = atKill.filter((d) => ['sent', 'delivered', 'read'].includes(d.status)).length;
    log(`killed the workers with ${sentAtKill} of ${atKill.length} sent, ${inFlight.size} in flight`);
    // The kill came in the middle of the step.
    expect(atKill).toHaveLength(2 * PEOPLE.length);
    expect(sentAtKill).toBeGreaterThan(0);
    expect(sentAtKill).toBeLessThan(atKill.length - inFlight.size);

    await mustCompose(['restart', 'redis'], 300_000);
    await mustCompose([...UP, '--scale', 'worker=3'], 900_000);
    await waitFor(
      'the second step to settle',
      async () => {
        const s = await second();
        if (!s.every((x) => x.queued === 0 && x.sent + x.unknown === PEOPLE.length))
          throw new Error(JSON.stringify(s));
        return true;
      },
      420_000,
      2_000,
    );

    const after = (await deliveries('compose-run')).filter((d) => d.step === 'second');
    // What was not in the hands of a killed sender was sent; what was is `unknown` (the provider
    // may have taken it: never sent again), and nothing else.
    for (const d of after) {
      if (inFlight.has(d.id))
        expect(['sent', 'delivered', 'read', 'unknown'], `delivery ${d.id}`).toContain(d.status);
      else expect(['sent', 'delivered', 'read'], `delivery ${d.id}`).toContain(d.status);
    }
    const got = await ours();
    const secondIds = new Set(after.filter((d) => d.channel === 'email').map((d) => d.id));
    const secondMails = got.mails.filter((x) => x.delivery !== undefined && secondIds.has(x.delivery));
    // Every email of ours belongs to one of the two steps.
    expect(
      got.mails.filter((x) => !firstMails.has(x.delivery ?? -1) && !secondIds.has(x.delivery ?? -1)),
    ).toEqual([]);
    const secondWhatsapps = got.whatsapps.filter((x) => x.template !== firstTemplate);
    const person = new Map(PEOPLE.map((p) => [p.id, p]));
    const expected = (channel: string, key: (p: (typeof PEOPLE)[number]) => string) => {
      const sent = after.filter((d) => d.channel === channel && d.status !== 'unknown');
      const maybe = after.filter((d) => d.channel === channel && d.status === 'unknown');
      return {
        sent: sent.map((d) => key(person.get(d.subscriberId ?? '')!)),
        maybe: maybe.map((d) => key(person.get(d.subscriberId ?? '')!)),
      };
    };
    for (const [got2, want] of [
      [secondMails.map((x) => x.to), expected('email', (p) => p.email)],
      [secondWhatsapps.map((x) => x.to), expected('whatsapp', (p) => digits(p.phone))],
    ] as const) {
      const counts = tally(got2);
      // Nobody twice; everyone sent exactly once; the in-flight ones at most once.
      expect(Math.max(0, ...counts.values())).toBeLessThanOrEqual(1);
      for (const to of want.sent) expect(counts.get(to), to).toBe(1);
      for (const to of counts.keys()) expect([...want.sent, ...want.maybe]).toContain(to);
    }
    // The first step was not sent again by the restarted workers.
    expect(got.mails.filter((x) => firstMails.has(x.delivery ?? -1))).toHaveLength(PEOPLE.length);
    expect(got.whatsapps.filter((x) => x.template === firstTemplate)).toHaveLength(PEOPLE.length);
  }, 1_800_000);

  it('keeps every subscriber and campaign across down and up (volumes)', async () => {
    const campaigns = async () =>
      (await api<{ id: string; name: string; deadline: string }[]>('/campaigns')).json
        .map(({ id, name, deadline }) => ({ id, name, deadline }))
        .sort((a, b) => a.id.localeCompare(b.id));
    // What was sent and what was not (`delivered` and `read` follow the sandbox's webhooks).
    const sends = async () =>
      (await stats('compose-run')).map(({ step, channel, planned, sent, unknown, failed, skipped }) => ({
        step,
        channel,
        planned,
        sent,
        unknown,
        failed,
        skipped,
      }));
    const before = {
      subscribers: await subscribers(),
      campaigns: await campaigns(),
      sends: await sends(),
    };
    expect(before.subscribers).toHaveLength(DEMO_SUBSCRIBERS.length + PEOPLE.length);
    expect(before.campaigns.map((c) => c.id)).toEqual(['compose-run', 'demo']);

    await mustCompose([...ALL_PROFILES, 'down', '--timeout', '30'], 300_000);
    const between = await leftovers(PROJECT);
    expect(between.containers).toEqual([]);
    expect(between.volumes.sort()).toEqual([`${PROJECT}_postgres-data`, `${PROJECT}_redis-data`]);

    await mustCompose(UP, 900_000);
    expect({
      subscribers: await subscribers(),
      campaigns: await campaigns(),
      sends: await sends(),
    }).toEqual(before);
  }, 1_200_000);

  it('leaves nothing after down -v: no container, volume or network of the project', async () => {
    await mustCompose([...ALL_PROFILES, 'down', '--volumes', '--remove-orphans', '--timeout', '30'], 300_000);
    expect(await leftovers(PROJECT)).toEqual({ containers: [], volumes: [], networks: [] });
  }, 600_000);
});
