// Link tokens for the confirm / unsubscribe / done links (docs/subscribers.md, "Public pages and
// links"). A token is `<payload>.<signature>`, both base64url: the payload is a small JSON object
// naming the action, the subscriber, the channel where relevant and an expiry; the signature is
// HMAC-SHA256 over a versioned prefix plus the payload text, keyed with SECRET_KEY. Changing any
// byte of either part breaks the signature, so a token cannot be moved to another subscriber,
// action or channel. The signature is checked (in constant time) before the payload is parsed.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Channel } from '../shared/vocabulary.ts';

export const TOKEN_ACTIONS = ['confirm', 'unsubscribe', 'done'] as const;
export type TokenAction = (typeof TOKEN_ACTIONS)[number];
export type UnsubscribeScope = Channel | 'all';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Confirmation links are short-lived; unsubscribe and done links sit in old messages and must
 * keep working for as long as a reminder can be read (RFC 8058 one-click included). */
export const TOKEN_TTL_MS: Readonly<Record<TokenAction, number>> = {
  confirm: 7 * DAY_MS,
  unsubscribe: 400 * DAY_MS,
  done: 400 * DAY_MS,
};

export type TokenClaims =
  | { readonly action: 'confirm'; readonly subscriberId: string; readonly channel: 'email' }
  | { readonly action: 'unsubscribe'; readonly subscriberId: string; readonly channel: UnsubscribeScope }
  | { readonly action: 'done'; readonly subscriberId: string };

export type VerifiedToken<A extends TokenAction = TokenAction> = Extract<TokenClaims, { action: A }> & {
  /** Epoch milliseconds. */
  readonly expiresAt: number;
};

export type TokenFailure = 'malformed' | 'bad-signature' | 'expired' | 'wrong-action';
export type TokenResult<A extends TokenAction> =
  | { readonly ok: true; readonly token: VerifiedToken<A> }
  | { readonly ok: false; readonly reason: TokenFailure };

const SIGNING_PREFIX = 'lastcall-link-v1.';
const B64URL = /^[A-Za-z0-9_-]+$/;
const SCOPES: readonly string[] = ['whatsapp', 'email', 'all'];

function sign(secretKey: string, payload: string): Buffer {
  return createHmac('sha256', secretKey).update(SIGNING_PREFIX).update(payload).digest();
}

/** `now` in epoch milliseconds; the expiry is kept to the second. */
export function createToken(secretKey: string, claims: TokenClaims, now: number, ttlMs?: number): string {
  const exp = Math.floor((now + (ttlMs ?? TOKEN_TTL_MS[claims.action])) / 1000);
  const body: Record<string, string | number> = { a: claims.action, s: claims.subscriberId, e: exp };
  if ('channel' in claims) body.c = claims.channel;
  const payload = Buffer.from(JSON.stringify(body)).toString('base64url');
  return `${payload}.${sign(secretKey, payload).toString('base64url')}`;
}

export function verifyToken<A extends TokenAction>(
  secretKey: string,
  token: string,
  expected: A,
  now: number,
): TokenResult<A> {
  const parts = token.split('.');
  if (parts.length !== 2) return { ok: false, reason: 'malformed' };
  const [payload, signature] = parts as [string, string];
  if (!B64URL.test(payload) || !B64URL.test(signature) || payload.length > 1024)
    return { ok: false, reason: 'malformed' };
  // Compared as canonical text: base64url has spare bits in its last character, and a decoded
  // comparison would accept several spellings of one signature.
  const given = Buffer.from(signature);
  const wanted = Buffer.from(sign(secretKey, payload).toString('base64url'));
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted))
    return { ok: false, reason: 'bad-signature' };

  const claims = parseClaims(payload);
  if (!claims) return { ok: false, reason: 'malformed' };
  if (claims.action !== expected) return { ok: false, reason: 'wrong-action' };
  if (claims.expiresAt <= now) return { ok: false, reason: 'expired' };
  return { ok: true, token: claims as VerifiedToken<A> };
}

/** Only reached for payloads we signed ourselves, but checked anyway: a key shared with an older
 * format must not turn into a crash. */
function parseClaims(payload: string): VerifiedToken | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { a, s, c, e } = raw as Record<string, unknown>;
  if (typeof s !== 'string' || s === '' || typeof e !== 'number' || !Number.isInteger(e)) return undefined;
  const expiresAt = e * 1000;
  if (a === 'confirm' && c === 'email') return { action: a, subscriberId: s, channel: c, expiresAt };
  if (a === 'unsubscribe' && typeof c === 'string' && SCOPES.includes(c))
    return { action: a, subscriberId: s, channel: c as UnsubscribeScope, expiresAt };
  if (a === 'done' && c === undefined) return { action: a, subscriberId: s, expiresAt };
  return undefined;
}

// Return-path tokens (docs/operations.md, "Bounces and complaints"): the `<token>` of a reminder's
// envelope sender bounce+<token>@<PUBLIC_URL host> (VERP), so a delivery status notification or a
// complaint sent there says which delivery it is about. It must fit an address's local part (64
// octets at most, RFC 5321) and survive MTAs that change its case, hence
// `<delivery id>.<hex HMAC>`, compared in lower case, rather than the base64url of the link tokens.
// 80 bits of HMAC-SHA256 under its own prefix: no link token verifies as one, nor the reverse. It
// never expires: DSNs come within days, complaints weeks later, and it can only report on the one
// delivery it names.
const RETURN_PATH_PREFIX = 'lastcall-return-path-v1.';
const RETURN_PATH_HEX = 20;
const RETURN_PATH_TOKEN = /^([1-9][0-9]{0,14})\.([0-9a-f]+)$/;

function returnPathSignature(secretKey: string, deliveryId: number): string {
  return createHmac('sha256', secretKey)
    .update(RETURN_PATH_PREFIX)
    .update(String(deliveryId))
    .digest('hex')
    .slice(0, RETURN_PATH_HEX);
}

export function createReturnPathToken(secretKey: string, deliveryId: number): string {
  return `${deliveryId}.${returnPathSignature(secretKey, deliveryId)}`;
}

/** The delivery id a return-path token names, or undefined when it is malformed or forged. */
export function verifyReturnPathToken(secretKey: string, token: string): number | undefined {
  const match = RETURN_PATH_TOKEN.exec(token.toLowerCase());
  if (!match) return undefined;
  const deliveryId = Number(match[1]);
  const given = Buffer.from(match[2] as string);
  const wanted = Buffer.from(returnPathSignature(secretKey, deliveryId));
  return given.length === wanted.length && timingSafeEqual(given, wanted) ? deliveryId : undefined;
}
