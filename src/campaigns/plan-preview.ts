// The plan preview of a stored campaign (API: GET /campaigns/{id}/plan?now=): what `lastcall
// plan` prints (the NDJSON lines of docs/campaigns.md, "Previewing a plan"), for the subscribers in
// the database rather than a CSV. Each eligible subscriber is planned as if joining at `now`, on
// the channels they have active that the campaign uses. Subscribers are read in keyset pages and
// lines are yielded as they are made: a million subscribers never sit in memory. The planner is per
// zone (and holiday country), memoised.
import { formattedSendsByZone } from '../planning/ndjson.ts';
import { createZonePlanner } from '../planning/planner.ts';
import type { Channel } from '../shared/vocabulary.ts';
import type { Sql } from '../store/pool.ts';
import { audienceParams } from './audience.ts';
import { findCampaign } from './campaign.repository.ts';
import { toSchedule } from './campaign.schema.ts';
import { unknownCampaign } from './campaign.service.ts';
import { holidayCountrySql } from './holiday-country.ts';
import { campaignChannels } from './slot.builder.ts';
import { eligibleWhere } from './slot.repository.ts';

const PAGE = 1000;

/** Throws NotFound before the first line, so the edge can still answer 404. */
export async function planPreview(
  sql: Sql,
  campaignId: string,
  now: number,
): Promise<AsyncGenerator<string>> {
  const record = await findCampaign(sql, campaignId);
  if (!record) throw unknownCampaign(campaignId);
  return lines(sql, record.campaign, now);
}

async function* lines(
  sql: Sql,
  campaign: NonNullable<Awaited<ReturnType<typeof findCampaign>>>['campaign'],
  now: number,
): AsyncGenerator<string> {
  if (now >= campaign.deadline) return;
  const planner = createZonePlanner(toSchedule(campaign), now);
  const holidays = campaign.window.holidays;
  const sendsIn = formattedSendsByZone(planner, holidays !== undefined);
  const channels = campaignChannels(campaign);
  let cursor = '';
  for (;;) {
    const rows = await sql.query<{ id: string; timezone: string; country: string; channels: Channel[] }>(
      `SELECT s.id, s.timezone, ${holidayCountrySql(holidays)} AS country,
              array_agg(c.channel ORDER BY c.channel) AS channels
         FROM subscribers s JOIN subscriber_channels c ON c.subscriber_id = s.id
        WHERE s.id > $1 AND c.channel = ANY($2::text[]) AND ${eligibleWhere('$3', '$5')}
        GROUP BY s.id ORDER BY s.id LIMIT $4`,
      [cursor, channels, audienceParams(campaign.audience)[0], PAGE, audienceParams(campaign.audience)[1]],
    );
    for (const row of rows) {
      const id = JSON.stringify(row.id);
      let out = '';
      for (const f of sendsIn(row.timezone, row.country))
        if (row.channels.includes(f.send.channel)) out += `{"subscriber":${id}${f.tail}`;
      if (out !== '') yield out;
    }
    if (rows.length < PAGE) return;
    cursor = rows.at(-1)?.id ?? cursor;
  }
}
