// Which subscriber attributes a campaign's message templates read, and how many of its audience
// lack each (docs/audiences.md). A subscriber without an attribute reads an empty value, or the
// `else` of a section: fine in an email, refused by Meta as a WhatsApp parameter. `campaign
// validate --database` prints the counts; without a database it names the attributes only.
import type { Sql } from '../store/pool.ts';
import { audienceParams } from './audience.ts';
import type { Campaign } from './campaign.schema.ts';
import { MESSAGE_LOCALES } from './message-vars.ts';
import { loadMessageTemplates, resolveMessagesDir } from './messages.ts';
import { campaignChannels } from './slot.builder.ts';
import { eligibleWhere } from './slot.repository.ts';

/** Every attribute name the campaign's templates read, in any language, sorted. */
export async function templateAttributes(campaign: Campaign, baseDir?: string): Promise<string[]> {
  const dir = resolveMessagesDir(campaign, baseDir);
  const names = new Set<string>();
  for (const template of new Set(campaign.steps.map((s) => s.template)))
    for (const locale of MESSAGE_LOCALES) {
      // A template that does not load is reported by validateCampaignTemplates.
      const loaded = await loadMessageTemplates(dir, locale, template).catch(() => undefined);
      for (const name of loaded?.attributes ?? []) names.add(name);
    }
  return [...names].sort();
}

export interface AttributeCoverage {
  readonly name: string;
  /** Audience members (active on a channel of the campaign, not done) without the attribute. */
  readonly missing: number;
  readonly audience: number;
}

/** For each attribute, how many of the campaign's audience lack it: one pass over subscribers. */
export async function attributeCoverage(
  sql: Sql,
  campaign: Campaign,
  names: readonly string[],
): Promise<AttributeCoverage[]> {
  if (names.length === 0) return [];
  return sql.query<AttributeCoverage>(
    `WITH audience AS (
       SELECT DISTINCT s.id, s.attributes
         FROM subscribers s JOIN subscriber_channels c ON c.subscriber_id = s.id
        WHERE c.channel = ANY($1::text[]) AND ${eligibleWhere('$2', '$3')})
     SELECT a.name, count(*) FILTER (WHERE NOT (au.attributes ? a.name))::int AS missing,
            count(au.id)::int AS audience
       FROM unnest($4::text[]) AS a (name) LEFT JOIN audience au ON true
      GROUP BY a.name ORDER BY a.name`,
    [campaignChannels(campaign), ...audienceParams(campaign.audience), [...names]],
  );
}
