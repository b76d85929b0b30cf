// SMTP: when the email channel is on, connect and log in with SMTP_URL (nodemailer's verify()),
// and say whether the List-Unsubscribe mailto of the emails is received by Lastcall.
import type { Config } from '../../config/config.ts';
import { EmailChannel } from '../../delivery/channels/email.ts';
import { senderAddress } from '../../subscribers/unsubscribe-mailto.ts';
import type { Finding } from './finding.ts';

const TIMEOUT_MS = 10_000;

export async function smtpCheck(
  config: Pick<Config, 'email' | 'publicUrl'> & Partial<Pick<Config, 'unsubscribeSmtp'>>,
): Promise<Finding[]> {
  const base = { check: 'smtp', title: 'SMTP' } as const;
  if (config.email === undefined)
    return [{ ...base, status: 'skip', detail: 'email channel off (SMTP_URL is not set)' }];
  return [await login(config.email), mailtoFinding(config.email.from, config)];
}

function mailtoFinding(
  from: string,
  config: Pick<Config, 'publicUrl'> & Partial<Pick<Config, 'unsubscribeSmtp'>>,
): Finding {
  const base = { check: 'smtp', title: 'unsubscribe mailto' } as const;
  if (config.unsubscribeSmtp)
    return {
      ...base,
      status: 'ok',
      detail: `${config.unsubscribeSmtp.mailbox}, received by serve on port ${config.unsubscribeSmtp.port} (${config.unsubscribeSmtp.tls ? 'STARTTLS offered' : 'no STARTTLS: set UNSUBSCRIBE_SMTP_TLS_CERT and _KEY'})`,
    };
  return {
    ...base,
    status: 'warn',
    detail: `goes to ${senderAddress(from)}, and nothing in Lastcall reads it (the https one-click link works)`,
    fix: `set UNSUBSCRIBE_SMTP_PORT (e.g. 2525) and route port 25 of ${new URL(config.publicUrl).hostname} to it`,
  };
}

async function login(email: NonNullable<Config['email']>): Promise<Finding> {
  const base = { check: 'smtp', title: 'SMTP' } as const;
  const channel = new EmailChannel({
    smtpUrl: email.smtpUrl,
    timeoutMs: TIMEOUT_MS,
    maxConnections: 1,
  });
  try {
    await channel.verify();
    const url = new URL(email.smtpUrl);
    return {
      ...base,
      status: 'ok',
      detail: `${url.protocol}//${url.host} accepted the connection and login; sending as ${email.from}`,
    };
  } catch (error) {
    return {
      ...base,
      status: 'fail',
      detail: (error as Error).message,
      fix: 'check the host, port, user and password in SMTP_URL, and that the server is up',
    };
  } finally {
    channel.close();
  }
}
