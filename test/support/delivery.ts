// Shared set-up for the delivery integration tests (test/delivery.*.test.ts): subscribers
// seeded straight into PostgreSQL, a campaign file with minute-scale steps, the fake Graph API's
// templates built from our own message files, and polling helpers (never a fixed sleep).
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { createCampaignService, type StartResult } from '../../src/campaigns/campaign.service.ts';
import { loadMessageTemplates, SHIPPED_MESSAGES_DIR } from '../../src/campaigns/messages.ts';
import type { ServeConfig } from '../../src/config/config.ts';
import { QueueSet } from '../../src/queue/connection.ts';
import type { RunningWorkers } from '../../src/roles/work.ts';
import type { ManualClock } from '../../src/shared/clock.ts';
import type { Channel } from '../../src/shared/vocabulary.ts';
import type { Db, Sql } from '../../src/store/pool.ts';
import { type FakeGraphApi, startFakeGraphApi, type TemplateSeed } from '../fakes/graph-api.ts';
import { type FakeSmtp, startFakeSmtp } from '../fakes/smtp.ts';
import { testConfig } from './config.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { createPrivateTestRedis, createTestRedis, type TestRedis } from './redis.ts';

export interface SeedSubscriber {
  readonly id: string;
  readonly name: string;
  readonly phone: string | null;
  readonly email: string | null;
  readonly locale: 'fr' | 'en';
  readonly timezone: string;
  readonly assistant: 'chatgpt' | 'copilot' | 'both';
  readonly channels: readonly Channel[];
  readonly tags?: readonly string[];
}

export const ZONES = [
  'Europe/Paris',
  'America/New_York',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Pacific/Auckland',
  'UTC',
] as const;

/** `count` subscribers spread over zones, locales, assistants and channel sets. */
export function makeSubscribers(
  count: number,
  zones: readonly string[] = ZONES,
  prefix = 's',
): SeedSubscriber[] {
  const assistants = ['chatgpt', 'copilot', 'both'] as const;
  const channelSets: Channel[][] = [['whatsapp', 'email'], ['whatsapp'], ['email']];
  return Array.from({ length: count }, (_, i) => {
    // Channel sets and zones cycle at different rates, so every zone gets every combination.
    const channels = channelSets[Math.floor(i / zones.length) % channelSets.length]!;
    const n = String(i).padStart(5, '0');
    return {
      id: `${prefix}${n}`,
      name: i % 7 === 0 ? '' : `Abonné ${n}`,
      phone: channels.includes('whatsapp') ? `+3361${String(1_000_000 + i).padStart(7, '0')}` : null,
      email: channels.includes('email') ? `${prefix}${n}@example.test` : null,
      locale: i % 2 === 0 ? 'fr' : 'en',
      timezone: zones[i % zones.length]!,
      assistant: assistants[i % assistants.length]!,
      channels,
    };
  });
}

/** One subscriber with a phone and/or email derived from `n`, French, in Paris unless told. */
export function subscriber(
  id: string,
  n: number,
  channels: readonly Channel[],
  extra: Partial<SeedSubscriber> = {},
): SeedSubscriber {
  return {
    id,
    name: `Camille ${n}`,
    phone: channels.includes('whatsapp') ? `+3362${String(n).padStart(7, '0')}` : null,
    email: channels.includes('email') ? `${id}@example.test` : null,
    locale: 'fr',
    timezone: 'Europe/Paris',
    assistant: 'both',
    channels,
    ...extra,
  };
}

/** Inserts subscribers with active consent (given at `consentAt`) on their channels. */
export async function seedSubscribers(
  sql: Sql,
  subscribers: readonly SeedSubscriber[],
  consentAt: number,
): Promise<void> {
  for (let i = 0; i < subscribers.length; i += 1000) {
    const chunk = subscribers.slice(i, i + 1000);
    await sql.exec(
      `INSERT INTO subscribers (id, name, phone, email, locale, timezone, attributes, tags)
       SELECT id, name, phone, email, locale, timezone, jsonb_build_object('assistant', assistant),
              string_to_array(tags, ',')
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
              AS t(id, name, phone, email, locale, timezone, assistant, tags)`,
      [
        chunk.map((s) => s.id),
        chunk.map((s) => s.name),
        chunk.map((s) => s.phone),
        chunk.map((s) => s.email),
        chunk.map((s) => s.locale),
        chunk.map((s) => s.timezone),
        chunk.map((s) => s.assistant),
        chunk.map((s) => (s.tags ?? []).join(',')),
      ],
    );
    const pairs = chunk.flatMap((s) => s.channels.map((c) => [s.id, c] as const));
    await sql.exec(
      `INSERT INTO subscriber_channels (subscriber_id, channel, state, consent_at)
       SELECT id, channel, 'active', $3 FROM unnest($1::text[], $2::text[]) AS t(id, channel)`,
      [pairs.map((p) => p[0]), pairs.map((p) => p[1]), new Date(consentAt)],
    );
  }
}

