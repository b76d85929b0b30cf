// X-Hub-Signature-256 on WhatsApp webhooks: `sha256=` + hex HMAC-SHA256(app secret) over the body
// *as Meta escapes it*: every UTF-16 unit outside printable ASCII written as `\u` + 4 lowercase
// hex digits (an emoji is a surrogate pair, "\ud83d\udc4d"). Meta usually sends that escaped,
// pure-ASCII body, where escaping is a no-op; a body decoded to UTF-8 on the way (a proxy, a
// re-encoding) still verifies because it is escaped again before hashing. This is exactly what
// whatsapp-api-js 6.3 does (`escapeUnicode` + HMAC), with Node's crypto and a constant-time compare.
// Never re-serialise a parsed body: Meta writes "/" as "\/" and the bytes would differ.
import { createHmac, timingSafeEqual } from 'node:crypto';

export function escapeUnicode(text: string): string {
  return text.replace(/[^\0-~]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export type SignatureCheck = 'ok' | 'missing' | 'malformed' | 'mismatch';

const HEADER = /^sha256=([0-9a-f]{64})$/i;

/** Checks the X-Hub-Signature-256 header against the raw request body. */
export function checkWebhookSignature(
  appSecret: string,
  rawBody: Buffer,
  header: string | string[] | undefined,
): SignatureCheck {
  if (header === undefined || header === '') return 'missing';
  const match = typeof header === 'string' ? HEADER.exec(header.trim()) : null;
  if (!match?.[1]) return 'malformed';
  const given = Buffer.from(match[1].toLowerCase(), 'hex');
  const expected = createHmac('sha256', appSecret)
    .update(escapeUnicode(rawBody.toString('utf8')), 'utf8')
    .digest();
  return given.length === expected.length && timingSafeEqual(given, expected) ? 'ok' : 'mismatch';
}
