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

/**
 * The tag a sign-up on the campaign's own page (/subscribe/<id>) gives the subscriber, so that
 * `inAudience` includes them: the campaign's first audience tag; none when the audience is
 * everyone. A page sign-up only satisfies the rule above; there is no second notion of membership.
 */
export function signUpTag(campaign: Pick<Campaign, 'audience'>): string | undefined {
  return campaign.audience.tags[0];
}
