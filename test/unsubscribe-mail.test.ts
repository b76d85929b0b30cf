// The List-Unsubscribe mailto, end to end on real PostgreSQL and Redis: `serve` (as
// startHttpService wires it) with UNSUBSCRIBE_SMTP_PORT set listens for SMTP; a reminder's
// mailto, used as a mail client uses it (its address, its subject) and sent with nodemailer,
// ends the person's email consent with a `mailto` consent event. Other mailboxes, tampered or
// missing tokens and oversized messages are refused in the SMTP dialogue and change nothing.
// With a certificate configured, the listener offers STARTTLS; without, it does not.
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServeConfig } from '../src/config/config.ts';
import { DeliveryRenderer } from '../src/delivery/render.ts';
import type { ClaimedDelivery } from '../src/delivery/send.repository.ts';
import { MAX_MESSAGE_BYTES } from '../src/inbound/unsubscribe-smtp.ts';
import { type HttpService, startHttpService } from '../src/roles/serve.ts';
import { createLogger } from '../src/shared/logger.ts';
import { seedSubscriber } from './support/campaign.ts';
import { testConfig } from './support/config.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { createTestRedis, type TestRedis } from './support/redis.ts';

const MAIL_FROM = 'Lastcall <rappels@lastcall.example.org>';
let t: TestDatabase;
let redis: TestRedis;
let config: ServeConfig;
let http: HttpService;

beforeAll(async () => {
  t = await createTestDatabase();
  redis = createTestRedis();
  config = testConfig(
    {
      DATABASE_URL: t.url,
      ...redis.env,
      PUBLIC_URL: 'https://lastcall.example.org',
      HTTP_PORT: '0',
      UNSUBSCRIBE_SMTP_PORT: '0',
      SMTP_URL: 'smtp://127.0.0.1:1',
      MAIL_FROM,
    },
    'serve',
  );
  http = await startHttpService(config, { logger: createLogger({ logLevel: 'silent' }), host: '127.0.0.1' });
  for (const id of ['mail-1', 'mail-2'])
    await seedSubscriber(t.db, { id, zone: 'Europe/Paris', channels: ['whatsapp', 'email'] });
});
afterAll(async () => {
  await http?.close(2_000);
  await redis?.cleanup();
  await t?.drop();
});

/** The List-Unsubscribe mailto of a reminder to `subscriberId`, rendered as a worker renders it. */
async function reminderMailto(subscriberId: string): Promise<URL> {
  const renderer = new DeliveryRenderer({
    publicUrl: config.publicUrl,
    secretKey: config.secretKey ?? '',
    mailFrom: MAIL_FROM,
    unsubscribeMailbox: config.unsubscribeSmtp?.mailbox,
  });
  const delivery: ClaimedDelivery = {
    id: 1,
    campaignId: 'c',
    stepId: 'd7',
    channel: 'email',
    kind: 'scheduled',
    attempt: 1,
    campaign: {
      name: 'C',
      state: 'running',
      deadline: Date.now() + 86_400_000,
      messagesDir: null,
      template: 'one-week',
    },
    subscriber: {
      id: subscriberId,
      name: 'Test',
      phone: null,
      email: `${subscriberId}@example.org`,
      locale: 'en',
      timezone: 'Europe/Paris',
      attributes: { assistant: 'chatgpt' },
      done: false,
      channelState: 'active',
    },
  };
  const rendered = await renderer.render(
    delivery as Parameters<DeliveryRenderer['render']>[0],
    'one-week',
    Date.now(),
  );
  if (rendered.channel !== 'email') throw new Error('expected an email');
  return new URL(rendered.message.unsubscribeMailto);
}

/** What a person's mail provider does with the mailto: an SMTP delivery to our port. */
function send(
  to: string,
  subject: string,
  text = 'Sent from my phone',
  via: { port?: number; tls?: boolean } = {},
) {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: via.port ?? http.smtpPort,
    secure: false,
    // A provider delivering to an MX uses STARTTLS when offered; `requireTLS` makes its absence an error.
    ...(via.tls ? { requireTLS: true, tls: { rejectUnauthorized: false } } : { ignoreTLS: true }),
  });
  return transport
    .sendMail({ from: 'someone@example.net', to, subject, text })
    .finally(() => transport.close());
}

const states = (id: string) =>
  t.db.query<{ channel: string; state: string }>(
    'SELECT channel, state FROM subscriber_channels WHERE subscriber_id = $1 ORDER BY channel',
    [id],
  );
const mailtoEvents = (id: string) =>
  t.db.query<{ channel: string; kind: string }>(
    `SELECT channel, kind FROM consent_events WHERE subscriber_id = $1 AND source = 'mailto' ORDER BY id`,
    [id],
  );

