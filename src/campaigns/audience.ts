// The audience rule (docs/audiences.md), written once: a campaign reaches a subscriber who
// carries one of its `audience.tags` (or any subscriber when it names none) and whose attributes
// match `audience.where`: for every name listed there, the subscriber's attribute of that name
// equals one of the listed values (a subscriber without the attribute does not match).
//
// `inAudience` is the rule over one subscriber in memory: the planner of joiners, the offline
// `plan`, sign-up pages and the demo call it. `audienceSql` is the same rule over
// `subscribers s` for set-based reads (campaign start, fan-out, stats, the plan preview), with
// the parameters `audienceParams` gives. The attribute test is one jsonpath, which the GIN index
// on `subscribers.attributes` answers. Change one, change the other: audience.test.ts runs both
// over the same subscribers.
import type { Campaign, CampaignAudience } from './campaign.schema.ts';

/** What the audience rule reads of a subscriber. */
export interface AudienceMember {
  readonly tags: readonly string[];
  readonly attributes: Readonly<Record<string, string>>;
}

/** True when the campaign's audience includes this subscriber. */
export function inAudience(campaign: Pick<Campaign, 'audience'>, member: AudienceMember): boolean {
  const { tags, where = {} } = campaign.audience;
  if (tags.length > 0 && !tags.some((t) => member.tags.includes(t))) return false;
  for (const [name, values] of Object.entries(where)) {
    const value = Object.hasOwn(member.attributes, name) ? member.attributes[name] : undefined;
    if (value === undefined || !values.includes(value)) return false;
  }
  return true;
}

/**
 * `audience.where` as one SQL/JSON path predicate, or null when there is none:
 * `($."plan" == "pro" || $."plan" == "team") && ($."assistant" == "copilot")`. Names are
 * validated words; values are written as JSON strings, which jsonpath reads the same way.
 */
export function wherePath(where: CampaignAudience['where']): string | null {
  const entries = Object.entries(where ?? {});
  if (entries.length === 0) return null;
  return entries
    .map(
      ([name, values]) =>
        `(${values.map((v) => `$.${JSON.stringify(name)} == ${JSON.stringify(v)}`).join(' || ')})`,
    )
    .join(' && ');
}

/** The parameters of `audienceSql`, in order: the tags array and the jsonpath (or null). */
export function audienceParams(audience: CampaignAudience): [string[], string | null] {
  return [[...audience.tags], wherePath(audience.where)];
}

/**
 * The rule over `subscribers s`: `tags` and `path` are the parameter references (like '$2')
 * holding `audienceParams`. A null path matches everyone (the statement is planned with its
 * parameters, so the unused branch costs nothing).
 */
export function audienceSql(tags: string, path: string): string {
  return `(cardinality(${tags}::text[]) = 0 OR s.tags && ${tags}::text[]) AND (${path}::jsonpath IS NULL OR s.attributes @@ ${path}::jsonpath)`;
}

/**
 * The tag a sign-up on the campaign's own page (/subscribe/<id>) gives the subscriber, so that
 * `inAudience` includes them: the campaign's first audience tag; none when the audience is
 * everyone. A page sign-up only satisfies the rule above; there is no second notion of membership.
 */
export function signUpTag(campaign: Pick<Campaign, 'audience'>): string | undefined {
  return campaign.audience.tags[0];
}
