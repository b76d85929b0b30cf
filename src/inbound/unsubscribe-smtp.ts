// The receiving end of the List-Unsubscribe mailto (subscribers/unsubscribe-mailto.ts) and of
// reminders' return paths (subscribers/return-path.ts): with UNSUBSCRIBE_SMTP_PORT set, `serve`
// listens for SMTP there and takes mail for two kinds of address only.
// - unsubscribe@<PUBLIC_URL host>: a mail whose subject carries a valid unsubscribe token ends
//   that consent exactly as the link would (consent event source `mailto`).
// - bounce+<token>@<PUBLIC_URL host>: the envelope sender of one reminder. What arrives there is
//   read as a delivery status notification or a feedback report (mail-reports.ts) and handed to
//   the bounce service (subscribers/bounce.service.ts); anything else (an auto-reply) is
//   accepted and dropped. A token that does not verify is refused at RCPT TO.
// Anything else is refused in the SMTP dialogue, so the sending server tells its user. Route
// port 25 of the PUBLIC_URL host (its MX, or its A record when it has no MX) to this port.
//
// Nothing is relayed, nothing is answered by mail (no backscatter, no loops), no AUTH (mail
// clients submit through their own provider, which delivers here). STARTTLS is offered when
// UNSUBSCRIBE_SMTP_TLS_CERT and _KEY name a certificate for the host. The sender's address is
// personal data: it is neither logged nor stored; the token says who it is.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';
import { mailReportsTotal } from '../shared/metrics.ts';
import type { BounceService } from '../subscribers/bounce.service.ts';
import { readReturnPath } from '../subscribers/return-path.ts';
import type { SubscriptionService } from '../subscribers/subscription.service.ts';
import { verifyToken } from '../subscribers/tokens.ts';
import { tokenInSubject } from '../subscribers/unsubscribe-mailto.ts';
import { MAIL_PARSE_OPTIONS, readMailReport } from './mail-reports.ts';

/** An unsubscribe request is a few hundred bytes; a client may quote a whole reminder, and a
 * DSN or an ARF report carries the reminder (or its headers) back. */
export const MAX_MESSAGE_BYTES = 256 * 1024;
export const MAILTO_SOURCE = 'mailto';

export interface UnsubscribeSmtpDeps {
  /** config.unsubscribeSmtp.mailbox */
  readonly mailbox: string;
  /** config.unsubscribeSmtp.tls: PEM files; STARTTLS is offered with them. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string } | undefined;
  readonly secretKey: string;
  readonly subscriptions: Pick<SubscriptionService, 'unsubscribe'>;
  /** config.unsubscribeSmtp.returnPathDomain: bounce+<token>@ this host is a reminder's return path. */
  readonly returnPathDomain: string;
  readonly reports: Pick<BounceService, 'recordEmailReport'>;
  readonly logger: Logger;
  readonly clock: Clock;
}

export interface UnsubscribeSmtp {
  readonly port: number;
  close(): Promise<void>;
}

const reply = (code: number, message: string) => Object.assign(new Error(message), { responseCode: code });

