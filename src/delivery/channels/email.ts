// The email channel: nodemailer's pooled SMTP transport from an SMTP URL. Every reminder carries
// RFC 8058 one-click unsubscribe (List-Unsubscribe with the https URL and a mailto, plus
// List-Unsubscribe-Post), the caller's stable Message-ID, and optionally the deadline as a
// calendar event. nodemailer formats every `list` value as a URL, so List-Unsubscribe-Post goes in
// `headers`; the nested array makes one comma-joined List-Unsubscribe header (not two).
import { Transform, type TransformCallback } from 'node:stream';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import { classifySmtpError } from './email-errors.ts';
import { buildIcs, ICS_METHOD, type IcsEvent } from './ics.ts';
import type { SendOutcome } from './outcome.ts';

export interface DkimOptions {
  domainName: string;
  keySelector: string;
  /** PEM RSA private key. */
  privateKey: string;
}

export interface EmailChannelOptions {
  /** smtp://user:pass@host:port or smtps://… */
  smtpUrl: string;
  dkim?: DkimOptions;
  /** Connection, greeting and socket inactivity timeout. Default 30 s. */
  timeoutMs?: number;
  /** SMTP connections at most (EMAIL_POOL_SIZE for the workers; default 5, nodemailer's): how
   *  many messages are in the air at once. The rate is the queue's limiter and gate, not this. */
  maxConnections?: number;
  clock?: () => Date;
}

export interface EmailSend {
  to: string;
  from: string;
  subject: string;
  text: string;
  html: string;
  /** Stable per delivery ("<delivery-id@host>"), so a retried send is recognisably the same mail. */
  messageId: string;
  unsubscribeUrl: string;
  unsubscribeMailto: string;
  /** The envelope sender (MAIL FROM) when not `from`: bounce+<token>@… (docs/operations.md). */
  returnPath?: string;
  ics?: IcsEvent;
}

/** The URL without its credentials, for messages. */
function safeUrl(smtpUrl: string): string {
  try {
    const u = new URL(smtpUrl);
    return `${u.protocol}//${u.host}`;
  } catch {
    return 'the SMTP URL';
  }
}

/** What nodemailer is given for one reminder (the benchmark's ceiling sends the same). */
export function mailOptions(msg: EmailSend, now: Date): SendMailOptions {
  const mailto = msg.unsubscribeMailto.startsWith('mailto:')
    ? msg.unsubscribeMailto
    : `mailto:${msg.unsubscribeMailto}`;
  return {
    from: msg.from,
    to: msg.to,
    subject: msg.subject,
    text: msg.text,
    html: msg.html,
    messageId: msg.messageId,
    // VERP: bounces and complaints go to the envelope sender, which names this delivery.
    // The receiving server writes it into Return-Path; the header From stays MAIL_FROM.
    ...(msg.returnPath ? { envelope: { from: msg.returnPath, to: msg.to } } : {}),
    list: { unsubscribe: [[msg.unsubscribeUrl, mailto]] },
    headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
    ...(msg.ics
      ? { icalEvent: { filename: 'deadline.ics', method: ICS_METHOD, content: buildIcs(msg.ics, now) } }
      : {}),
  };
}

/**
 * Hands a message on in one piece. nodemailer streams it to the socket in the pieces it builds
 * it from (about 20 for a reminder: header blocks, boundaries, encoded parts), and with Nagle
 * off each piece is a write of its own: a syscall and a TCP segment, for the sender and for the
 * server (bench/email.ts: the largest single cost in a worker's profile). A reminder is a few
 * KiB, so holding it whole costs nothing worth counting.
 */
class WholeMessage extends Transform {
  readonly #chunks: Buffer[] = [];

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#chunks.push(chunk);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    callback(null, Buffer.concat(this.#chunks));
  }
}

export class EmailChannel {
  readonly #transport;
  readonly #opts: EmailChannelOptions;
  readonly #clock: () => Date;

  constructor(opts: EmailChannelOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? (() => new Date());
    const timeout = opts.timeoutMs ?? 30_000;
    this.#transport = nodemailer.createTransport({
      pool: true,
      url: opts.smtpUrl,
      maxConnections: opts.maxConnections ?? 5,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
      ...(opts.dkim ? { dkim: opts.dkim } : {}),
    });
    this.#transport.use('stream', (mail, done) => {
      mail.message.transform(() => new WholeMessage());
      done();
    });
  }

  async sendEmail(msg: EmailSend): Promise<SendOutcome> {
    try {
      const info = await this.#transport.sendMail(mailOptions(msg, this.#clock()));
      if (info.rejected.length > 0 && info.accepted.length === 0) {
        return { outcome: 'permanent', code: 'rejected', detail: `recipient refused: ${info.response}` };
      }
      return { outcome: 'sent', messageId: info.messageId, response: info.response };
    } catch (err) {
      return classifySmtpError(err);
    }
  }

  /** Connects and authenticates (for `doctor`); throws a message naming what to fix. */
  async verify(): Promise<void> {
    try {
      await this.#transport.verify();
    } catch (err) {
      const e = err as Error & { code?: string; response?: string };
      const why = [e.code, e.response ?? e.message].filter(Boolean).join(': ');
      throw new Error(`SMTP check failed for ${safeUrl(this.#opts.smtpUrl)} (${why}); check SMTP_URL`);
    }
  }

  close(): void {
    this.#transport.close();
  }
}