describe('the List-Unsubscribe mailto', () => {
  it("points at unsubscribe@<PUBLIC_URL host> on serve's SMTP port", async () => {
    const mailto = await reminderMailto('mail-1');
    expect(mailto.pathname).toBe('unsubscribe@lastcall.example.org');
    expect(mailto.searchParams.get('subject')).toMatch(/^unsubscribe \S+\.\S+$/);
    expect(http.smtpPort).toBeGreaterThan(0);
  });

  it('unsubscribes the person from email, and from nothing else, when a mail client uses it', async () => {
    const mailto = await reminderMailto('mail-1');
    const info = await send(mailto.pathname, mailto.searchParams.get('subject') ?? '');
    expect(info.response).toContain('unsubscribed');
    expect(await states('mail-1')).toEqual([
      { channel: 'email', state: 'unsubscribed' },
      { channel: 'whatsapp', state: 'active' },
    ]);
    expect(await mailtoEvents('mail-1')).toEqual([{ channel: 'email', kind: 'opt_out' }]);
    // A second mail (a resend, a double click) changes nothing more.
    await send(mailto.pathname, `Re: ${mailto.searchParams.get('subject')}`);
    expect(await mailtoEvents('mail-1')).toHaveLength(1);
  });

  it('refuses other mailboxes, tampered or missing tokens and oversized mail, and changes nothing', async () => {
    const mailto = await reminderMailto('mail-2');
    const subject = mailto.searchParams.get('subject') ?? '';
    await expect(send('postmaster@lastcall.example.org', subject)).rejects.toMatchObject({
      responseCode: 550,
    });
    const tampered = subject.replace(
      /.(\.[^.]+)$/,
      (m, rest: string) => `${m[0] === 'a' ? 'b' : 'a'}${rest}`,
    );
    expect(tampered).not.toBe(subject);
    await expect(send(mailto.pathname, tampered)).rejects.toMatchObject({ responseCode: 550 });
    await expect(send(mailto.pathname, 'unsubscribe')).rejects.toMatchObject({ responseCode: 550 });
    await expect(send(mailto.pathname, subject, 'x'.repeat(MAX_MESSAGE_BYTES + 1024))).rejects.toMatchObject({
      responseCode: 552,
    });
    expect(await states('mail-2')).toEqual([
      { channel: 'email', state: 'active' },
      { channel: 'whatsapp', state: 'active' },
    ]);
    expect(await mailtoEvents('mail-2')).toEqual([]);
  });
});

describe('STARTTLS on the unsubscribe listener', () => {
  const TLS = join(import.meta.dirname, 'fixtures', 'tls');
  let secured: HttpService;

  beforeAll(async () => {
    const env = {
      DATABASE_URL: t.url,
      ...redis.env,
      PUBLIC_URL: 'https://lastcall.example.org',
      HTTP_PORT: '0',
      UNSUBSCRIBE_SMTP_PORT: '0',
      UNSUBSCRIBE_SMTP_TLS_CERT: join(TLS, 'unsubscribe.test.crt'),
      UNSUBSCRIBE_SMTP_TLS_KEY: join(TLS, 'unsubscribe.test.key'),
    };
    secured = await startHttpService(testConfig(env, 'serve'), {
      logger: createLogger({ logLevel: 'silent' }),
      host: '127.0.0.1',
    });
    await seedSubscriber(t.db, { id: 'mail-tls', zone: 'Europe/Paris', channels: ['email'] });
  });
  afterAll(() => secured?.close(2_000));

  it('is offered with a certificate, and the request goes through encrypted', async () => {
    const mailto = await reminderMailto('mail-tls');
    const info = await send(mailto.pathname, mailto.searchParams.get('subject') ?? '', 'hi', {
      port: secured.smtpPort,
      tls: true,
    });
    expect(info.response).toContain('unsubscribed');
    expect(await states('mail-tls')).toEqual([{ channel: 'email', state: 'unsubscribed' }]);
  });

  it('is not offered without one', async () => {
    const mailto = await reminderMailto('mail-2');
    await expect(
      send(mailto.pathname, mailto.searchParams.get('subject') ?? '', 'hi', { tls: true }),
    ).rejects.toThrow(/STARTTLS/);
  });

  it('stops serve at start, naming the variable, when a file cannot be read', async () => {
    const env = {
      DATABASE_URL: t.url,
      ...redis.env,
      HTTP_PORT: '0',
      UNSUBSCRIBE_SMTP_PORT: '0',
      UNSUBSCRIBE_SMTP_TLS_CERT: join(TLS, 'missing.crt'),
      UNSUBSCRIBE_SMTP_TLS_KEY: join(TLS, 'unsubscribe.test.key'),
    };
    await expect(
      startHttpService(testConfig(env, 'serve'), {
        logger: createLogger({ logLevel: 'silent' }),
        host: '127.0.0.1',
      }),
    ).rejects.toThrow(`UNSUBSCRIBE_SMTP_TLS_CERT=${join(TLS, 'missing.crt')}: cannot read the file`);
  });

  it('needs both files, and the listener port', () => {
    expect(() => testConfig({ UNSUBSCRIBE_SMTP_PORT: '2525', UNSUBSCRIBE_SMTP_TLS_CERT: '/x.crt' })).toThrow(
      'UNSUBSCRIBE_SMTP_TLS_CERT, UNSUBSCRIBE_SMTP_TLS_KEY: set both',
    );
    expect(() =>
      testConfig({ UNSUBSCRIBE_SMTP_TLS_CERT: '/x.crt', UNSUBSCRIBE_SMTP_TLS_KEY: '/x.key' }),
    ).toThrow('need UNSUBSCRIBE_SMTP_PORT');
  });
});
