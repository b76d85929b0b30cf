// Opt-outs end to end while a campaign runs: an RFC 8058 one-click POST on the email's
// List-Unsubscribe URL and a signed WhatsApp "STOP" go through the real HTTP server (as `serve`
// runs it), the webhook is processed by the real workers (as `work` runs them), and the next
// step reaches only the subscribers who stayed. Real PostgreSQL and Redis, fake Graph API and
// SMTP server; ticks driven with a manual clock.
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServeConfig } from '../src/config/config.ts';
import { buildServer } from '../src/http/server.ts';
import { QueueSet } from '../src/queue/connection.ts';
import type { Services } from '../src/roles/services.ts';
import { type RunningWorkers, startWorkers } from '../src/roles/work.ts';
import { messagesChange, webhookPayload } from '../src/sandbox/webhook-payloads.ts';
import { encodeWebhook } from '../src/sandbox/webhook-signing.ts';
import { ManualClock } from '../src/shared/clock.ts';
import {
  type DeliveryServices,
  deliveriesOf,
  digits,
  PUBLIC_URL,
  seedSubscribers,
  startCampaign,
  startDeliveryServices,
  subscriber,
  tickAndWait,
  waitFor,
} from './support/delivery.ts';
import { testServices } from './support/services.ts';

const MINUTE = 60_000;
const T0 = Date.parse('2031-03-10T09:58:00Z');
const DEADLINE = T0 + 5 * MINUTE;
const CAMPAIGN = 'optout';
const STEP1 = T0 + MINUTE; // PT4M before the deadline
const STEP2 = T0 + 3 * MINUTE; // PT2M before the deadline

const A = subscriber('opt-a', 1, ['email']);
const B = subscriber('opt-b', 2, ['email']);
const C = subscriber('opt-c', 3, ['whatsapp']);
const D = subscriber('opt-d', 4, ['whatsapp'], { locale: 'en' });

let services: DeliveryServices;
let config: ServeConfig;
let workers: RunningWorkers;
let queues: QueueSet;
let app: FastifyInstance;
let httpServices: Services;
const clock = new ManualClock(T0);

beforeAll(async () => {
  services = await startDeliveryServices();
  config = services.config();
  workers = await startWorkers(config, { clock, scheduleTick: false, backoff: { baseMs: 10 } });
  // The HTTP side as `serve` wires it: its own producer connection, same database and prefix.
  const { db } = services.database;
  queues = new QueueSet(config);
  // The services as `serve` builds them: a sign-up plans the person into running campaigns.
  httpServices = testServices(config, db, { clock, queues });
  app = await buildServer({
    config,
    db,
    queues,
    services: httpServices,
    clock,
    logger: pino({ level: 'silent' }),
  });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await httpServices?.close();
  await queues?.close();
  await workers?.close(5_000);
  await services?.close();
});

/** One tick at `instant`, then wait until its slots are fanned out and every send settled. */
const tickAt = (instant: number) => tickAndWait(clock, workers, services.database.db, instant, CAMPAIGN);

const emailsTo = (email: string) => services.smtp.messages.filter((m) => m.envelope.rcptTo.includes(email));
const templatesTo = (phone: string) =>
  services.graph.sent().filter((m) => m.to === digits(phone) && m.template !== undefined);
const textsTo = (phone: string) =>
  services.graph
    .sent()
    .filter((m) => m.type === 'text' && m.to === digits(phone))
    .map((m) => m.text);

async function channelOf(id: string, channel: 'email' | 'whatsapp') {
  const { db } = services.database;
  const row = await db.one<{ state: string }>(
    `SELECT state FROM subscriber_channels WHERE subscriber_id = $1 AND channel = $2`,
    [id, channel],
  );
  const events = await db.query<{ kind: string; source: string }>(
    `SELECT kind, source FROM consent_events WHERE subscriber_id = $1 AND channel = $2 ORDER BY id`,
    [id, channel],
  );
  return { state: row?.state, events };
}

