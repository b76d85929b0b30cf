// SQL for slots on the delivery side: the tick claims due slots, fan-out walks them. Every
// state change is a conditional update, so two ticks or two fan-outs of one slot are harmless.

import type { CampaignAudience, CampaignHolidays } from '../campaigns/campaign.schema.ts';
import type { Channel } from '../shared/vocabulary.ts';
import type { Sql } from '../store/pool.ts';

export interface FanoutSlot {
  readonly id: number;
  readonly campaignId: string;
  readonly stepId: string;
  readonly zone: string;
  /** The holiday country of its subscribers ('' without one, and for every slot of a campaign
   *  without holidays). */
  readonly country: string;
  readonly channel: Channel;
  readonly sendAt: Date;
  readonly kind: 'scheduled' | 'catch-up';
  /** Set for a personal catch-up slot: the one subscriber it is for. */
  readonly subscriberId: string | null;
  readonly state: 'pending' | 'fanning_out' | 'done' | 'cancelled';
  /** Keyset position: the last subscriber id fanned out; null before the first page. */
  readonly cursor: string | null;
  readonly campaignState: string;
  readonly deadline: Date;
  /** The campaign's audience (tags, where), as stored with its definition. */
  readonly audience: CampaignAudience;
  /** The campaign's window.holidays: a zone slot then takes only its country's subscribers. */
  readonly holidays?: CampaignHolidays;
  /** Part `part` of `parts` of a spread step (docs/whatsapp.md); 0 of 1 otherwise. */
  readonly part: number;
  readonly parts: number;
}

/**
 * Claims up to `limit` due slots of running campaigns. SKIP LOCKED makes a concurrent tick
 * take other rows (or none), and the state condition makes a repeated tick find nothing.
 */
export async function claimDueSlots(sql: Sql, now: Date, limit: number): Promise<number[]> {
  const rows = await sql.query<{ id: number }>(
    `UPDATE slots SET state = 'fanning_out', claimed_at = $1, updated_at = $1
      WHERE id IN (
        SELECT s.id FROM slots s JOIN campaigns c ON c.id = s.campaign_id
         WHERE s.state = 'pending' AND s.send_at <= $1 AND c.state = 'running' AND c.deadline > $1
         ORDER BY s.send_at, s.id
         LIMIT $2
         FOR UPDATE OF s SKIP LOCKED)
        AND state = 'pending'
      RETURNING id`,
    [now, limit],
  );
  return rows.map((r) => r.id).sort((a, b) => a - b);
}

export async function loadSlot(sql: Sql, slotId: number): Promise<FanoutSlot | undefined> {
  const row = await sql.one<{
    id: number;
    campaign_id: string;
    step_id: string;
    zone: string;
    country: string;
    channel: Channel;
    send_at: Date;
    kind: FanoutSlot['kind'];
    subscriber_id: string | null;
    state: FanoutSlot['state'];
    cursor: string | null;
    campaign_state: string;
    deadline: Date;
    tags: string[] | null;
    audience_where: Record<string, string[]> | null;
    holidays: CampaignHolidays | null;
    part: number;
    parts: number;
  }>(
    `SELECT s.id, s.campaign_id, s.step_id, s.zone, s.country, s.channel, s.send_at, s.kind, s.subscriber_id,
            s.state, s.cursor, c.state AS campaign_state, c.deadline, s.part, s.parts,
            ARRAY(SELECT jsonb_array_elements_text(
                    CASE WHEN jsonb_typeof(c.definition #> '{audience,tags}') = 'array'
                         THEN c.definition #> '{audience,tags}' ELSE '[]'::jsonb END)) AS tags,
            CASE WHEN jsonb_typeof(c.definition #> '{audience,where}') = 'object'
                 THEN c.definition #> '{audience,where}' END AS audience_where,
            CASE WHEN jsonb_typeof(c.definition #> '{window,holidays}') = 'object'
                 THEN c.definition #> '{window,holidays}' END AS holidays
       FROM slots s JOIN campaigns c ON c.id = s.campaign_id
      WHERE s.id = $1`,
    [slotId],
  );
  if (!row) return undefined;
  return {
    id: row.id,
    campaignId: row.campaign_id,
    stepId: row.step_id,
    zone: row.zone,
    country: row.country,
    channel: row.channel,
    sendAt: row.send_at,
    kind: row.kind,
    subscriberId: row.subscriber_id,
    state: row.state,
    cursor: row.cursor,
    campaignState: row.campaign_state,
    deadline: row.deadline,
    audience: { tags: row.tags ?? [], ...(row.audience_where ? { where: row.audience_where } : {}) },
    ...(row.holidays ? { holidays: row.holidays } : {}),
    part: row.part,
    parts: row.parts,
  };
}

/** Records progress after a page's jobs are queued: a crashed fan-out resumes from here. */
export async function advanceCursor(
  sql: Sql,
  slotId: number,
  cursor: string,
  added: number,
  now: Date,
): Promise<void> {
  // The page's last subscriber may have been erased since the page was read (erasure moves
  // cursors equal to the erased id, but this page's cursor was not written yet): keep the
  // greatest id still there at or below it, which leaves exactly the same subscribers ahead.
  await sql.exec(
    `UPDATE slots SET cursor = coalesce((SELECT max(id) FROM subscribers WHERE id <= $2), ''),
            fanned_out_count = fanned_out_count + $3, updated_at = $4
      WHERE id = $1 AND state = 'fanning_out'`,
    [slotId, cursor, added, now],
  );
}

/** Ends a fan-out: done (every page queued, or nothing left to send), cancelled, or back to
 *  pending (campaign paused: the next claim after resume continues from the cursor). */
export async function finishSlot(
  sql: Sql,
  slotId: number,
  state: 'done' | 'cancelled' | 'pending',
  now: Date,
): Promise<boolean> {
  const count = await sql.exec(
    `UPDATE slots SET state = $2, updated_at = $3 WHERE id = $1 AND state = 'fanning_out'`,
    [slotId, state, now],
  );
  return count === 1;
}

/** Slots claimed but not finished: their fan-out job may have been lost with Redis. */
export async function slotsFanningOut(sql: Sql, claimedBefore: Date): Promise<number[]> {
  const rows = await sql.query<{ id: number }>(
    `SELECT id FROM slots WHERE state = 'fanning_out' AND claimed_at < $1 ORDER BY id`,
    [claimedBefore],
  );
  return rows.map((r) => r.id);
}
