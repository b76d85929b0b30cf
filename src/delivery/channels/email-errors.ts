// SMTP failures → send outcomes. A server that refuses connections or answers 421 is
// unavailable (the queue waits, no message's attempt is spent). A 4xx reply (and 503, see nodemailer's `permanent`) is worth
// another try; a 5xx reply to RCPT TO or DATA refuses this message for good; a refused login or
// sender address (5xx to AUTH or MAIL FROM) would refuse every message: the channel is down until
// the configuration is fixed. Connection trouble is retried. Details drop email addresses: servers
// echo the recipient back ("550 <ana@example.org>: unknown user") and outcomes end up in logs.
import type { FailedOutcome } from './outcome.ts';

interface SmtpError {
  code?: string;
  command?: string;
  /** Set by Node on socket errors: 'connect' when the connection itself failed. */
  syscall?: string;
  response?: string;
  responseCode?: number;
  permanent?: boolean;
  message?: string;
}

const CONFIG_CODES = new Set(['EAUTH', 'ENOAUTH', 'ETLS', 'EREQUIRETLS']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT']);

export function scrubAddresses(text: string): string {
  return text.replace(/[^\s<>"'(),;:]+@[^\s<>"'(),;:]+/g, '<address>');
}

export function classifySmtpError(err: unknown): FailedOutcome {
  const e = (err ?? {}) as SmtpError;
  const detail = scrubAddresses(e.response ?? e.message ?? String(err)).slice(0, 500);
  const command = (e.command ?? '').toUpperCase();
  if (e.code && CONFIG_CODES.has(e.code)) return { outcome: 'channel-down', code: e.code, detail };
  // The server is down or refuses service: no message got anywhere, and none would right now.
  // 421 is "service not available, closing the channel" at any stage (RFC 5321 4.2.3).
  if (e.responseCode === 421) return { outcome: 'unavailable', code: '421', detail };
  if (e.syscall === 'connect' || e.code === 'EDNS')
    return { outcome: 'unavailable', code: 'unreachable', detail: `cannot reach the SMTP server: ${detail}` };
  if (typeof e.responseCode === 'number') {
    const code = String(e.responseCode);
    const permanent = e.permanent ?? (e.responseCode >= 500 && e.responseCode !== 503);
    if (!permanent) return { outcome: 'retry', code, detail };
    if (command.startsWith('MAIL FROM') || command.startsWith('AUTH'))
      return { outcome: 'channel-down', code, detail };
    return { outcome: 'permanent', code, detail };
  }
  if (e.code && TIMEOUT_CODES.has(e.code)) return { outcome: 'retry', code: 'timeout', detail };
  if (e.code === 'EMESSAGE' || e.code === 'EENVELOPE') return { outcome: 'permanent', code: e.code, detail };
  return { outcome: 'retry', code: 'network', detail: e.code ? `${e.code}: ${detail}` : detail };
}
