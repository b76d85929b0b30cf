// The signature of an outbound event (docs/api.md, "Outbound events"; receivers rely on it):
//   Lastcall-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed by EVENTS_SECRET>
// The timestamp is inside the MAC, so a receiver that refuses old timestamps refuses replays of a
// captured request; the raw body is signed, so the receiver must verify before parsing.
import { createHmac } from 'node:crypto';
import { sameSecret } from '../shared/secrets.ts';

export const SIGNATURE_HEADER = 'lastcall-signature';

export function signEvent(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/** What a receiver does: true when `header` signs `body` with `secret`, within `toleranceS` of
 *  `nowS` (default 5 minutes). Constant-time on the MAC. */
export function verifyEventSignature(
  secret: string,
  header: string | undefined,
  body: string,
  nowS: number,
  toleranceS = 300,
): boolean {
  const parts = new Map((header ?? '').split(',').map((p) => p.trim().split('=', 2) as [string, string]));
  const t = Number(parts.get('t'));
  const mac = parts.get('v1');
  if (!Number.isSafeInteger(t) || !mac || Math.abs(nowS - t) > toleranceS) return false;
  return sameSecret(signEvent(secret, body, t), `t=${t},v1=${mac}`);
}
