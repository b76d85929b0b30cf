// Meta's portfolio messaging limit (docs/whatsapp.md, "Messaging limits"): the unique people a
// business may message outside a customer-service window in any rolling 24 hours. The Graph API
// names it by tier (`whatsapp_business_manager_messaging_limit`: TIER_250 … TIER_UNLIMITED); an
// operator may set a number or `unlimited` in WHATSAPP_MESSAGING_LIMIT.

/** Meta's tiers and the people each allows; `unlimited` has no limit. */
export const MESSAGING_TIERS: Readonly<Record<string, number | 'unlimited'>> = {
  TIER_250: 250,
  TIER_1K: 1_000,
  TIER_2K: 2_000,
  TIER_10K: 10_000,
  TIER_100K: 100_000,
  TIER_UNLIMITED: 'unlimited',
};

/** A limit as written by Meta (a tier) or by the operator (a whole number, `unlimited`);
 *  undefined when it is neither. */
export function parseMessagingLimit(text: string): number | 'unlimited' | undefined {
  const v = text.trim();
  if (/^unlimited$/i.test(v)) return 'unlimited';
  const tier = MESSAGING_TIERS[v.toUpperCase()];
  if (tier !== undefined) return tier;
  if (!/^\d{1,9}$/.test(v)) return undefined;
  const n = Number(v);
  return n >= 1 ? n : undefined;
}

/** "250 people", "unlimited". */
export const limitText = (limit: number | 'unlimited'): string =>
  limit === 'unlimited' ? 'unlimited' : `${limit.toLocaleString('en')} people`;
