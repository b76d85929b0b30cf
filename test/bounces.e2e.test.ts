// Bounces and complaints end to end while a campaign runs: the workers send step 1
// with a VERP return path per delivery; real report shapes (Gmail, Outlook, Postfix DSNs, ARF
// complaints: test/fixtures/mail-reports) are delivered with nodemailer to the SMTP listener of
// `serve`, as the receiving servers would; WhatsApp refuses one number (131026) at send time and
// reports another one stopped (131050) by status webhook. Step 2 then skips every channel that
// ended and reaches the rest. Real PostgreSQL and Redis, fake Graph API and SMTP server; ticks
// driven with a manual clock.
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCampaignService } from '../src/campaigns/campaign.service.ts';
import type { ServeConfig } from '../src/config/config.ts';
import { type HttpService, startHttpService } from '../src/roles/serve.ts';
import { type RunningWorkers, startWorkers } from '../src/roles/work.ts';
import { ManualClock } from '../src/shared/clock.ts';
import { createLogger } from '../src/shared/logger.ts';
import { subscriberProfile } from '../src/subscribers/subscriber-profile.ts';
import { failures, postWebhook, statusesChange, webhookPayload } from './fakes/graph-api.ts';
import { testConfig } from './support/config.ts';
import {
  type DeliveryServices,
  deliveriesOf,
  digits,
  MAIL_FROM,
  seedSubscribers,
  startCampaign,
  startDeliveryServices,
  subscriber,
  tickAndWait,
  waitFor,
} from './support/delivery.ts';
import { type MailReportFixture, mailReport } from './support/mail-reports.ts';

const MINUTE = 60_000;
const T0 = Date.parse('2031-05-12T07:58:00Z');
const DEADLINE = T0 + 5 * MINUTE;
const CAMPAIGN = 'bounces';
const STEP1 = T0 + MINUTE;
const STEP2 = T0 + 3 * MINUTE;

// One subscriber per report shape, and the ones whose channel must survive.
const GMAIL = subscriber('b-gmail', 1, ['email']);
const OUTLOOK = subscriber('b-outlook', 2, ['email']);
const POSTFIX = subscriber('b-postfix', 3, ['email']);
const DELAYED = subscriber('b-delayed', 4, ['email']);
const TIMEOUT = subscriber('b-timeout', 5, ['email']);
const ABUSE = subscriber('b-abuse', 6, ['email']);
const YAHOO = subscriber('b-yahoo', 7, ['email']);
const FINE = subscriber('b-fine', 8, ['email', 'whatsapp']);
const NO_WHATSAPP = subscriber('b-131026', 9, ['whatsapp']);
const STOPPED = subscriber('b-131050', 10, ['whatsapp']);
const EVERYONE = [GMAIL, OUTLOOK, POSTFIX, DELAYED, TIMEOUT, ABUSE, YAHOO, FINE, NO_WHATSAPP, STOPPED];

let services: DeliveryServices;
let workersConfig: ServeConfig;
let serveConfig: ServeConfig;
let workers: RunningWorkers;
let http: HttpService;
const clock = new ManualClock(T0);

beforeAll(async () => {
  services = await startDeliveryServices();
  const listener = { UNSUBSCRIBE_SMTP_PORT: '0', HTTP_PORT: '0' };
  workersConfig = services.config(listener);
  serveConfig = testConfig({ ...services.env, ...listener }, 'serve');
  workers = await startWorkers(workersConfig, { clock, scheduleTick: false, backoff: { baseMs: 10 } });
  http = await startHttpService(serveConfig, {
    logger: createLogger({ logLevel: 'silent' }),
    clock,
    host: '127.0.0.1',
  });
});

afterAll(async () => {
  await http?.close(2_000);
  await workers?.close(5_000);
  await services?.close();
});

/** One tick at `instant`, then wait until its slots are fanned out and every send settled. */
const tickAt = (instant: number) => tickAndWait(clock, workers, services.database.db, instant, CAMPAIGN);

