// POST /webhooks/whatsapp under fuzz (fast-check): validly signed bodies of odd JSON (Meta's
// envelope with odd values at every level, any JSON at all, bytes that are not JSON), through
// the real server, PostgreSQL, this file's own Redis prefix and the real webhook worker. Every
// answer is 200 (stored, then processed) or 400 (not an envelope, nothing stored); never a
// 500 or a 503, and the worker processes every stored body without a failed job.
import { Writable } from 'node:stream';
import type { Worker } from 'bullmq';
import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/delivery/clock.ts';
import { redactWebhookPayload, webhookFields, webhookItems } from '../src/delivery/webhook-payload.ts';
import { escapeUnicode } from '../src/delivery/webhook-signature.ts';
import { startWebhookWorker } from '../src/delivery/webhook-worker.ts';
import { buildServer } from '../src/http/server.ts';
import { createWorkerConnection, QueueSet } from '../src/queue/connection.ts';
import { createSubscriptionService } from '../src/subscribers/subscription.service.ts';
import { encodeWebhook, type FakeGraphApi, signWebhook, startFakeGraphApi } from './fakes/graph-api.ts';
import { testConfig } from './support/config.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { createTestRedis, type TestRedis } from './support/redis.ts';

const NOW = Date.parse('2026-05-04T09:30:00Z');
const SECRET = 'webhook-app-secret-for-fuzz';
const PHONE = '+33612345678';

let database: TestDatabase;
let redis: TestRedis;
let graph: FakeGraphApi;
let queues: QueueSet;
let app: Awaited<ReturnType<typeof buildServer>>;
let worker: Worker;
const failures: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  redis = createTestRedis();
  graph = await startFakeGraphApi({ phoneNumberId: '100000000000001' });
  const config = testConfig(
    {
      DATABASE_URL: database.url,
      ...redis.env,
      WHATSAPP_TOKEN: graph.token,
      WHATSAPP_PHONE_NUMBER_ID: graph.phoneNumberId,
      WHATSAPP_APP_SECRET: SECRET,
      WHATSAPP_VERIFY_TOKEN: 'verify',
      WHATSAPP_API_URL: graph.url,
    },
    'serve',
  );
  const logger = pino({ level: 'warn' }, new Writable({ write: (_chunk, _encoding, done) => done() }));
  const clock = new ManualClock(NOW);
  const { db } = database;
  // Someone whose phone, wamid and words the odd bodies can hit.
  await db.exec(
    `INSERT INTO campaigns (id, name, definition, deadline) VALUES ('c1', 'Test', '{}', '2026-06-01T00:00:00Z');
     INSERT INTO campaign_steps (campaign_id, step_id, position, before, channels, template)
       VALUES ('c1', 's1', 0, 'P1D', '{whatsapp}', 'first-notice');
     INSERT INTO subscribers (id, name, phone, locale, timezone, assistant)
       VALUES ('sub-1', 'X', '${PHONE}', 'fr', 'Europe/Paris', 'both');
     INSERT INTO subscriber_channels (subscriber_id, channel, state, consent_at)
       VALUES ('sub-1', 'whatsapp', 'active', '2026-01-01T00:00:00Z');
     INSERT INTO deliveries (campaign_id, step_id, subscriber_id, channel, kind, status, provider_message_id, sent_at)
       VALUES ('c1', 's1', 'sub-1', 'whatsapp', 'scheduled', 'sent', 'wamid.E1', '2026-05-04T09:00:00Z');`,
  );
  queues = new QueueSet(config);
  const subscriptions = createSubscriptionService({
    db,
    secretKey: config.secretKey!,
    consentRecordIp: false,
  });
  app = await buildServer({ config, db, queues, services: { subscriptions }, clock, logger });
  await app.ready();
  worker = startWebhookWorker(config, {
    db,
    queues,
    connection: createWorkerConnection(config),
    logger,
    clock,
    sweepEveryMs: 3_600_000,
  });
  worker.on('failed', (_job, error) => failures.push(String(error)));
});

afterAll(async () => {
  await worker?.close();
  await app?.close();
  await queues?.close();
  await graph?.close();
  await redis?.cleanup();
  await database?.drop();
});

const count = async (where: string) =>
  (await database.db.one<{ n: number }>(`SELECT count(*)::int AS n FROM webhook_events WHERE ${where}`))!.n;