export interface CampaignFileOptions {
  readonly id: string;
  readonly deadline: number;
  readonly steps: readonly { id: string; before: string; channels: readonly Channel[]; template: string }[];
  readonly tags?: readonly string[];
  /** audience.where: attribute name → values. */
  readonly where?: Readonly<Record<string, readonly string[]>>;
  /** window.days: the local weekdays with sends. */
  readonly days?: readonly string[];
  /** messagingLimit: spreading steps under WhatsApp's messaging limit. */
  readonly messagingLimit?: { readonly spread: boolean; readonly maxDays?: number };
}

/** Writes a campaign file (window all day, so minute-scale steps are not moved) and returns its path. */
export async function writeCampaignFile(options: CampaignFileOptions): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lastcall-delivery-'));
  const file = join(dir, `${options.id}.yaml`);
  const steps = options.steps
    .map(
      (s) =>
        `  - { id: ${s.id}, before: ${s.before}, channels: [${s.channels.join(', ')}], template: ${s.template} }`,
    )
    .join('\n');
  await writeFile(
    file,
    [
      `id: ${options.id}`,
      `name: "Delivery test ${options.id}"`,
      `deadline: "${new Date(options.deadline).toISOString()}"`,
      'sendAt: "10:00"',
      `window: { start: "00:00", end: "23:59"${options.days ? `, days: [${options.days.join(', ')}]` : ''} }`,
      'catchUp: { minGap: PT1M }',
      `audience: { tags: [${(options.tags ?? []).join(', ')}]${options.where ? `, where: ${JSON.stringify(options.where)}` : ''} }`,
      ...(options.messagingLimit ? [`messagingLimit: ${JSON.stringify(options.messagingLimit)}`] : []),
      'steps:',
      steps,
      '',
    ].join('\n'),
  );
  return file;
}