const mailTo = (email: string) => {
  const mails = services.smtp.messages.filter((m) => m.envelope.rcptTo.includes(email));
  expect(mails.length).toBeGreaterThan(0);
  return mails[0]!;
};

/** A connection to serve's SMTP listener, as a receiving server (or a mail client) opens one. */
const listener = () =>
  nodemailer.createTransport({ host: '127.0.0.1', port: http.smtpPort, secure: false, ignoreTLS: true });

/** What a receiving server does with a report: an SMTP delivery, null sender, to the return path. */
async function report(fixture: MailReportFixture, to: { email: string | null }, returnPath?: string) {
  const mail = mailTo(to.email!);
  const rcpt = returnPath ?? mail.envelope.mailFrom;
  const raw = mailReport(fixture, {
    returnPath: rcpt,
    address: to.email!,
    messageId: mail.parsed.messageId ?? '',
  });
  const transport = listener();
  return transport.sendMail({ envelope: { from: '', to: [rcpt] }, raw }).finally(() => transport.close());
}

async function channel(id: string, name: 'email' | 'whatsapp') {
  const { db } = services.database;
  const row = await db.one<{ state: string }>(
    'SELECT state FROM subscriber_channels WHERE subscriber_id = $1 AND channel = $2',
    [id, name],
  );
  const events = await db.query<{ kind: string; source: string; evidence: Record<string, unknown> }>(
    'SELECT kind, source, evidence FROM consent_events WHERE subscriber_id = $1 AND channel = $2 ORDER BY id',
    [id, name],
  );
  return { state: row?.state, events };
}

async function deliveryId(id: string, name: 'email' | 'whatsapp', step = 'm4'): Promise<number> {
  const rows = await deliveriesOf(services.database.db, CAMPAIGN);
  const row = rows.find((r) => r.subscriber_id === id && r.channel === name && r.step_id === step);
  expect(row, `${id}/${name}/${step}`).toBeDefined();
  return row!.id;
}

