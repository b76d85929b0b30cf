// The audience rule (SPEC §3), written once: a campaign reaches a subscriber who carries one of
// its `audience.tags`, or everyone when it names none. The planner, the offline `plan`, sign-up
// pages and the demo call this; its SQL twin for set-based reads is `eligibleWhere` in
// slot.repository.ts (same rule, plus consent and done, which the database holds).
import type { Campaign } from './campaign.schema.ts';

/** True when the campaign's audience includes a subscriber with these tags. */
export function inAudience(campaign: Pick<Campaign, 'audience'>, tags: readonly string[]): boolean {
  const wanted = campaign.audience.tags;
  return wanted.length === 0 || wanted.some((t) => tags.includes(t));
}
