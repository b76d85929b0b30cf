// TRUST_PROXY: which reverse proxies may tell Lastcall the visitor's address (X-Forwarded-For),
// so that the per-address limits (sign-up, console sign-in) and the consent evidence see the
// visitor rather than the proxy (docs/docker.md, "TLS in front"). The proxies are named by address
// or range: fastify no longer believes a bare hop count, which cannot tell a proxy from a visitor
// who sends the header.
import { isIP } from 'node:net';

/** The address ranges proxy-addr (fastify's) knows by name. */
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

export type TrustProxy = false | readonly string[];

export const TRUST_PROXY_RULE =
  "must be the proxies' addresses, comma-separated: IPs, ranges such as 10.0.0.0/8, or loopback, linklocal, uniquelocal";

/** The setting, or undefined when the text breaks the rule. Blank: trust nobody. */
export function parseTrustProxy(text: string | undefined): TrustProxy | undefined {
  const value = text?.trim() ?? '';
  if (value === '') return false;
  const items = value.split(',').map((item) => item.trim());
  return items.every(isAddressOrRange) ? items : undefined;
}

function isAddressOrRange(item: string): boolean {
  if (NAMED_RANGES.has(item)) return true;
  const [address = '', prefix, ...rest] = item.split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128);
}
