// The WhatsApp webhook end to end: signed POSTs to the real server, stored in a real PostgreSQL,
// queued on a real Redis (this file's own prefix), processed by the real webhook worker, replies
// sent to the fake Graph API. Time is a manual clock; waiting is polling with a deadline.
import { Writable } from 'node:stream';
import type { Worker } from 'bullmq';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../src/config/config.ts';
import { buildServer } from '../src/http/server.ts';
import { storeEvent } from '../src/inbound/webhook.repository.ts';
import { QUEUES } from '../src/queue/catalog.ts';
import { createWorkerConnection, QueueSet } from '../src/queue/connection.ts';
import { startWebhookWorker } from '../src/roles/work-webhooks.ts';
import { ManualClock } from '../src/shared/clock.ts';
import { createSubscriptionService } from '../src/subscribers/subscription.service.ts';
import {
  encodeWebhook,
  type FakeGraphApi,
  messagesChange,
  type StatusInput,
  startFakeGraphApi,
  statusesChange,
  templateStatusChange,
  userPreferencesChange,
  type WebhookChange,
  type WebhookEncoding,
  webhookPayload,
} from './fakes/graph-api.ts';
import { testConfig } from './support/config.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { createTestRedis, type TestRedis } from './support/redis.ts';
import { freePort } from './support/services/probe.ts';

const NOW = Date.parse('2026-05-04T09:30:00Z');
const SECRET = 'webhook-app-secret-for-tests';
const VERIFY = 'verify-token-for-tests';
const at = (minutesBefore: number) => new Date(NOW - minutesBefore * 60_000);
const meta = { phoneNumberId: '100000000000001', displayPhoneNumber: '15550001111' };

const PEOPLE = {
  elodie: { id: 'sub-elodie', phone: '+33612345678', locale: 'fr', whatsapp: 'active' },
  sam: { id: 'sub-sam', phone: '+447700900123', locale: 'en', whatsapp: 'active' },
  pref: { id: 'sub-pref', phone: '+33700000003', locale: 'fr', whatsapp: 'active' },
  back: { id: 'sub-back', phone: '+33700000004', locale: 'fr', whatsapp: 'stopped' },
  never: { id: 'sub-never', phone: '+33700000005', locale: 'en', whatsapp: 'pending' },
} as const;
const digits = (phone: string) => phone.slice(1);

let database: TestDatabase;
let redis: TestRedis;
let graph: FakeGraphApi;
let config: Config;
let queues: QueueSet;
let app: Awaited<ReturnType<typeof buildServer>>;
let worker: Worker;
const logs: string[] = [];
const deliveries: Record<string, number> = {};

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
  const subscriptions = createSubscriptionService({
    db: database.db,
    secretKey: config.secretKey!,
    consentRecordIp: false,
  });
  app = await buildServer({ config, db: database.db, queues, services: { subscriptions }, clock, logger });
  await app.ready();
  worker = startWebhookWorker(config, {
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
  await queues?.close();
  await graph?.close();
  await redis?.cleanup();
  await database?.drop();
});

