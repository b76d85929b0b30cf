// A real SMTP server on 127.0.0.1 (smtp-server) for tests: AUTH PLAIN/LOGIN over plain text (no
// STARTTLS), each message parsed with mailparser before the 250 reply, so a resolved sendMail
// means the message is already in `messages`. Failures: a 4xx/5xx reply at RCPT TO for one
// recipient, or at the end of DATA for the next N messages. Outages (`setAvailability`): the
// port refusing connections (the listener closed, open connections cut), or a 421 greeting
// to every new connection; then accepting again on the same port.
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerError } from 'smtp-server';

export interface ReceivedMail {
  envelope: { mailFrom: string; rcptTo: string[] };
  parsed: ParsedMail;
  /** Raw header values by lowercase name, unfolded; repeated headers joined with "\n". */
  headers: Record<string, string>;
  raw: Buffer;
  /** The authenticated user, if any. */
  user?: string;
  /** The SMTP session (one TCP connection) it came on. */
  session: string;
}

export interface SmtpFailure {
  /** SMTP reply code, e.g. 451 (try later) or 550 (mailbox unavailable). */
  code: number;
  message?: string;
}

export interface FakeSmtpOptions {
  /** Credentials to require; without them AUTH is optional and anything is accepted. */
  user?: string;
  pass?: string;
}

export interface FakeSmtp {
  host: string;
  port: number;
  /** smtp://user:pass@127.0.0.1:port, ready for SMTP_URL. */
  url: string;
  messages: ReceivedMail[];
  waitFor(predicate: (m: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  /** `to`: reject that recipient at RCPT TO (unlimited unless `times`); else the next `times` (1) messages at DATA. */
  setFailure(failure: SmtpFailure, scope?: { to?: string; times?: number }): void;
  clearFailures(): void;
  /** 'refuse': connections refused (ECONNREFUSED); 'busy': "421 service not available" to
   *  each new connection; 'accept': back to normal, same port. Resolves once in effect. */
  setAvailability(mode: 'refuse' | 'busy' | 'accept'): Promise<void>;
  /** Connections answered 421 so far. */
  readonly busyAnswers: () => number;
  reset(): void;
  close(): Promise<void>;
}

interface Rule {
  failure: SmtpFailure;
  to: string | undefined;
  remaining: number;
}

const smtpError = (f: SmtpFailure): SMTPServerError =>
  Object.assign(
    new Error(
      f.message ??
        (f.code >= 500
          ? 'Requested action not taken: mailbox unavailable'
          : 'Requested action aborted: try again later'),
    ),
    {
      responseCode: f.code,
    },
  );

function headerRecord(mail: ParsedMail): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { key, line } of mail.headerLines) {
    const value = line
      .slice(line.indexOf(':') + 1)
      .replace(/\r?\n[ \t]+/g, ' ')
      .trim();
    out[key] = out[key] === undefined ? value : `${out[key]}\n${value}`;
  }
  return out;
}

export async function startFakeSmtp(opts: FakeSmtpOptions = {}): Promise<FakeSmtp> {
  const messages: ReceivedMail[] = [];
  const events = new EventEmitter();
  let rules: Rule[] = [];
  const take = (match: (r: Rule) => boolean): SmtpFailure | undefined => {
    const rule = rules.find((r) => r.remaining > 0 && match(r));
    if (!rule) return undefined;
    rule.remaining -= 1;
    rules = rules.filter((r) => r.remaining > 0);
    return rule.failure;
  };
  const requireAuth = opts.user !== undefined;
  let availability: 'refuse' | 'busy' | 'accept' = 'accept';
  let busyAnswers = 0;

  const server = new SMTPServer({
    logger: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: !requireAuth,
    closeTimeout: 200,
    disableReverseLookup: true,
    onConnect(_session, cb) {
      if (availability !== 'busy') return cb();
      busyAnswers += 1;
      cb(
        Object.assign(new Error('Service not available, closing transmission channel'), {
          responseCode: 421,
        }),
      );
    },
    onAuth(auth, _session, cb) {
      if (!requireAuth || (auth.username === opts.user && auth.password === opts.pass)) {
        return cb(null, { user: auth.username });
      }
      cb(Object.assign(new Error('Authentication credentials invalid'), { responseCode: 535 }));
    },
    onRcptTo(address, _session, cb) {
      const failure = take((r) => r.to !== undefined && r.to === address.address.toLowerCase());
      cb(failure ? smtpError(failure) : null);
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        const failure = take((r) => r.to === undefined);
        if (failure) return cb(smtpError(failure));
        const raw = Buffer.concat(chunks);
        const parsed = await simpleParser(raw);
        const mail: ReceivedMail = {
          envelope: {
            mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            rcptTo: session.envelope.rcptTo.map((r) => r.address),
          },
          parsed,
          headers: headerRecord(parsed),
          raw,
          session: session.id,
        };
        if (session.user) mail.user = String(session.user);
        messages.push(mail);
        events.emit('message', mail);
        cb(null, `Ok: queued as fake-${messages.length}`);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.server.address() as AddressInfo;
  const creds = requireAuth
    ? `${encodeURIComponent(opts.user ?? '')}:${encodeURIComponent(opts.pass ?? '')}@`
    : '';

  return {
    host: '127.0.0.1',
    port,
    url: `smtp://${creds}127.0.0.1:${port}`,
    messages,
    waitFor(predicate, timeoutMs = 5_000) {
      const found = messages.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          events.off('message', onMessage);
          reject(
            new Error(`fake SMTP: no matching message within ${timeoutMs} ms (${messages.length} received)`),
          );
        }, timeoutMs);
        const onMessage = (m: ReceivedMail) => {
          if (!predicate(m)) return;
          clearTimeout(timer);
          events.off('message', onMessage);
          resolve(m);
        };
        events.on('message', onMessage);
      });
    },
    setFailure(failure, scope = {}) {
      const to = scope.to?.toLowerCase();
      rules.push({
        failure,
        to,
        remaining: scope.times ?? (to === undefined ? 1 : Number.POSITIVE_INFINITY),
      });
    },
    clearFailures() {
      rules = [];
    },
    async setAvailability(mode) {
      const wasRefusing = availability === 'refuse';
      availability = mode;
      const listener = server.server;
      if (mode === 'refuse' && !wasRefusing) {
        // Stop listening and cut the open (pooled) connections: the client must reconnect.
        const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
        const open = (server as unknown as { connections: Set<{ close(): void }> }).connections;
        for (const connection of [...open]) connection.close();
        await closed;
      } else if (mode !== 'refuse' && wasRefusing) {
        await new Promise<void>((resolve) => listener.listen(port, '127.0.0.1', () => resolve()));
      }
    },
    busyAnswers: () => busyAnswers,
    reset() {
      messages.length = 0;
      rules = [];
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
