// The HTTP tests' world: a migrated database of their own, the real SMTP fake, the real
// subscription service and server, a manual clock, and every log line kept for inspection.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createCampaignService } from '../../src/campaigns/campaign.service.ts';
import type { ServeConfig } from '../../src/config/config.ts';
import { buildServer } from '../../src/http/server.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { createToken, type TokenClaims } from '../../src/subscribers/tokens.ts';
import { type FakeSmtp, startFakeSmtp } from '../fakes/smtp.ts';
import { campaignFile } from './campaign.ts';
import { testConfig } from './config.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { testServices } from './services.ts';

export const START = Date.parse('2026-05-04T09:30:00Z');
export const SENDER = 'Lastcall Test';

/** WhatsApp settings, so that the sign-up pages offer WhatsApp (nothing is sent in these tests). */
export const WHATSAPP_ENV = {
  WHATSAPP_TOKEN: 'test-token',
  WHATSAPP_PHONE_NUMBER_ID: '100000000000001',
  WHATSAPP_APP_SECRET: 'test-app-secret',
  WHATSAPP_VERIFY_TOKEN: 'test-verify-token',
} as const;

export interface Harness {
  readonly app: Awaited<ReturnType<typeof buildServer>>;
  readonly database: TestDatabase;
  readonly smtp: FakeSmtp;
  readonly config: ServeConfig;
  readonly clock: ManualClock;
  /** Subscriber ids passed to onSubscriberActivated, in order. */
  readonly activated: string[];
  /** Every log line the server wrote, as JSON text. */
  readonly logs: string[];
  token(claims: TokenClaims, at?: number): string;
  close(): Promise<void>;
}

/** The draft campaign for everyone the harness creates, so that /subscribe has something to join. */
export const EVERYONE_CAMPAIGN = 'everyone';

export async function startHarness(
  options: {
    env?: Record<string, string>;
    rateLimitMax?: number;
    /** false: no campaign at all, so the general form has nothing to sign up to. */
    campaignForEveryone?: boolean;
  } = {},
) {
  const database = await createTestDatabase();
  if (options.campaignForEveryone !== false)
    await createCampaignService({ db: database.db }).create(campaignFile(EVERYONE_CAMPAIGN), START);
  const smtp = await startFakeSmtp();
  const config = testConfig(
    {
      DATABASE_URL: database.url,
      SMTP_URL: smtp.url,
      MAIL_FROM: 'Lastcall <no-reply@lastcall.example>',
      PUBLIC_URL: 'https://lastcall.example',
      CONSENT_RECORD_IP: 'true',
      SENDER_NAME: SENDER,
      // Both channels configured: the pages offer only the configured ones.
      ...WHATSAPP_ENV,
      ...options.env,
    },
    'serve',
  );
  const clock = new ManualClock(START);
  const activated: string[] = [];
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const logger = pino({ level: 'info' }, stream);
  const services = testServices(config, database.db, {
    clock,
    logger,
    onSubscriberActivated: (id) => {
      activated.push(id);
    },
  });
  const app = await buildServer({
    config,
    db: database.db,
    services,
    clock,
    logger,
    subscribeRateLimit: { max: options.rateLimitMax ?? 10, timeWindowMs: 60_000 },
  });
  await app.ready();
  const harness: Harness = {
    app,
    database,
    smtp,
    config,
    clock,
    activated,
    logs,
    token: (claims, at = clock.now()) => createToken(config.secretKey!, claims, at),
    async close() {
      await app.close();
      await services.close();
      await smtp.close();
      await database.drop();
    },
  };
  return harness;
}

/** An application/x-www-form-urlencoded body; arrays repeat the key. */
export function formBody(fields: Readonly<Record<string, string | readonly string[]>>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) {
    for (const v of typeof value === 'string' ? [value] : value) params.append(key, v);
  }
  return params.toString();
}

export const FORM = 'application/x-www-form-urlencoded';

export const GOOD_SIGN_UP = {
  lang: 'fr',
  name: 'Élodie Martin',
  phone: '+33612345678',
  email: 'Elodie.Martin@example.org',
  assistant: 'copilot',
  channels: ['whatsapp', 'email'],
  timezone: 'Europe/Paris',
  consent: 'yes',
  website: '',
} as const;

/** The path of the first /confirm/ link in a text. */
export function confirmPath(text: string): string {
  const match = /https:\/\/lastcall\.example(\/confirm\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/.exec(text);
  if (!match?.[1]) throw new Error('no confirmation link in the email');
  return match[1];
}