export async function startUnsubscribeSmtp(
  deps: UnsubscribeSmtpDeps,
  port: number,
  host: string,
): Promise<UnsubscribeSmtp> {
  const mailbox = deps.mailbox.toLowerCase();
  const tls = deps.tls ? readTls(deps.tls) : undefined;
  const server = new SMTPServer({
    logger: false,
    banner: 'Lastcall: unsubscribe requests and delivery reports only',
    disabledCommands: tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    ...(tls ?? {}),
    authOptional: true,
    disableReverseLookup: true,
    size: MAX_MESSAGE_BYTES,
    closeTimeout: 2_000,
    onRcptTo(address, _session, cb) {
      if (address.address.toLowerCase() === mailbox) return cb();
      const returnPath = readReturnPath(deps.secretKey, address.address, deps.returnPathDomain);
      if (returnPath === 'forged') return cb(reply(550, '5.1.1 no such return path'));
      if (returnPath) return cb();
      cb(reply(550, `5.1.1 only <${deps.mailbox}> receives mail here (unsubscribe requests)`));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (stream.sizeExceeded)
          return cb(reply(552, `5.3.4 message larger than ${MAX_MESSAGE_BYTES} bytes`));
        const deliveries = session.envelope.rcptTo.flatMap((rcpt) => {
          const read = readReturnPath(deps.secretKey, rcpt.address, deps.returnPathDomain);
          return typeof read === 'object' ? [read.deliveryId] : [];
        });
        handle(deps, Buffer.concat(chunks), deliveries).then(
          (message) => cb(null, message),
          (error: Error & { responseCode?: number }) => {
            if (error.responseCode === undefined)
              deps.logger.error({ err: error }, 'received mail could not be handled');
            cb(error.responseCode === undefined ? reply(451, '4.3.0 try again later') : error);
          },
        );
      });
    },
  });
  server.on('error', (err) => deps.logger.warn({ err: err.message }, 'unsubscribe SMTP'));
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(port, host, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function readTls(files: { certFile: string; keyFile: string }): { cert: Buffer; key: Buffer } {
  const read = (variable: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new Error(`${variable}=${path}: cannot read the file (${(error as Error).message})`);
    }
  };
  return {
    cert: read('UNSUBSCRIBE_SMTP_TLS_CERT', files.certFile),
    key: read('UNSUBSCRIBE_SMTP_TLS_KEY', files.keyFile),
  };
}

async function handle(deps: UnsubscribeSmtpDeps, raw: Buffer, deliveries: number[]): Promise<string> {
  const mail = await simpleParser(raw, MAIL_PARSE_OPTIONS);
  return deliveries.length > 0 ? handleReport(deps, mail, deliveries) : handleUnsubscribe(deps, mail);
}

/** Mail to a return path: a DSN or a complaint about that delivery, or nothing to act on. */
async function handleReport(
  deps: UnsubscribeSmtpDeps,
  mail: ParsedMail,
  deliveries: number[],
): Promise<string> {
  const report = await readMailReport(mail);
  if (report.kind === 'none') {
    // Auto-replies and vacation notices go to the envelope sender too: accepted, never answered.
    deps.logger.info({ deliveries, reason: report.reason }, 'mail to a return path ignored');
    mailReportsTotal.inc({ kind: 'none', outcome: 'ignored' });
    return '2.0.0 ignored: not a delivery report';
  }
  const now = deps.clock.now();
  const outcomes: string[] = [];
  for (const deliveryId of deliveries) {
    const result = await deps.reports.recordEmailReport(deliveryId, report, now);
    outcomes.push(result.outcome ?? 'nothing to record');
  }
  return `2.0.0 ${report.kind === 'bounce' ? 'delivery status' : 'feedback report'} recorded: ${outcomes.join(', ')}`;
}

async function handleUnsubscribe(deps: UnsubscribeSmtpDeps, mail: ParsedMail): Promise<string> {
  const now = deps.clock.now();
  const token = tokenInSubject(mail.subject ?? '');
  const verified = token === undefined ? undefined : verifyToken(deps.secretKey, token, 'unsubscribe', now);
  if (!verified?.ok) {
    deps.logger.info({ reason: verified?.reason ?? 'no-token' }, 'unsubscribe mail refused');
    throw reply(
      550,
      `5.7.1 no valid unsubscribe link in the subject (${verified?.reason ?? 'none found'}): use the unsubscribe link of the email, or reply to its sender`,
    );
  }
  const { subscriberId, channel } = verified.token;
  const result = await deps.subscriptions.unsubscribe(subscriberId, channel, MAILTO_SOURCE, now);
  deps.logger.info({ subscriberId, changed: result.channels }, 'unsubscribed by mail');
  return result.found ? '2.0.0 unsubscribed' : '2.0.0 nothing to unsubscribe';
}
