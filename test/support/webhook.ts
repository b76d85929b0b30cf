// The WhatsApp webhook test harness: signed POSTs to the real server, stored in a real PostgreSQL,
// queued on a real Redis (the test file's own prefix), processed by the real webhook worker,
// replies sent to the fake Graph API. Time is a manual clock; waiting is polling with a deadline.
// Each test file calls `useWebhookHarness()` once; Vitest gives each file its own copy of this
// module, so the bindings below are that file's.
import { Writable } from 'node:stream';
import type { Worker } from 'bullmq';
import { pino } from 'pino';
import { afterAll, beforeAll, expect } from 'vitest';
import type { ServeConfig } from '../../src/config/config.ts';
import { buildServer } from '../../src/http/server.ts';
import { createWorkerConnection, QueueSet } from '../../src/queue/connection.ts';
import type { Services } from '../../src/roles/services.ts';
import { startWebhookWorker } from '../../src/roles/work-webhooks.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import {
  encodeWebhook,
  type FakeGraphApi,
  type StatusInput,
  startFakeGraphApi,
  type WebhookChange,
  type WebhookEncoding,
  webhookPayload,
} from '../fakes/graph-api.ts';
import { testConfig } from './config.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { createTestRedis, type TestRedis } from './redis.ts';
import { testServices } from './services.ts';

export const NOW = Date.parse('2026-05-04T09:30:00Z');
export const SECRET = 'webhook-app-secret-for-tests';
export const VERIFY = 'verify-token-for-tests';
export const at = (minutesBefore: number) => new Date(NOW - minutesBefore * 60_000);
export const meta = { phoneNumberId: '100000000000001', displayPhoneNumber: '15550001111' };

export const PEOPLE = {
  elodie: { id: 'sub-elodie', phone: '+33612345678', locale: 'fr', whatsapp: 'active' },
  sam: { id: 'sub-sam', phone: '+447700900123', locale: 'en', whatsapp: 'active' },
  pref: { id: 'sub-pref', phone: '+33700000003', locale: 'fr', whatsapp: 'active' },
  back: { id: 'sub-back', phone: '+33700000004', locale: 'fr', whatsapp: 'stopped' },
  never: { id: 'sub-never', phone: '+33700000005', locale: 'en', whatsapp: 'pending' },
} as const;
export const digits = (phone: string) => phone.slice(1);

export let database: TestDatabase;
export let redis: TestRedis;
export let graph: FakeGraphApi;
export let config: ServeConfig;
export let queues: QueueSet;
export let app: Awaited<ReturnType<typeof buildServer>>;
export let worker: Worker;
export let services: Services;
export const logs: string[] = [];
export const deliveries: Record<string, number> = {};

/** Registers this file's set-up and tear-down. */
export function useWebhookHarness(): void {
  beforeAll(async () => {
    database = await createTestDatabase();
    redis = createTestRedis();
    graph = await startFakeGraphApi({ phoneNumberId: meta.phoneNumberId });
    config = testConfig(
      {
        DATABASE_URL: database.url,
        ...redis.env,
        WHATSAPP_TOKEN: graph.token,
        WHATSAPP_PHONE_NUMBER_ID: graph.phoneNumberId,
        WHATSAPP_APP_SECRET: SECRET,
        WHATSAPP_VERIFY_TOKEN: VERIFY,
        WHATSAPP_API_URL: graph.url,
      },
      'serve',
    );
    const logger = pino(
      { level: 'debug' },
      new Writable({
        write(chunk, _encoding, done) {
          logs.push(String(chunk));
          done();
        },
      }),
    );
    const clock = new ManualClock(NOW);
    await seed();
    queues = new QueueSet(config);
    services = testServices(config, database.db, { clock, logger });
    app = await buildServer({ config, db: database.db, queues, services, clock, logger });
    await app.ready();
    worker = startWebhookWorker(config, {
      subscriptions: services.subscriptions,
      db: database.db,
      queues,
      connection: createWorkerConnection(config),
      logger,
      clock,
      sweepEveryMs: 3_600_000,
      sweepAfterMs: 0,
    });
  });

  afterAll(async () => {
    await worker?.close();
    await app?.close();
    await services?.close();
    await queues?.close();
    await graph?.close();
    await redis?.cleanup();
    await database?.drop();
  });
}

