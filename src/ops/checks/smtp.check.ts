// SMTP: when the email channel is on, connect and log in with SMTP_URL (nodemailer's verify()).
import type { Config } from '../../config/config.ts';
import { EmailChannel } from '../../delivery/channels/email.ts';
import type { Finding } from './finding.ts';

const TIMEOUT_MS = 10_000;

export async function smtpCheck(config: Pick<Config, 'email'>): Promise<Finding[]> {
  const base = { check: 'smtp', title: 'SMTP' } as const;
  if (config.email === undefined)
    return [{ ...base, status: 'skip', detail: 'email channel off (SMTP_URL is not set)' }];
  const channel = new EmailChannel({
    smtpUrl: config.email.smtpUrl,
    timeoutMs: TIMEOUT_MS,
    maxConnections: 1,
  });
  try {
    await channel.verify();
    const url = new URL(config.email.smtpUrl);
    return [
      {
        ...base,
        status: 'ok',
        detail: `${url.protocol}//${url.host} accepted the connection and login; sending as ${config.email.from}`,
      },
    ];
  } catch (error) {
    return [
      {
        ...base,
        status: 'fail',
        detail: (error as Error).message,
        fix: 'check the host, port, user and password in SMTP_URL, and that the server is up',
      },
    ];
  } finally {
    channel.close();
  }
}