async function seed(): Promise<void> {
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
      `INSERT INTO subscribers (id, name, phone, locale, timezone, assistant) VALUES ($1, 'X', $2, $3, 'Europe/Paris', 'both')`,
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

function post(body: string, signature: string | undefined) {
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

async function postSigned(changes: WebhookChange[][], encoding: WebhookEncoding = 'meta') {
  const payload = webhookPayload(changes.map((c) => ({ id: 'waba-1', changes: c })));
  const { body, signature } = encodeWebhook(payload, SECRET, encoding);
  const res = await post(body, signature);
  expect(res.statusCode).toBe(200);
  await processed();
  return res;
}

/** Polls until every stored webhook body has been processed by the worker. */
async function processed(timeoutMs = 15_000): Promise<void> {
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

const delivery = (who: string) =>
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

const whatsappState = async (id: string) =>
  (
    await database.db.one<{ state: string }>(
      `SELECT state FROM subscriber_channels WHERE subscriber_id = $1 AND channel = 'whatsapp'`,
      [id],
    )
  )?.state;

const textsTo = (phone: string) =>
  graph
    .sent()
    .filter((m) => m.type === 'text' && m.to === digits(phone))
    .map((m) => m.text);

const eventCount = async () =>
  (await database.db.one<{ n: number }>(`SELECT count(*)::int AS n FROM webhook_events`))?.n;

const status = (
  id: string,
  s: StatusInput['status'],
  minutesBefore: number,
  extra: Partial<StatusInput> = {},
) => ({ id, status: s, recipientId: '0', at: at(minutesBefore), ...extra }) as StatusInput;

describe('GET /webhooks/whatsapp (handshake)', () => {
  it('answers the challenge as text when the verify token matches', async () => {
    const res = await app.inject({
      url: `/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=${VERIFY}&hub.challenge=1158201444`,
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toBe('1158201444');
  });

  it('refuses a wrong token or mode with 403', async () => {
    for (const query of [
      'hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1',
      `hub.mode=unsubscribe&hub.verify_token=${VERIFY}&hub.challenge=1`,
      'hub.challenge=1',
    ]) {
      const res = await app.inject({ url: `/webhooks/whatsapp?${query}` });
      expect(res.statusCode).toBe(403);
      expect(res.body).not.toContain('1158201444');
    }
  });
});

describe('POST /webhooks/whatsapp', () => {
  it('refuses a missing or bad signature with 401 and records nothing', async () => {
    const payload = webhookPayload([
      {
        id: 'waba-1',
        changes: [
          messagesChange(meta, [
            { kind: 'text', from: digits(PEOPLE.elodie.phone), id: 'in.bad', at: at(5), text: 'ARRÊT' },
          ]),
        ],
      },
    ]);
    const { body, signature } = encodeWebhook(payload, SECRET, 'utf8');
    const { createHmac } = await import('node:crypto');
    const overUtf8Bytes = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
    const otherSecret = encodeWebhook(payload, 'another-secret').signature;
    for (const sig of [undefined, '', 'sha256=00', otherSecret, overUtf8Bytes]) {
      const res = await post(body, sig);
      expect(res.statusCode, String(sig)).toBe(401);
    }
    // The same body, correctly signed, would be accepted: only the signature was wrong.
    expect(signature).not.toBe(overUtf8Bytes);
    expect(await eventCount()).toBe(0);
    const counts = await queues.get(QUEUES.webhooks).getJobCounts();
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
    expect(await whatsappState(PEOPLE.elodie.id)).toBe('active');
    expect(graph.sent()).toHaveLength(0);
  });

  it('applies a whole batch: every status, STOP and FAIT in French with emoji, replies in each language', async () => {
    await postSigned(
      [
        [
          statusesChange(meta, [
            status('wamid.E1', 'delivered', 50),
            status('wamid.S1', 'delivered', 49),
            status('wamid.B1', 'sent', 48, { callbackData: String(deliveries.back) }),
          ]),
          messagesChange(meta, [
            { kind: 'text', from: digits(PEOPLE.elodie.phone), id: 'in.1', at: at(10), text: 'ARRÊT' },
            { kind: 'text', from: digits(PEOPLE.sam.phone), id: 'in.2', at: at(9), text: 'Fait ✅' },
          ]),
        ],
        [
          statusesChange(meta, [
            status('wamid.E1', 'read', 40),
            status('wamid.P1', 'failed', 45, { errors: [{ code: 131026, title: 'Message undeliverable' }] }),
          ]),
          messagesChange(meta, [
            { kind: 'text', from: '33799999999', id: 'in.3', at: at(8), text: 'STOP' },
            { kind: 'text', from: digits(PEOPLE.back.phone), id: 'in.4', at: at(7), text: 'start' },
            { kind: 'text', from: digits(PEOPLE.never.phone), id: 'in.5', at: at(7), text: 'START' },
            {
              kind: 'text',
              from: digits(PEOPLE.elodie.phone),
              id: 'in.6',
              at: at(6),
              text: 'Bonjour, une question',
            },
          ]),
        ],
      ],
      'utf8',
    );

    expect(await delivery('elodie')).toMatchObject({
      status: 'read',
      delivered_at: at(50),
      read_at: at(40),
    });
    expect(await delivery('sam')).toMatchObject({ status: 'delivered', delivered_at: at(49) });
    expect(await delivery('pref')).toMatchObject({
      status: 'failed',
      error_code: '131026',
      error_detail: 'Message undeliverable',
      failed_at: at(45),
    });
    // Found by biz_opaque_callback_data while the sender had not yet written the result.
    expect(await delivery('back')).toMatchObject({ status: 'sent', provider_message_id: 'wamid.B1' });

    expect(await whatsappState(PEOPLE.elodie.id)).toBe('stopped');
    const stopEvent = await database.db.one<{ kind: string; source: string; occurred_at: Date }>(
      `SELECT kind, source, occurred_at FROM consent_events WHERE subscriber_id = $1 AND kind = 'opt_out'`,
      [PEOPLE.elodie.id],
    );
    expect(stopEvent).toEqual({ kind: 'opt_out', source: 'whatsapp-reply', occurred_at: at(10) });
    const sam = await database.db.one<{ done_at: Date | null }>(
      `SELECT done_at FROM subscribers WHERE id = $1`,
      [PEOPLE.sam.id],
    );
    expect(sam?.done_at).toEqual(at(9));
    expect(await whatsappState(PEOPLE.back.id)).toBe('active');
    expect(await whatsappState(PEOPLE.never.id)).toBe('pending');

    expect(textsTo(PEOPLE.elodie.phone)).toEqual([
      expect.stringMatching(/ne recevrez plus nos rappels sur WhatsApp/),
    ]);
    expect(textsTo(PEOPLE.sam.phone)).toEqual([expect.stringMatching(/^Thank you! Noted: you are done/)]);
    expect(textsTo(PEOPLE.back.phone)).toEqual([expect.stringMatching(/sont réactivés/)]);
    expect(textsTo(PEOPLE.never.phone)).toEqual([]);
    expect(textsTo('+33799999999')).toEqual([]);
    expect(graph.sent()).toHaveLength(3);

    // The payload is gone once processed; nothing personal stays in the event row or the logs.
    const rows = await database.db.query<{ payload: unknown; fields: string[] }>(
      `SELECT payload, fields FROM webhook_events`,
    );
    expect(rows).toEqual([{ payload: null, fields: ['messages'] }]);
    const logText = logs.join('');
    for (const p of [...Object.values(PEOPLE).map((x) => x.phone), '+33799999999'])
      expect(logText).not.toContain(digits(p));
    expect(logText).not.toContain('ARRÊT');
  });

  it('ends at read whatever the order, and acknowledges a redelivery without processing it again', async () => {
    const read = [[statusesChange(meta, [status('wamid.S1', 'read', 30)])]];
    await postSigned(read);
    await postSigned([[statusesChange(meta, [status('wamid.S1', 'delivered', 35)])]]);
    await postSigned([[statusesChange(meta, [status('wamid.S1', 'sent', 55)])]]);
    const before = await eventCount();
    await postSigned(read);
    expect(await eventCount()).toBe(before);
    expect(await delivery('sam')).toMatchObject({
      status: 'read',
      sent_at: at(60),
      delivered_at: at(49),
      read_at: at(30),
    });
  });

  it('answers a STOP once even when Meta redelivers it in another batch', async () => {
    const sent = graph.sent().length;
    await postSigned([
      [
        messagesChange(meta, [
          { kind: 'text', from: digits(PEOPLE.elodie.phone), id: 'in.1', at: at(10), text: 'ARRÊT' },
        ]),
        statusesChange(meta, [status('wamid.E1', 'delivered', 41)]),
      ],
    ]);
    expect(graph.sent()).toHaveLength(sent);
    expect(await delivery('elodie')).toMatchObject({ status: 'read', delivered_at: at(50) });
  });

  it('keeps a failure reported after delivery as an error without moving the status back', async () => {
    await postSigned([
      [
        statusesChange(meta, [
          status('wamid.E1', 'failed', 20, { errors: [{ code: 131000, title: 'Something went wrong' }] }),
        ]),
      ],
    ]);
    expect(await delivery('elodie')).toMatchObject({ status: 'read', error_code: '131000', failed_at: null });
  });

  it('stops WhatsApp on Meta’s marketing opt-out (user_preferences) and records the template review', async () => {
    const sent = graph.sent().length;
    await postSigned([
      [userPreferencesChange(meta, [{ waId: digits(PEOPLE.pref.phone), value: 'stop', at: at(3) }])],
      [
        templateStatusChange({
          id: '77',
          name: 'first_notice',
          language: 'fr',
          event: 'REJECTED',
          reason: 'INVALID_FORMAT',
        }),
      ],
    ]);
    expect(await whatsappState(PEOPLE.pref.id)).toBe('stopped');
    const event = await database.db.one<{ source: string; evidence: Record<string, unknown> }>(
      `SELECT source, evidence FROM consent_events WHERE subscriber_id = $1 AND kind = 'opt_out'`,
      [PEOPLE.pref.id],
    );
    expect(event).toMatchObject({ source: 'whatsapp-marketing-preference', evidence: { value: 'stop' } });
    expect(graph.sent()).toHaveLength(sent);
    expect(await database.db.query(`SELECT name, language, status, reason FROM template_statuses`)).toEqual([
      { name: 'first_notice', language: 'fr', status: 'REJECTED', reason: 'INVALID_FORMAT' },
    ]);
  });

  it('answers 503 when the body cannot be queued, and processes it when Meta redelivers', async () => {
    // Redis at a port where nothing listens: the body is stored, but not queued.
    const broken: Config = { ...config, redisUrl: `redis://127.0.0.1:${await freePort()}` };
    const downQueues = new QueueSet(broken);
    downQueues.connection.on('error', () => {});
    for (const name of Object.values(QUEUES)) downQueues.get(name).on('error', () => {});
    const downApp = await buildServer({
      config,
      db: database.db,
      queues: downQueues,
      services: {
        subscriptions: createSubscriptionService({
          db: database.db,
          secretKey: config.secretKey!,
          consentRecordIp: false,
        }),
      },
      logger: pino({ level: 'silent' }),
    });
    const payload = webhookPayload([
      {
        id: 'waba-1',
        changes: [templateStatusChange({ id: '78', name: 'one_week', language: 'en', event: 'APPROVED' })],
      },
    ]);
    const { body, signature } = encodeWebhook(payload, SECRET);
    try {
      const res = await downApp.inject({
        method: 'POST',
        url: '/webhooks/whatsapp',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
        payload: body,
      });
      expect(res.statusCode).toBe(503);
    } finally {
      await downApp.close();
      downQueues.connection.disconnect();
      await downQueues.close();
    }
    expect(await database.db.query(`SELECT 1 FROM template_statuses WHERE name = 'one_week'`)).toEqual([]);
    const res = await post(body, signature);
    expect(res.statusCode).toBe(200);
    await processed();
    expect(await database.db.query(`SELECT status FROM template_statuses WHERE name = 'one_week'`)).toEqual([
      { status: 'APPROVED' },
    ]);
  });

  it('processes a body that was stored but never queued, found by the worker’s sweep', async () => {
    const payload = webhookPayload([
      {
        id: 'waba-1',
        changes: [templateStatusChange({ id: '79', name: 'last_day', language: 'fr', event: 'PAUSED' })],
      },
    ]);
    await storeEvent(database.db, {
      digest: 'digest-of-a-body-never-queued',
      fields: ['message_template_status_update'],
      rawJson: JSON.stringify(payload),
      now: at(5),
    });
    const sweeper = startWebhookWorker(config, {
      db: database.db,
      queues,
      connection: createWorkerConnection(config),
      logger: pino({ level: 'silent' }),
      clock: new ManualClock(NOW),
      replier: null,
    });
    try {
      await processed();
    } finally {
      await sweeper.close();
    }
    expect(await database.db.query(`SELECT status FROM template_statuses WHERE name = 'last_day'`)).toEqual([
      { status: 'PAUSED' },
    ]);
  });
});
