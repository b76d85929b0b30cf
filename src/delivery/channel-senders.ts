// The channel adapters a worker process sends with, built from the config: a channel without
// configuration (no WHATSAPP_TOKEN, no SMTP_URL) is off, and its queue gets no worker.
import type { Config } from '../config/config.ts';
import type { Channel } from '../shared/vocabulary.ts';
import { credentialsFingerprint } from './channel-guard.ts';
import { EmailChannel } from './channels/email.ts';
import { WhatsAppChannel } from './channels/whatsapp.ts';
import type { ChannelSenders } from './send.service.ts';
import type { AccountReader } from './whatsapp-account.service.ts';

export interface ChannelSet {
  readonly senders: ChannelSenders;
  readonly enabled: readonly Channel[];
  /** Fingerprints of each channel's credentials (channel-guard: resume when they change). */
  readonly credentials: Partial<Record<Channel, string>>;
  /** The WhatsApp account's limits, as the Graph API gives them (when WhatsApp is on). */
  readonly whatsappAccount?: AccountReader;
  /** One harmless call per channel (WhatsApp number info, SMTP login): reports a broken
   *  account at start, and opens the connection so the first sends are not late. */
  check(): Promise<{ channel: Channel; problem: string }[]>;
  close(): Promise<void>;
}

export interface ChannelTimeouts {
  /** Per Graph API request (default 10 s). */
  readonly whatsappTimeoutMs?: number;
  /** SMTP connection, greeting and socket inactivity (default 30 s). */
  readonly emailTimeoutMs?: number;
}

/** The WhatsApp adapter for these credentials (the workers, doctor and template management). */
export function whatsAppChannelFor(
  wa: NonNullable<Config['whatsapp']>,
  graphApi: Config['graphApi'],
  timeoutMs?: number,
): WhatsAppChannel {
  return new WhatsAppChannel({
    token: wa.token,
    phoneNumberId: wa.phoneNumberId,
    appSecret: wa.appSecret,
    apiUrl: graphApi.url,
    apiVersion: graphApi.version,
    ...(timeoutMs ? { timeoutMs } : {}),
    ...(wa.businessAccountId ? { businessAccountId: wa.businessAccountId } : {}),
  });
}

export function createChannelSenders(config: Config, timeouts: ChannelTimeouts = {}): ChannelSet {
  const enabled: Channel[] = [];
  const credentials: Partial<Record<Channel, string>> = {};
  let whatsapp: WhatsAppChannel | undefined;
  if (config.whatsapp) {
    const wa = config.whatsapp;
    whatsapp = whatsAppChannelFor(wa, config.graphApi, timeouts.whatsappTimeoutMs);
    enabled.push('whatsapp');
    credentials.whatsapp = credentialsFingerprint(`${wa.phoneNumberId}:${wa.token}`);
  }
  let email: EmailChannel | undefined;
  if (config.email) {
    email = new EmailChannel({
      smtpUrl: config.email.smtpUrl,
      maxConnections: config.email.poolSize,
      ...(timeouts.emailTimeoutMs ? { timeoutMs: timeouts.emailTimeoutMs } : {}),
    });
    enabled.push('email');
    credentials.email = credentialsFingerprint(`${config.email.smtpUrl}:${config.email.from}`);
  }
  return {
    senders: { ...(whatsapp ? { whatsapp } : {}), ...(email ? { email } : {}) },
    ...(whatsapp ? { whatsappAccount: whatsapp } : {}),
    enabled,
    credentials,
    async check() {
      const problems: { channel: Channel; problem: string }[] = [];
      await Promise.all([
        whatsapp
          ?.phoneNumberInfo()
          .catch((e: Error) => problems.push({ channel: 'whatsapp', problem: e.message })),
        email?.verify().catch((e: Error) => problems.push({ channel: 'email', problem: e.message })),
      ]);
      return problems;
    },
    async close() {
      email?.close();
    },
  };
}