/** The WhatsApp parts of our message files, registered with the fake as Meta would hold them. */
export async function fakeTemplatesFor(
  templates: readonly string[],
  publicUrl: string,
): Promise<TemplateSeed[]> {
  const seeds: TemplateSeed[] = [];
  for (const name of templates) {
    for (const locale of ['fr', 'en']) {
      const wa = (await loadMessageTemplates(SHIPPED_MESSAGES_DIR, locale, name)).whatsapp;
      if (!wa) continue;
      seeds.push({
        name: wa.name,
        language: wa.language,
        category: wa.category,
        components: [
          { type: 'BODY', text: wa.body, example: { body_text: [wa.params.map((p) => p)] } },
          ...(wa.footer ? [{ type: 'FOOTER' as const, text: wa.footer }] : []),
          ...(wa.button
            ? [
                {
                  type: 'BUTTONS' as const,
                  buttons: [
                    {
                      type: 'URL' as const,
                      text: wa.button.text,
                      url: wa.button.url.replace('{{publicUrl}}', publicUrl),
                      example: [`${publicUrl}/done/example`],
                    },
                  ],
                },
              ]
            : []),
        ],
      });
    }
  }
  return seeds;
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
  everyMs = 50,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > end)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function statusCounts(sql: Sql, campaignId: string): Promise<Record<string, number>> {
  const rows = await sql.query<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM deliveries WHERE campaign_id = $1 GROUP BY status`,
    [campaignId],
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** Deliveries of a campaign still waiting or being sent. */
export async function inFlight(sql: Sql, campaignId: string): Promise<number> {
  const row = await sql.one<{ n: number }>(
    `SELECT count(*)::int AS n FROM deliveries WHERE campaign_id = $1 AND status IN ('queued', 'sending', 'retrying')`,
    [campaignId],
  );
  return row?.n ?? 0;
}

/** Digits of an E.164 number, as the fake Graph API records recipients. */
export const digits = (phone: string): string => phone.replace(/^\+/, '');

/** Real PostgreSQL, Redis (own prefix), fake Graph API and SMTP server, and the env that points
 *  a Config or a `lastcall work` child process at them. */
export interface DeliveryServices {
  readonly database: TestDatabase;
  readonly redis: TestRedis;
  readonly graph: FakeGraphApi;
  readonly smtp: FakeSmtp;
  readonly env: Record<string, string>;
  config(extra?: Record<string, string>): ServeConfig;
  close(): Promise<void>;
}

export const PUBLIC_URL = 'https://lastcall.example.org';
export const MAIL_FROM = 'Lastcall <rappels@lastcall.example.org>';
export const SHIPPED_TEMPLATES = ['first-notice', 'one-week'] as const;

/**
 * `privateRedis`: a Redis of this file's own, which may be flushed (support/redis.ts).
 * `databaseServerUrl`: create the database there (a private server a test restarts) rather
 * than on the shared test server.
 * `viaProxy`: child processes reach the fakes through a TCP relay that turns a connection reset
 * (a worker killed with SIGKILL mid-request) into a clean close, so the in-process fakes, which
 * have no socket error handlers, do not crash the test run.
 */
export async function startDeliveryServices(
  options: { viaProxy?: boolean; privateRedis?: boolean; databaseServerUrl?: string } = {},
): Promise<DeliveryServices> {
  const database = await createTestDatabase(options.databaseServerUrl);
  const redis = options.privateRedis ? await createPrivateTestRedis() : createTestRedis();
  const graph = await startFakeGraphApi({ templates: await fakeTemplatesFor(SHIPPED_TEMPLATES, PUBLIC_URL) });
  const smtp = await startFakeSmtp();
  const relays = options.viaProxy ? [await startRelay(graph.port), await startRelay(smtp.port)] : [];
  const graphUrl = relays[0] ? graph.url.replace(`:${graph.port}`, `:${relays[0].port}`) : graph.url;
  const smtpUrl = relays[1] ? smtp.url.replace(`:${smtp.port}`, `:${relays[1].port}`) : smtp.url;
  const env: Record<string, string> = {
    DATABASE_URL: database.url,
    ...redis.env,
    PUBLIC_URL,
    WHATSAPP_TOKEN: graph.token,
    WHATSAPP_PHONE_NUMBER_ID: graph.phoneNumberId,
    WHATSAPP_APP_SECRET: 'app-secret',
    WHATSAPP_VERIFY_TOKEN: 'verify-token',
    WHATSAPP_API_URL: graphUrl,
    WHATSAPP_RATE: '1000',
    SMTP_URL: smtpUrl,
    MAIL_FROM,
    EMAIL_RATE: '1000',
  };
  return {
    database,
    redis,
    graph,
    smtp,
    env,
    config: (extra = {}) => testConfig({ ...env, ...extra }, 'work'),
    async close() {
      for (const relay of relays) await relay.close();
      await graph.close();
      await smtp.close();
      await redis.cleanup();
      await database.drop();
    },
  };
}

/** This file's delivery services and a producer QueueSet, started before its tests and closed
 *  after them (read `services` and `queues` inside the tests). */
export function useDeliveryServices(): { readonly services: DeliveryServices; readonly queues: QueueSet } {
  const held = {} as { services: DeliveryServices; queues: QueueSet };
  beforeAll(async () => {
    held.services = await startDeliveryServices();
    held.queues = new QueueSet(held.services.config());
  });
  afterAll(async () => {
    await held.queues?.close();
    await held.services?.close();
  });
  return held;
}

interface Relay {
  readonly port: number;
  close(): Promise<void>;
}

async function startRelay(targetPort: number): Promise<Relay> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    // A reset on the worker's side becomes an orderly end towards the fake.
    client.on('error', () => upstream.end());
    client.on('close', () => upstream.end());
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => client.destroy());
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Creates and starts a campaign from a file written with `options`, as the operator would. */
export async function startCampaign(db: Db, options: CampaignFileOptions, now: number): Promise<StartResult> {
  const campaigns = createCampaignService({ db });
  await campaigns.create(await writeCampaignFile(options), now);
  return campaigns.start(options.id, now);
}

/**
 * A campaign whose deadline is 5 minutes after `now` and that was started 6 minutes before
 * `now`: its steps 6 minutes or more before the deadline (PT10M, PT8M…) are due at `now`, later
 * ones (PT3M…) come due minutes later. Returns the deadline.
 */
export async function startDueCampaign(
  db: Db,
  id: string,
  steps: CampaignFileOptions['steps'],
  now: number,
  audience: Pick<CampaignFileOptions, 'tags' | 'where'> = {},
): Promise<number> {
  const deadline = now + 5 * 60_000;
  await startCampaign(db, { id, deadline, steps, ...audience }, deadline - 11 * 60_000);
  return deadline;
}

/** Slots due at `instant` not yet fanned out. */
export async function slotsNotDone(sql: Sql, instant: number): Promise<number> {
  const row = await sql.one<{ n: number }>(
    `SELECT count(*)::int AS n FROM slots WHERE state IN ('pending', 'fanning_out') AND send_at <= $1`,
    [new Date(instant)],
  );
  return row?.n ?? 0;
}

/**
 * One tick of in-process workers at `instant` (it must run), then a wait until the slots due by
 * then are fanned out and, given `settledCampaign`, until none of its deliveries is in flight.
 */
export async function tickAndWait(
  clock: ManualClock,
  workers: RunningWorkers,
  sql: Sql,
  instant: number,
  settledCampaign?: string,
): Promise<void> {
  clock.set(instant);
  expect((await workers.runTick()).ran).toBe(true);
  await waitFor('due slots fanned out', async () => (await slotsNotDone(sql, instant)) === 0);
  if (settledCampaign !== undefined)
    await waitFor('sends settled', async () => (await inFlight(sql, settledCampaign)) === 0);
}

/** Every delivery of a campaign with its subscriber's addresses. */
export async function deliveriesOf(
  sql: Sql,
  campaignId: string,
): Promise<
  {
    id: number;
    subscriber_id: string;
    step_id: string;
    channel: Channel;
    status: string;
    error_code: string | null;
    skip_reason: string | null;
    attempts: number;
    phone: string | null;
    email: string | null;
  }[]
> {
  return sql.query(
    `SELECT d.id, d.subscriber_id, d.step_id, d.channel, d.status, d.error_code, d.skip_reason, d.attempts, s.phone, s.email
       FROM deliveries d LEFT JOIN subscribers s ON s.id = d.subscriber_id
      WHERE d.campaign_id = $1 ORDER BY d.id`,
    [campaignId],
  );
}

export async function attemptsOf(
  sql: Sql,
  deliveryId: number,
): Promise<{ outcome: string; error_code: string | null }[]> {
  return sql.query(`SELECT outcome, error_code FROM delivery_attempts WHERE delivery_id = $1 ORDER BY id`, [
    deliveryId,
  ]);
}

/** A `lastcall work` child process, as production runs it (`node bin/lastcall.js work`). */
export interface WorkerProcess {
  readonly pid: number;
  /** Everything it logged so far (pino JSON lines). */
  output(): string;
  /** False once it has exited (a crash, or stopped). */
  running(): boolean;
  /** SIGKILL (a crash) or SIGTERM (a graceful stop); resolves when it has exited. */
  stop(signal: 'SIGKILL' | 'SIGTERM'): Promise<void>;
}

const WORKER_BIN = join(import.meta.dirname, '..', '..', 'bin', 'lastcall.js');

/**
 * Starts a worker process and waits until it says it is working. `args` are extra `work`
 * options; by default BullMQ's lock is shortened so a killed worker's jobs are taken over fast.
 */
export const FAST_TAKEOVER_ARGS: readonly string[] = [
  '--lock-ms',
  '2000',
  '--stalled-ms',
  '1000',
  '--backoff-ms',
  '50',
];

export async function spawnWorker(
  env: Record<string, string>,
  args: readonly string[] = FAST_TAKEOVER_ARGS,
): Promise<WorkerProcess> {
  return spawnLastcall(['work', ...args], env, '"msg":"working');
}

/** Any `lastcall` command as a child process, ready once its output contains `readyText`. */
export async function spawnLastcall(
  args: readonly string[],
  env: Record<string, string>,
  readyText: string,
): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [WORKER_BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', LASTCALL_ENV: 'development', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await Promise.race([
    // A loaded machine (load ~18 on 2 cores) took 8 s for `lastcall work --help` alone and
    // over 30 s to start a worker (modules, connections, the channel check): docs/testing.md.
    waitFor(`lastcall ${args[0]} to start`, () => output.includes(readyText), 90_000).catch(
      (error: Error) => {
        child.kill('SIGKILL');
        throw new Error(`${error.message}; its output:\n${output.slice(-10_000)}`);
      },
    ),
    exited.then(() => {
      throw new Error(`lastcall ${args[0]} exited at start:\n${output}`);
    }),
  ]);
  return {
    pid: child.pid!,
    output: () => output,
    running: () => child.exitCode === null && child.signalCode === null,
    async stop(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** How many times each delivery reached a provider: WhatsApp messages by their callback data
 *  (the delivery id), emails by their Message-ID (`<delivery-<id>.…>`). */
export function receivedPerDelivery(services: Pick<DeliveryServices, 'graph' | 'smtp'>): Map<number, number> {
  const counts = new Map<number, number>();
  const bump = (id: number) => counts.set(id, (counts.get(id) ?? 0) + 1);
  for (const m of services.graph.sent()) bump(Number(m.callbackData));
  for (const m of services.smtp.messages)
    bump(Number(/^<delivery-(\d+)\./.exec(m.parsed.messageId ?? '')?.[1]));
  return counts;
}
