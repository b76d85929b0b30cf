// Where outbound events come from, and the commands around them, on real PostgreSQL: each state
// change writes its event in the same transaction (a rolled-back change leaves no event), ids
// only; `lastcall events replay` owes events again; `lastcall doctor` pings EVENTS_URL, signed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordPage } from '../src/delivery/send.repository.ts';
import { recordEvent } from '../src/events/outbox.ts';
import { processWebhookPayload } from '../src/inbound/webhook.service.ts';
import { statusesChange, webhookPayload } from '../src/sandbox/webhook-payloads.ts';
import { createLogger } from '../src/shared/logger.ts';
import { createBounceService } from '../src/subscribers/bounce.service.ts';
import { type EventReceiver, startEventReceiver } from './fakes/event-receiver.ts';
import { runCli } from './support/cli.ts';
import { testConfig } from './support/config.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { seedSubscribers, subscriber } from './support/delivery.ts';
import { testServices } from './support/services.ts';

const NOW = Date.parse('2030-05-04T09:30:00Z');
let database: TestDatabase;
let receiver: EventReceiver;

beforeAll(async () => {
  database = await createTestDatabase();
  receiver = await startEventReceiver('doctor-secret-0123456789');
  await seedSubscribers(
    database.db,
    [subscriber('e1', 1, ['whatsapp', 'email']), subscriber('e2', 2, ['whatsapp', 'email'])],
    NOW - 3600_000,
  );
});
afterAll(async () => {
  await receiver?.close();
  await database?.drop();
});

const events = (subscriberId: string) =>
  database.db.query<{ type: string; data: Record<string, unknown> }>(
    'SELECT type, data FROM event_outbox WHERE subscriber_id = $1 ORDER BY seq',
    [subscriberId],
  );

