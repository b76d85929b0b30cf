// The envelope sender of a reminder (docs/operations.md, "Bounces and complaints"): with
// UNSUBSCRIBE_SMTP_PORT set, each email goes out with MAIL FROM bounce+<token>@<PUBLIC_URL host>
// (VERP), where the token is signed and names the delivery (tokens.ts). Receiving servers send
// delivery status notifications to the envelope sender, and feedback loops send complaints there:
// `serve`'s SMTP listener receives them (inbound/unsubscribe-smtp.ts) and knows, from the address
// alone, which delivery bounced. Both ends of the address live here.
import { createReturnPathToken, verifyReturnPathToken } from './tokens.ts';

const LOCAL_PREFIX = 'bounce+';

export function returnPathAddress(secretKey: string, deliveryId: number, domain: string): string {
  return `${LOCAL_PREFIX}${createReturnPathToken(secretKey, deliveryId)}@${domain}`;
}

/**
 * What an SMTP recipient is to the listener: a return path of ours (its delivery id, when the
 * token verifies), a forged one, or some other address.
 */
export function readReturnPath(
  secretKey: string,
  address: string,
  domain: string,
): { readonly deliveryId: number } | 'forged' | undefined {
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at).toLowerCase();
  if (at < 0 || address.slice(at + 1).toLowerCase() !== domain.toLowerCase()) return undefined;
  if (!local.startsWith(LOCAL_PREFIX)) return undefined;
  const deliveryId = verifyReturnPathToken(secretKey, local.slice(LOCAL_PREFIX.length));
  return deliveryId === undefined ? 'forged' : { deliveryId };
}