describe('bounces and complaints during a running campaign end their channel for later steps', () => {
  it('sends step 1 with a return path naming each delivery; WhatsApp refuses one number (131026)', async () => {
    await seedSubscribers(services.database.db, EVERYONE, T0 - 60 * MINUTE);
    services.graph.setFailure(failures.undeliverable(), { to: NO_WHATSAPP.phone! });
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
    const rows = (await deliveriesOf(services.database.db, CAMPAIGN)).map(
      (r) => `${r.subscriber_id}/${r.channel}/${r.status}/${r.error_code ?? ''}`,
    );
    expect(rows.filter((r) => !r.includes('/sent/')).sort()).toEqual([
      `${NO_WHATSAPP.id}/whatsapp/failed/131026`,
    ]);
    for (const s of EVERYONE.filter((x) => x.email)) {
      const mail = mailTo(s.email!);
      const id = await deliveryId(s.id, 'email');
      expect(mail.envelope.mailFrom).toMatch(
        new RegExp(`^bounce\\+${id}\\.[0-9a-f]{20}@lastcall\\.example\\.org$`),
      );
      // The header From stays the sender's: only the envelope changes.
      expect(mail.headers.from).toBe(MAIL_FROM);
    }
    // The synchronous 131026 already ended that WhatsApp channel, with the provider's evidence.
    expect(await channel(NO_WHATSAPP.id, 'whatsapp')).toMatchObject({
      state: 'bounced',
      events: [
        {
          kind: 'bounce',
          source: 'whatsapp-error',
          evidence: { code: '131026', step: 'm4', campaign: CAMPAIGN, previousState: 'active' },
        },
      ],
    });
  });

  it('ends email at a permanent DSN (Gmail, Outlook, Postfix), with the evidence and no address', async () => {
    clock.set(STEP1 + 20_000);
    const shapes = [
      ['gmail-hard-bounce', GMAIL, '5.1.1', 'googlemail.com'],
      ['outlook-ndr', OUTLOOK, '5.1.10', 'AM0PR01MB1234.eurprd01.prod.exchangelabs.com'],
      ['postfix-hard-bounce', POSTFIX, '5.1.1', 'mx1.example.net'],
    ] as const;
    for (const [fixture, who, status, reportingMta] of shapes) {
      const info = await report(fixture, who);
      expect(info.response, fixture).toContain('delivery status recorded: bounced');
      const email = await channel(who.id, 'email');
      expect(email, fixture).toMatchObject({
        state: 'bounced',
        events: [
          {
            kind: 'bounce',
            source: 'dsn',
            evidence: {
              code: status,
              status,
              action: 'failed',
              reportingMta,
              diagnosticCode: expect.stringMatching(/^smtp;/),
              deliveryId: await deliveryId(who.id, 'email'),
              campaign: CAMPAIGN,
              step: 'm4',
              previousState: 'active',
            },
          },
        ],
      });
      expect(JSON.stringify(email.events)).not.toContain(who.email);
    }
    // The same DSN again (a server retrying after a lost 250) is one report, one event.
    await report('postfix-hard-bounce', POSTFIX);
    const counted = await services.database.db.query(
      'SELECT outcome, source, code FROM delivery_reports WHERE delivery_id = $1',
      [await deliveryId(POSTFIX.id, 'email')],
    );
    expect(counted).toEqual([{ outcome: 'bounced', source: 'dsn', code: '5.1.1' }]);
    expect((await channel(POSTFIX.id, 'email')).events).toHaveLength(1);
  });

  it('counts a transient DSN (4.x.x) and changes nothing', async () => {
    for (const [fixture, who] of [
      ['postfix-delayed', DELAYED],
      ['rfc3464-timeout', TIMEOUT],
    ] as const) {
      const info = await report(fixture, who);
      expect(info.response, fixture).toContain('delivery status recorded: soft-bounced');
      expect(await channel(who.id, 'email'), fixture).toEqual({ state: 'active', events: [] });
    }
  });

  it('ends email at a spam complaint (ARF), whatever the feedback loop hides', async () => {
    for (const [fixture, who, reporter] of [
      ['arf-abuse', ABUSE, { reportingMta: 'mx3.feedback.example.com', userAgent: 'Hotmail FBL' }],
      ['arf-yahoo-redacted', YAHOO, { userAgent: 'Yahoo!-Mail-Feedback/2.0' }],
    ] as const) {
      const info = await report(fixture, who);
      expect(info.response, fixture).toContain('feedback report recorded: complained');
      expect(await channel(who.id, 'email'), fixture).toMatchObject({
        state: 'complained',
        events: [
          {
            kind: 'complaint',
            source: 'arf',
            evidence: {
              code: 'abuse',
              feedbackType: 'abuse',
              ...reporter,
              step: 'm4',
              previousState: 'active',
            },
          },
        ],
      });
    }
  });

  it('refuses a forged return path and other mailboxes at RCPT TO, and drops an auto-reply', async () => {
    const real = mailTo(FINE.email!).envelope.mailFrom;
    const forged = real.replace(/([0-9a-f])@/, (_, c: string) => `${c === '0' ? '1' : '0'}@`);
    expect(forged).not.toBe(real);
    await expect(report('postfix-hard-bounce', FINE, forged)).rejects.toMatchObject({ responseCode: 550 });
    await expect(report('arf-abuse', FINE, 'abuse@lastcall.example.org')).rejects.toMatchObject({
      responseCode: 550,
    });
    const transport = listener();
    const autoReply = await transport
      .sendMail({
        envelope: { from: '', to: [real] },
        from: 'someone@example.net',
        to: real,
        subject: 'Out of office',
        headers: { 'Auto-Submitted': 'auto-replied' },
        text: 'Back on Monday.',
      })
      .finally(() => transport.close());
    expect(autoReply.response).toContain('ignored');
    expect(await channel(FINE.id, 'email')).toEqual({ state: 'active', events: [] });
  });

  it('ends WhatsApp when Meta reports 131050 (stopped marketing) for a message it had accepted', async () => {
    const id = await deliveryId(STOPPED.id, 'whatsapp');
    const wamid = (
      await services.database.db.one<{ provider_message_id: string }>(
        'SELECT provider_message_id FROM deliveries WHERE id = $1',
        [id],
      )
    )?.provider_message_id;
    expect(wamid).toMatch(/^wamid\./);
    const payload = webhookPayload([
      {
        id: 'waba-1',
        changes: [
          statusesChange({ phoneNumberId: services.graph.phoneNumberId, displayPhoneNumber: '15550001111' }, [
            {
              id: wamid!,
              status: 'failed',
              recipientId: digits(STOPPED.phone!),
              at: new Date(clock.now()),
              callbackData: String(id),
              errors: [{ code: 131050 }],
            },
          ]),
        ],
      },
    ]);
    const res = await postWebhook(`http://127.0.0.1:${http.port}/webhooks/whatsapp`, payload, {
      appSecret: serveConfig.whatsapp!.appSecret,
    });
    expect(res.status).toBe(200);
    await waitFor(
      'the failed status processed',
      async () => (await channel(STOPPED.id, 'whatsapp')).state === 'stopped',
    );
    expect(await channel(STOPPED.id, 'whatsapp')).toMatchObject({
      events: [{ kind: 'opt_out', source: 'whatsapp-error', evidence: { code: '131050', deliveryId: id } }],
    });
    expect((await channel(FINE.id, 'whatsapp')).state).toBe('active');
  });

  it('counts them in campaign stats and shows them in subscribers show', async () => {
    const { db } = services.database;
    const stats = await createCampaignService({ db }).stats(CAMPAIGN, clock.now());
    const m4 = (name: string) => stats.steps.find((r) => r.step === 'm4' && r.channel === name);
    expect(m4('email')).toMatchObject({ sent: 8, bounced: 3, softBounced: 2, complained: 2, failed: 0 });
    expect(m4('whatsapp')).toMatchObject({
      sent: 1,
      failed: 2,
      bounced: 1,
      complained: 0,
      failedByCode: { '131026': 1, '131050': 1 },
    });
    // Every mail to a return path is counted for the operator's dashboards, repeats included.
    const metrics = await (await fetch(`http://127.0.0.1:${http.port}/metrics`)).text();
    for (const line of [
      'lastcall_mail_reports_total{kind="bounce",outcome="bounced"} 4',
      'lastcall_mail_reports_total{kind="bounce",outcome="soft-bounced"} 2',
      'lastcall_mail_reports_total{kind="complaint",outcome="complained"} 2',
      'lastcall_mail_reports_total{kind="none",outcome="ignored"} 1',
    ])
      expect(metrics).toContain(line);
    const profile = await subscriberProfile(db, { kind: 'id', value: POSTFIX.id });
    expect(profile.channels).toEqual([expect.objectContaining({ channel: 'email', state: 'bounced' })]);
    expect(profile.consentEvents).toEqual([
      expect.objectContaining({
        kind: 'bounce',
        source: 'dsn',
        evidence: expect.objectContaining({ status: '5.1.1' }),
      }),
    ]);
    expect(profile.deliveries.latest).toEqual([
      expect.objectContaining({ step: 'm4', reports: ['bounced 5.1.1'] }),
    ]);
  });

  it('sends step 2 only on the channels still active', async () => {
    await tickAt(STEP2);
    const step2 = (await deliveriesOf(services.database.db, CAMPAIGN))
      .filter((r) => r.step_id === 'm2')
      .map((r) => `${r.subscriber_id}/${r.channel}/${r.status}`)
      .sort();
    expect(step2).toEqual([
      `${DELAYED.id}/email/sent`,
      `${FINE.id}/email/sent`,
      `${FINE.id}/whatsapp/sent`,
      `${TIMEOUT.id}/email/sent`,
    ]);
    for (const s of [GMAIL, OUTLOOK, POSTFIX, ABUSE, YAHOO])
      expect(services.smtp.messages.filter((m) => m.envelope.rcptTo.includes(s.email!))).toHaveLength(1);
    for (const s of [NO_WHATSAPP, STOPPED])
      expect(services.graph.sent().filter((m) => m.to === digits(s.phone!) && m.template)).toHaveLength(
        s === STOPPED ? 1 : 0,
      );
  });
});