describe('event sources', () => {
  const subscriptions = () => testServices(database.config, database.db).subscriptions;

  it('unsubscribe, STOP and done write their events with the change; ids and words only', async () => {
    await subscriptions().unsubscribe('e1', 'email', 'unsubscribe-link', NOW);
    await subscriptions().stopWhatsApp(subscriber('e1', 1, ['whatsapp']).phone!, 'whatsapp-reply', NOW);
    await subscriptions().markDone('e1', 'done-link', NOW);
    await subscriptions().markDone('e1', 'done-link', NOW); // already done: no second event
    expect(await events('e1')).toEqual([
      {
        type: 'subscriber.unsubscribed',
        data: { subscriberId: 'e1', channel: 'email', source: 'unsubscribe-link' },
      },
      {
        type: 'subscriber.stopped',
        data: { subscriberId: 'e1', channel: 'whatsapp', source: 'whatsapp-reply' },
      },
      { type: 'subscriber.done', data: { subscriberId: 'e1', source: 'done-link' } },
    ]);
  });

  it('a confirmed email writes subscriber.confirmed', async () => {
    await database.db.exec(
      "UPDATE subscriber_channels SET state = 'pending', consent_at = NULL WHERE subscriber_id = 'e2' AND channel = 'email'",
    );
    expect((await subscriptions().confirmEmail('e2', NOW)).status).toBe('confirmed');
    expect(await events('e2')).toEqual([
      { type: 'subscriber.confirmed', data: { subscriberId: 'e2', channel: 'email' } },
    ]);
  });

  it('a change rolled back leaves no event; personal data is refused', async () => {
    await expect(
      database.db.tx(async (sql) => {
        await recordEvent(sql, { type: 'subscriber.bounced', subscriberId: 'e2' }, NOW);
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await expect(
      database.db.tx((sql) =>
        recordEvent(sql, { type: 'subscriber.bounced', subscriberId: 'e2', data: { to: 'a@b.org' } }, NOW),
      ),
    ).rejects.toThrow('events carry ids only');
    expect((await events('e2')).map((e) => e.type)).toEqual(['subscriber.confirmed']);
  });

  it('send outcomes and WhatsApp statuses write delivery events; test sends do not', async () => {
    await database.db.exec(
      `INSERT INTO campaigns (id, name, state, definition, deadline) VALUES ('ev', 'Events', 'running', '{}', now() + interval '1 day')`,
    );
    await database.db.exec(
      `INSERT INTO deliveries (campaign_id, step_id, subscriber_id, channel, kind, status)
       VALUES ('ev', 'd1', 'e2', 'whatsapp', 'scheduled', 'sending'), ('ev', 'd1', 'e2', 'email', 'scheduled', 'sending'),
              ('ev', 't', NULL, 'email', 'test', 'sending')`,
    );
    const ids = (
      await database.db.query<{ id: number }>(
        "SELECT id FROM deliveries WHERE campaign_id = 'ev' ORDER BY id",
      )
    ).map((r) => r.id);
    // One page of the send path's record statement: a sent, a failed and a test send.
    await recordPage(
      database.db,
      [
        { deliveryId: ids[0]!, attempt: 1, record: { status: 'sent', providerMessageId: 'wamid.EV1' } },
        {
          deliveryId: ids[1]!,
          attempt: 1,
          record: { status: 'failed', code: '550', detail: 'no such user' },
        },
        { deliveryId: ids[2]!, attempt: 1, record: { status: 'sent', providerMessageId: '<m@x>' } },
      ],
      new Date(NOW),
    );
    const meta = { phoneNumberId: '1', displayPhoneNumber: '1' };
    const at = new Date(NOW + 1000);
    const payload = webhookPayload([
      {
        id: 'waba',
        changes: [
          statusesChange(meta, [
            { id: 'wamid.EV1', status: 'delivered', recipientId: '33620000002', at },
            { id: 'wamid.EV1', status: 'read', recipientId: '33620000002', at },
            { id: 'wamid.EV1', status: 'delivered', recipientId: '33620000002', at },
          ]),
        ],
      },
    ]);
    await processWebhookPayload(
      {
        db: database.db,
        subscriptions: testServices(testConfig({ SECRET_KEY: 'x'.repeat(32) }), database.db).subscriptions,
        replier: undefined,
        logger: createLogger(testConfig()),
      },
      payload,
      NOW + 2000,
    );
    const delivery = (await events('e2')).filter((e) => e.type.startsWith('delivery.'));
    expect(delivery.map((e) => [e.type, e.data.channel])).toEqual([
      ['delivery.sent', 'whatsapp'],
      ['delivery.failed', 'email'],
      ['delivery.delivered', 'whatsapp'],
      ['delivery.read', 'whatsapp'],
    ]);
    const all = await database.db.one<{ n: number }>(
      "SELECT count(*)::int AS n FROM event_outbox WHERE data->>'campaignId' = 'ev'",
    );
    expect(all!.n).toBe(4); // nothing for the test send
    expect(delivery[1]!.data).toEqual({
      subscriberId: 'e2',
      deliveryId: ids[1],
      campaignId: 'ev',
      step: 'd1',
      channel: 'email',
      errorCode: '550',
    });
  });

  it('a permanent bounce ends the email channel with subscriber.bounced, in the same transaction', async () => {
    const [email] = await database.db.query<{ id: number }>(
      "SELECT id FROM deliveries WHERE campaign_id = 'ev' AND channel = 'email' AND subscriber_id = 'e2'",
    );
    const bounces = createBounceService({ db: database.db, logger: createLogger(testConfig()) });
    const result = await bounces.recordEmailReport(
      email!.id,
      { kind: 'bounce', status: '5.1.1', action: 'failed' },
      NOW,
    );
    expect(result.ended).toBe('bounced');
    expect((await events('e2')).at(-1)).toEqual({
      type: 'subscriber.bounced',
      data: { subscriberId: 'e2', channel: 'email', source: 'dsn', deliveryId: email!.id },
    });
  });
});

describe('commands', () => {
  const env = () => ({ DATABASE_URL: database.url, LASTCALL_ENV: 'development', LOG_LEVEL: 'silent' });

  it('events replay --since owes again the events created since then, with new job rounds', async () => {
    await database.db.exec('UPDATE event_outbox SET queued_at = now(), delivered_at = now()');
    const since = '2026-01-01T00:00:00.000Z'; // before every event, and not in the future
    const result = await runCli(['events', 'replay', '--since', since, '--json'], env());
    expect(result.code, result.stderr).toBe(0);
    const total = (await database.db.one<{ n: number }>('SELECT count(*)::int AS n FROM event_outbox'))!.n;
    expect(JSON.parse(result.stdout)).toEqual({ events: total, since });
    expect(result.stderr).toContain('EVENTS_URL is not set');
    const owed = await database.db.query('SELECT DISTINCT round, queued_at, delivered_at FROM event_outbox');
    expect(owed).toEqual([{ round: 1, queued_at: null, delivered_at: null }]);
    const bad = await runCli(['events', 'replay', '--since', 'last week'], env());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--since');
  });

  it('doctor sends EVENTS_URL a signed ping, and fails when it is refused', async () => {
    const events = { EVENTS_URL: receiver.url, EVENTS_SECRET: 'doctor-secret-0123456789' };
    receiver.answer = () => 204;
    const ok = await runCli(['doctor', '--only', 'events', '--json'], { ...env(), ...events });
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    const ping = receiver.requests.at(-1)!;
    expect(ping).toMatchObject({ signed: true, event: { type: 'ping', data: {} } });
    receiver.answer = () => 500;
    const refused = await runCli(['doctor', '--only', 'events'], { ...env(), ...events });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('did not accept a signed ping: HTTP 500');
    const wrongSecret = await runCli(['doctor', '--only', 'events'], {
      ...env(),
      ...events,
      EVENTS_SECRET: 'another-secret-0123456789',
    });
    expect(wrongSecret.stdout).toContain('HTTP 401');
  });
});
