// The sandbox's mail catcher: a real SMTP server (smtp-server) on 127.0.0.1 that keeps every
// message Lastcall sends, parsed with mailparser, for the inbox page to show beside the WhatsApp
// conversations. No AUTH, no relay, nothing leaves the machine; a message is parsed before the
// 250 reply, so a send that succeeded is already in the inbox. Messages live in memory only.
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { InboxStore } from './inbox-store.ts';

/** One caught message, as the inbox shows it. */
export interface CaughtMail {
  readonly id: string;
  readonly at: number;
  /** The envelope recipient: the mailbox the message is filed under. */
  readonly to: string;
  readonly from: string;
  readonly subject: string;
  readonly text: string;
  /** The HTML part, when there is one: shown as a mail client would, in a sandboxed frame. */
  readonly html?: string;
  /** List-Unsubscribe's http(s) link, when the message has one. */
  readonly unsubscribeUrl?: string;
  /** List-Unsubscribe-Post: List-Unsubscribe=One-Click (RFC 8058) is present. */
  readonly oneClick: boolean;
  /** What Lastcall answered to the inbox's one-click unsubscribe, once pressed. */
  oneClickResult?: string;
}

export interface MailCatcher {
  /** smtp://127.0.0.1:<port>, for SMTP_URL. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const MAX_SIZE = 1024 * 1024;

/** A header's raw value (unfolded), from mailparser's header lines. */
function rawHeader(lines: readonly { key: string; line: string }[], name: string): string {
  const found = lines.find((l) => l.key === name)?.line ?? '';
  return found
    .slice(found.indexOf(':') + 1)
    .replace(/\r?\n[ \t]+/g, ' ')
    .trim();
}

/** The http(s) link of "List-Unsubscribe: <https://…>, <mailto:…>". */
function listUnsubscribeUrl(header: string): string | undefined {
  return header
    .split(',')
    .map((part) => part.trim().replace(/^<|>$/g, ''))
    .find((part) => /^https?:\/\//.test(part));
}

export async function startMailCatcher(
  store: InboxStore,
  options: { readonly host?: string; readonly port?: number; readonly clock: () => Date },
): Promise<MailCatcher> {
  let sequence = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    size: MAX_SIZE,
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          const unsubscribeUrl = listUnsubscribeUrl(rawHeader(mail.headerLines, 'list-unsubscribe'));
          const post = rawHeader(mail.headerLines, 'list-unsubscribe-post');
          const at = options.clock().getTime();
          for (const rcpt of session.envelope.rcptTo) {
            sequence += 1;
            store.recordMail({
              id: `mail-${sequence}`,
              at,
              to: rcpt.address.toLowerCase(),
              from: mail.from?.text ?? '',
              subject: mail.subject ?? '',
              text: mail.text ?? '',
              ...(typeof mail.html === 'string' ? { html: mail.html } : {}),
              ...(unsubscribeUrl ? { unsubscribeUrl } : {}),
              oneClick: /List-Unsubscribe=One-Click/i.test(post),
            });
          }
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });
  server.on('error', () => {
    // A client that drops the connection; the next message is unaffected.
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
