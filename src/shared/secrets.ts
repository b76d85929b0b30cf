// Comparing secrets (verify token, admin token, API keys, session MACs) without leaking them
// through timing.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Constant-time equality of two secrets. Both are hashed first, so not even their lengths show
 *  in the timing. */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHmac('sha256', 'lastcall-compare').update(given).digest();
  const b = createHmac('sha256', 'lastcall-compare').update(expected).digest();
  return timingSafeEqual(a, b);
}
