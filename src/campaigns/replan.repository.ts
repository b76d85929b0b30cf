// SQL of the tz-data re-plan (replan.service.ts): which running campaigns have pending slots
// planned with older data, claiming a bounded batch of them, writing their new instants back with
// a compare-and-set on the version, and the record of each re-plan. Versions compare in byte
// order (COLLATE "C"), which is tzdata's order for release names (src/planning/tz-data.ts).
// PostgreSQL never converts between zones here: every instant comes from the planner.
import type { SendKind } from '../planning/types.ts';
import type { Channel } from '../shared/vocabulary.ts';
import type { Sql } from '../store/pool.ts';

/** Pending slots whose fan-out never began, planned with data older than `$version` (or unknown). */
const STALE = `s.state = 'pending' AND s.cursor IS NULL
  AND (s.tz_version IS NULL OR s.tz_version COLLATE "C" < $VERSION COLLATE "C")`;
const stale = (param: string) => STALE.replaceAll('$VERSION', param);

/** Running campaigns, deadline ahead, with at least one stale slot. */
export async function campaignsToReplan(sql: Sql, version: string, now: number): Promise<string[]> {
  const rows = await sql.query<{ id: string }>(
    `SELECT c.id FROM campaigns c
      WHERE c.state = 'running' AND c.deadline > $2
        AND EXISTS (SELECT 1 FROM slots s WHERE s.campaign_id = c.id AND ${stale('$1')})
      ORDER BY c.id`,
    [version, new Date(now)],
  );
  return rows.map((r) => r.id);
}

export interface StaleSlot {
  readonly id: number;
  readonly stepId: string;
  readonly zone: string;
  /** The holiday country its sends were planned for ('' without holidays). */
  readonly country: string;
  readonly channel: Channel;
  readonly kind: SendKind;
  readonly sendAt: number;
  readonly tzVersion: string | null;
  /** The `now` it was planned with (created_at for rows from before planned_at existed). */
  readonly plannedAt: number;
  /** Part `part` of `parts` of a spread step (docs/whatsapp.md); 0 of 1 otherwise. */
  readonly part: number;
  readonly parts: number;
}

/**
 * Locks up to `limit` stale slots of one campaign for the caller's transaction. SKIP LOCKED: a
 * slot another worker is re-planning, or a tick is claiming, is left to it.
 */
export async function claimStaleSlots(
  sql: Sql,
  campaignId: string,
  version: string,
  limit: number,
): Promise<StaleSlot[]> {
  const rows = await sql.query<{
    id: number;
    step_id: string;
    zone: string;
    country: string;
    channel: Channel;
    kind: SendKind;
    send_at: Date;
    tz_version: string | null;
    planned_at: Date;
    part: number;
    parts: number;
  }>(
    `SELECT s.id, s.step_id, s.zone, s.country, s.channel, s.kind, s.send_at, s.tz_version, s.part, s.parts,
            coalesce(s.planned_at, s.created_at) AS planned_at
       FROM slots s
      WHERE s.campaign_id = $1 AND ${stale('$2')}
      ORDER BY s.id LIMIT $3
      FOR UPDATE SKIP LOCKED`,
    [campaignId, version, limit],
  );
  return rows.map((r) => ({
    id: r.id,
    stepId: r.step_id,
    zone: r.zone,
    country: r.country,
    channel: r.channel,
    kind: r.kind,
    sendAt: r.send_at.getTime(),
    tzVersion: r.tz_version,
    plannedAt: r.planned_at.getTime(),
    part: r.part,
    parts: r.parts,
  }));
}

export interface SlotChange {
  readonly id: number;
  /** The version it was read with: the compare-and-set. */
  readonly fromVersion: string | null;
  readonly sendAt: number;
  readonly localTime: string | null;
  readonly cancel: boolean;
}

/**
 * Writes the re-planned slots, each only if it is still pending and still carries the version it
 * was read with; stamps `version` on each. Returns how many rows changed.
 */
export function writeReplanned(
  sql: Sql,
  changes: readonly SlotChange[],
  version: string,
  now: number,
): Promise<number> {
  if (changes.length === 0) return Promise.resolve(0);
  return sql.exec(
    `UPDATE slots s
        SET send_at = v.send_at, local_time = coalesce(v.local_time, s.local_time), tz_version = $6,
            state = CASE WHEN v.cancel THEN 'cancelled' ELSE s.state END, updated_at = $7
       FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::text[], $5::boolean[])
            AS v(id, from_version, send_at, local_time, cancel)
      WHERE s.id = v.id AND s.state = 'pending' AND s.tz_version IS NOT DISTINCT FROM v.from_version`,
    [
      changes.map((c) => c.id),
      changes.map((c) => c.fromVersion),
      changes.map((c) => new Date(c.sendAt)),
      changes.map((c) => c.localTime),
      changes.map((c) => c.cancel),
      version,
      new Date(now),
    ],
  );
}

export interface ReplanCounts {
  readonly fromVersion: string | null;
  readonly toVersion: string;
  /** Pending slots looked at. */
  readonly slots: number;
  readonly moved: number;
  /** Of the moved ones, how many now go earlier than before. */
  readonly earlier: number;
  readonly cancelled: number;
}

export async function recordReplan(
  sql: Sql,
  campaignId: string,
  counts: ReplanCounts,
  now: number,
): Promise<void> {
  await sql.exec(
    `INSERT INTO tz_replans (campaign_id, from_version, to_version, slots, moved, earlier, cancelled, at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      campaignId,
      counts.fromVersion,
      counts.toVersion,
      counts.slots,
      counts.moved,
      counts.earlier,
      counts.cancelled,
      new Date(now),
    ],
  );
}

export interface ReplanSummary extends ReplanCounts {
  /** When the last batch of this (from, to) pair was re-planned (epoch ms). */
  readonly at: number;
}

/** Every re-plan of a campaign, summed per (from, to) pair, oldest first (campaign stats). */
export async function replansOf(sql: Sql, campaignId: string): Promise<ReplanSummary[]> {
  const rows = await sql.query<{
    from_version: string | null;
    to_version: string;
    slots: number;
    moved: number;
    earlier: number;
    cancelled: number;
    at: Date;
  }>(
    `SELECT from_version, to_version, sum(slots)::int AS slots, sum(moved)::int AS moved,
            sum(earlier)::int AS earlier, sum(cancelled)::int AS cancelled, max(at) AS at
       FROM tz_replans WHERE campaign_id = $1
      GROUP BY from_version, to_version ORDER BY max(at), to_version`,
    [campaignId],
  );
  return rows.map((r) => ({
    fromVersion: r.from_version,
    toVersion: r.to_version,
    slots: r.slots,
    moved: r.moved,
    earlier: r.earlier,
    cancelled: r.cancelled,
    at: r.at.getTime(),
  }));
}