export async function seed(): Promise<void> {
  const { db } = database;
  await db.exec(
    `INSERT INTO campaigns (id, name, definition, deadline) VALUES ('c1', 'Test', '{}', '2026-06-01T00:00:00Z')`,
  );
  await db.exec(
    `INSERT INTO campaign_steps (campaign_id, step_id, position, before, channels, template)
     VALUES ('c1', 's1', 0, 'P1D', '{whatsapp}', 'first-notice')`,
  );
  for (const p of Object.values(PEOPLE)) {
    await db.exec(
      `INSERT INTO subscribers (id, name, phone, locale, timezone) VALUES ($1, 'X', $2, $3, 'Europe/Paris')`,
      [p.id, p.phone, p.locale],
    );
    await db.exec(
      `INSERT INTO subscriber_channels (subscriber_id, channel, state, consent_at) VALUES ($1, 'whatsapp', $2, $3)`,
      [p.id, p.whatsapp, p.whatsapp === 'pending' ? null : at(10_000)],
    );
    if (p.whatsapp !== 'pending')
      await db.exec(
        `INSERT INTO consent_events (subscriber_id, channel, kind, source, occurred_at) VALUES ($1, 'whatsapp', 'import', 'csv', $2)`,
        [p.id, at(10_000)],
      );
  }
  const rows: [string, string, string | null, string][] = [
    ['elodie', 'sent', 'wamid.E1', 's1'],
    ['sam', 'sent', 'wamid.S1', 's1'],
    ['pref', 'sent', 'wamid.P1', 's1'],
    ['back', 'sending', null, 's1'],
  ];
  for (const [who, status, wamid, step] of rows) {
    const row = await db.one<{ id: number }>(
      `INSERT INTO deliveries (campaign_id, step_id, subscriber_id, channel, kind, status, provider_message_id, sent_at)
       VALUES ('c1', $1, $2, 'whatsapp', 'scheduled', $3, $4, $5) RETURNING id`,
      [step, PEOPLE[who as keyof typeof PEOPLE].id, status, wamid, wamid ? at(60) : null],
    );
    deliveries[who] = row!.id;
  }
}

export function post(body: string | Buffer, signature: string | undefined) {
  return app.inject({
    method: 'POST',
    url: '/webhooks/whatsapp',
    headers: {
      'content-type': 'application/json',
      ...(signature === undefined ? {} : { 'x-hub-signature-256': signature }),
    },
    payload: body,
  });
}

export async function postSigned(changes: WebhookChange[][], encoding: WebhookEncoding = 'meta') {
  const payload = webhookPayload(changes.map((c) => ({ id: 'waba-1', changes: c })));
  const { body, signature } = encodeWebhook(payload, SECRET, encoding);
  const res = await post(body, signature);
  expect(res.statusCode).toBe(200);
  await processed();
  return res;
}

/** Polls until every stored webhook body has been processed by the worker. */
export async function processed(timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await database.db.one<{ n: number }>(
      `SELECT count(*)::int AS n FROM webhook_events WHERE processed_at IS NULL`,
    );
    if (row?.n === 0) return;
    if (Date.now() > deadline) throw new Error(`${row?.n} webhook events still unprocessed`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export const delivery = (who: string) =>
  database.db.one<{
    status: string;
    provider_message_id: string | null;
    sent_at: Date | null;
    delivered_at: Date | null;
    read_at: Date | null;
    failed_at: Date | null;
    error_code: string | null;
    error_detail: string | null;
  }>(`SELECT * FROM deliveries WHERE id = $1`, [deliveries[who]]);

export const whatsappState = async (id: string) =>
  (
    await database.db.one<{ state: string }>(
      `SELECT state FROM subscriber_channels WHERE subscriber_id = $1 AND channel = 'whatsapp'`,
      [id],
    )
  )?.state;

export const textsTo = (phone: string) =>
  graph
    .sent()
    .filter((m) => m.type === 'text' && m.to === digits(phone))
    .map((m) => m.text);

export const eventCount = async () =>
  (await database.db.one<{ n: number }>(`SELECT count(*)::int AS n FROM webhook_events`))?.n;

export const status = (
  id: string,
  s: StatusInput['status'],
  minutesBefore: number,
  extra: Partial<StatusInput> = {},
) => ({ id, status: s, recipientId: '0', at: at(minutesBefore), ...extra }) as StatusInput;