/** Waits until the worker has processed every stored body, or a job has failed. */
async function settled(timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await count('processed_at IS NULL')) > 0 && failures.length === 0) {
    if (Date.now() > deadline) throw new Error('stored webhook bodies still unprocessed');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// Odd leaves, with the strings JSON, PostgreSQL's jsonb and the handlers each dislike.
const leaf = fc.oneof(
  fc.jsonValue({ maxDepth: 1 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom(
    '',
    'STOP',
    'ARRÊT',
    'START',
    'fait',
    'DONE',
    PHONE.slice(1),
    'wamid.E1',
    'sent',
    'read',
    'failed',
    '1714815000',
    '99999999999999',
    -1,
    1e308,
    null,
    true,
    '\u0000',
    'a\u0000b',
    '\\u0000',
    '\\\\u0000',
    '\ud800',
    '\udfff',
    '😀',
    'x'.repeat(5000),
  ),
);
const some = <T>(arb: fc.Arbitrary<T>) => fc.oneof(leaf, fc.array(arb, { maxLength: 3 }));
const status = fc.record(
  {
    id: fc.oneof(leaf, fc.constant('wamid.E1')),
    status: fc.oneof(leaf, fc.constantFrom('sent', 'delivered', 'read', 'failed', 'played')),
    timestamp: leaf,
    recipient_id: leaf,
    biz_opaque_callback_data: leaf,
    errors: some(fc.record({ code: leaf, title: leaf }, { requiredKeys: [] })),
  },
  { requiredKeys: [] },
);
const message = fc.record(
  {
    from: fc.oneof(leaf, fc.constant(PHONE.slice(1))),
    id: leaf,
    timestamp: leaf,
    type: fc.oneof(leaf, fc.constantFrom('text', 'button', 'interactive', 'image')),
    text: fc.oneof(leaf, fc.record({ body: leaf }, { requiredKeys: [] })),
    button: fc.oneof(leaf, fc.record({ text: leaf, payload: leaf }, { requiredKeys: [] })),
    interactive: leaf,
  },
  { requiredKeys: [] },
);
const value = fc.record(
  {
    messaging_product: leaf,
    metadata: fc.oneof(leaf, fc.record({ phone_number_id: leaf, display_phone_number: leaf })),
    statuses: some(status),
    messages: some(message),
    contacts: some(fc.record({ wa_id: leaf, profile: leaf }, { requiredKeys: [] })),
    user_preferences: some(
      fc.record(
        {
          wa_id: leaf,
          value: fc.oneof(leaf, fc.constantFrom('stop', 'resume')),
          category: leaf,
          timestamp: leaf,
        },
        { requiredKeys: [] },
      ),
    ),
    event: leaf,
    message_template_name: leaf,
    message_template_language: leaf,
    reason: leaf,
    errors: leaf,
  },
  { requiredKeys: [] },
);
const change = fc.record(
  {
    field: fc.oneof(
      leaf,
      fc.constantFrom('messages', 'user_preferences', 'message_template_status_update', 'account_update'),
    ),
    value: fc.oneof(leaf, value),
  },
  { requiredKeys: [] },
);
const entry = fc.record({ id: leaf, time: leaf, changes: some(change) }, { requiredKeys: [] });
const envelope = fc.record(
  {
    object: fc.oneof(leaf, fc.constant('whatsapp_business_account')),
    entry: fc.oneof(fc.array(fc.oneof(entry, leaf), { maxLength: 3 }), leaf),
  },
  { requiredKeys: [] },
);

function post(body: string | Buffer, signature: string) {
  return app.inject({
    method: 'POST',
    url: '/webhooks/whatsapp',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
    payload: body,
  });
}

describe('webhook payload walking under fuzz', () => {
  it('flattens, names and redacts any odd envelope without throwing', () => {
    const kinds = new Set(['status', 'inbound', 'preference', 'template', 'error', 'ignored']);
    fc.assert(
      fc.property(fc.oneof(envelope, fc.jsonValue({ maxDepth: 3 })), (payload) => {
        // As the worker gets it: through JSON, as stored.
        const stored: unknown = JSON.parse(JSON.stringify(payload));
        for (const item of webhookItems(stored)) expect(kinds).toContain(item.kind);
        for (const field of webhookFields(stored)) expect(typeof field).toBe('string');
        redactWebhookPayload(stored, [PHONE.slice(1), 'wamid.E1']);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('POST /webhooks/whatsapp under fuzz', () => {
  it('acknowledges or refuses every signed body cleanly, and the worker processes every stored one', async () => {
    const bodies = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.tuple(
          fc.oneof(envelope, fc.jsonValue({ maxDepth: 3 })),
          fc.constantFrom<'meta' | 'utf8'>('meta', 'utf8'),
        ),
      },
      {
        weight: 1,
        arbitrary: fc.tuple(
          fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
          fc.constant('raw' as const),
        ),
      },
    );
    await fc.assert(
      fc.asyncProperty(bodies, async ([payload, encoding]) => {
        const { body, signature } =
          encoding === 'raw'
            ? // Signed as Meta signs: over the text with non-ASCII escaped.
              {
                body: payload as Buffer,
                signature: signWebhook(SECRET, escapeUnicode((payload as Buffer).toString('utf8'))),
              }
            : encodeWebhook(payload, SECRET, encoding);
        const stored = await count('true');
        const res = await post(body, signature);
        expect([200, 400]).toContain(res.statusCode);
        const envelopeSent =
          encoding !== 'raw' &&
          payload !== null &&
          typeof payload === 'object' &&
          Array.isArray((payload as { entry?: unknown }).entry);
        expect(res.statusCode).toBe(envelopeSent ? 200 : 400);
        if (res.statusCode === 400) expect(await count('true')).toBe(stored);
        await settled();
        expect(failures).toEqual([]);
      }),
      {
        numRuns: 200,
        // Found by this test: jsonb refused a lone surrogate (503, redelivered for days), and a
        // written backslash-u-0000 was cut in half on the way in.
        examples: [
          [[{ entry: ['\udfff', { id: '\ud83d' }] }, 'meta']],
          [[{ entry: [{ id: '\\u0000 and \u0000', changes: [] }], '\u0000': 1 }, 'utf8']],
        ],
      },
    );
  });
});
