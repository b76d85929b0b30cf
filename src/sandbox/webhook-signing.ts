// Signed webhook delivery, byte for byte as Meta does it.
//
// What Meta sends, worked out from whatsapp-api-js 6.3 and its issue tracker:
// - `verifyRequestSignature(raw, sig)` HMACs `escapeUnicode(raw)`, where escapeUnicode writes every
//   character outside printable ASCII as `\u` + 4 lowercase hex digits of its UTF-16 unit (an
//   emoji becomes a surrogate pair "\ud83d\udc4d"). Meta's docs: "we generate the signature using
//   an escaped unicode version of the payload, with lowercase hex digits" (äöå → \u00e4\u00f6\u00e5).
// - Meta's serializer also writes "/" as "\/" (PHP json_encode defaults): re-serialising a parsed
//   body drops those escapes and breaks the signature (whatsapp-api-js #380), so the signed bytes
//   are the serializer's own output, not a canonical re-encoding.
// - Receivers report the body arriving already escaped (pure ASCII), which is why raw-byte HMAC
//   checks work for them; whatsapp-api-js #290 ("J'ai mangé des pâtes" → 401) was fixed by
//   escaping before hashing, which is a no-op on such a body and rescues a body that a framework
//   or proxy decoded to UTF-8 on the way.
// So the default `meta` encoding sends the escaped ASCII JSON and signs exactly those bytes: every
// correct verifier accepts it. `utf8` sends the same JSON with the characters as UTF-8 but keeps
// the signature over the escaped form; only a verifier that escapes first (as whatsapp-api-js does)
// accepts it, and one hashing the raw UTF-8 bytes fails on French text.
import { createHmac } from 'node:crypto';

export type WebhookEncoding = 'meta' | 'utf8';

/** JSON as Meta writes it: "/" as "\/", every non-printable-ASCII UTF-16 unit as \uXXXX (lowercase). */
export function metaJson(payload: unknown): string {
  return JSON.stringify(payload)
    .replaceAll('/', '\\/')
    .replace(/[^\0-~]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The X-Hub-Signature-256 value for these exact body bytes: `sha256=<hex HMAC-SHA256(appSecret)>`. */
export function signWebhook(appSecret: string, body: string | Uint8Array): string {
  return `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`;
}

export interface EncodedWebhook {
  /** The request body, as sent. */
  body: string;
  /** The X-Hub-Signature-256 header value. */
  signature: string;
}

export function encodeWebhook(
  payload: unknown,
  appSecret: string,
  encoding: WebhookEncoding = 'meta',
): EncodedWebhook {
  const escaped = metaJson(payload);
  const body = encoding === 'meta' ? escaped : JSON.stringify(payload).replaceAll('/', '\\/');
  return { body, signature: signWebhook(appSecret, escaped) };
}

export interface PostWebhookOptions {
  appSecret: string;
  encoding?: WebhookEncoding;
  timeoutMs?: number;
  /** Override the signature header (e.g. a wrong one, to test refusals); `null` omits it. */
  signature?: string | null;
}

export interface PostWebhookResult {
  status: number;
  body: string;
}

/** POSTs a webhook the way Meta does: application/json, UTF-8, X-Hub-Signature-256. */
export async function postWebhook(
  url: string,
  payload: unknown,
  opts: PostWebhookOptions,
): Promise<PostWebhookResult> {
  const encoded = encodeWebhook(payload, opts.appSecret, opts.encoding);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'facebookexternalua',
  };
  const signature = opts.signature === undefined ? encoded.signature : opts.signature;
  if (signature !== null) headers['x-hub-signature-256'] = signature;
  const res = await fetch(url, {
    method: 'POST',
    headers,
    body: encoded.body,
    signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
  });
  return { status: res.status, body: await res.text() };
}