describe('opting out during a running campaign stops its later steps', () => {
  it('delivers step 1 to everyone', async () => {
    await seedSubscribers(services.database.db, [A, B, C, D], T0 - 60 * MINUTE);
    await startCampaign(
      services.database.db,
      {
        id: CAMPAIGN,
        deadline: DEADLINE,
        steps: [
          { id: 'm4', before: 'PT4M', channels: ['whatsapp', 'email'], template: 'first-notice' },
          { id: 'm2', before: 'PT2M', channels: ['whatsapp', 'email'], template: 'one-week' },
        ],
      },
      T0,
    );
    await tickAt(STEP1);
    // The rows first: if a send did not go out, the failure names its status and error.
    const step1 = (await deliveriesOf(services.database.db, CAMPAIGN)).map(
      (r) => `${r.subscriber_id}/${r.channel}/${r.status}/${r.error_code ?? r.skip_reason ?? ''}`,
    );
    expect(step1.sort()).toEqual([
      `${A.id}/email/sent/`,
      `${B.id}/email/sent/`,
      `${C.id}/whatsapp/sent/`,
      `${D.id}/whatsapp/sent/`,
    ]);
    for (const s of [A, B]) expect(emailsTo(s.email!)).toHaveLength(1);
    for (const s of [C, D]) expect(templatesTo(s.phone!)).toHaveLength(1);
    expect(services.smtp.messages).toHaveLength(2);
    expect(services.graph.sent()).toHaveLength(2);
  });

  it('unsubscribes A from email with the one-click POST a mailbox provider makes', async () => {
    const [mail] = emailsTo(A.email!);
    expect(mail?.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
    const url = /<(https:[^>]+)>/.exec(mail?.headers['list-unsubscribe'] ?? '')?.[1];
    expect(url?.startsWith(`${PUBLIC_URL}/unsubscribe/`)).toBe(true);
    clock.set(STEP1 + 30_000);
    const res = await app.inject({
      method: 'POST',
      url: new URL(url!).pathname,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    expect(res.statusCode).toBe(200);
    // Seeded consent has no event row: the opt-out is the channel's only event.
    expect(await channelOf(A.id, 'email')).toEqual({
      state: 'unsubscribed',
      events: [{ kind: 'opt_out', source: 'one-click' }],
    });
    expect(await channelOf(B.id, 'email')).toMatchObject({ state: 'active' });
  });

  it('stops WhatsApp for C on a signed inbound STOP, processed by the workers, with a reply', async () => {
    const payload = webhookPayload([
      {
        id: 'waba-1',
        changes: [
          messagesChange({ phoneNumberId: services.graph.phoneNumberId, displayPhoneNumber: '15550001111' }, [
            {
              kind: 'text',
              from: digits(C.phone!),
              id: 'wamid.in-stop-c',
              at: new Date(clock.now()),
              text: 'STOP',
            },
          ]),
        ],
      },
    ]);
    const { body, signature } = encodeWebhook(payload, config.whatsapp!.appSecret);
    const res = await app.inject({
      method: 'POST',
      url: '/webhooks/whatsapp',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
      payload: body,
    });
    expect(res.statusCode).toBe(200);
    await waitFor(
      'the STOP processed and answered',
      async () => textsTo(C.phone!).length > 0 && (await channelOf(C.id, 'whatsapp')).state === 'stopped',
    );
    expect(textsTo(C.phone!)).toEqual([expect.stringMatching(/ne recevrez plus nos rappels sur WhatsApp/)]);
    const c = await channelOf(C.id, 'whatsapp');
    expect(c).toEqual({ state: 'stopped', events: [{ kind: 'opt_out', source: 'whatsapp-reply' }] });
    expect((await channelOf(D.id, 'whatsapp')).state).toBe('active');
  });

  it('sends step 2 only to B and D', async () => {
    await tickAt(STEP2);
    expect(emailsTo(A.email!)).toHaveLength(1);
    expect(emailsTo(B.email!)).toHaveLength(2);
    expect(templatesTo(C.phone!)).toHaveLength(1);
    expect(templatesTo(D.phone!)).toHaveLength(2);
    // The fan-out plans only channels with active consent: no step-2 row at all for A and C.
    const rows = await deliveriesOf(services.database.db, CAMPAIGN);
    const step2 = rows
      .filter((r) => r.step_id === 'm2')
      .map((r) => `${r.subscriber_id}/${r.channel}/${r.status}`)
      .sort();
    expect(step2).toEqual([`${B.id}/email/sent`, `${D.id}/whatsapp/sent`]);
    expect(rows.filter((r) => r.status !== 'sent')).toEqual([]);
  });
});
