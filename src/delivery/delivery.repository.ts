// SQL for deliveries: the fan-out page insert, the sender's claim, outcome records and the
// recovery queries of the tick. The unique key (campaign, step, subscriber, channel) is the
// durable dedupe; every status change is conditional, so a repeated job or a second worker
// touches nothing.

import { audienceParams, audienceSql } from '../campaigns/audience.ts';
import { holidayCountrySql } from '../campaigns/holiday-country.ts';
import { partSql } from '../planning/spread.ts';
import { BATCH_JOB_PREFIX, MAX_SEND_BATCH } from '../queue/catalog.ts';
import type { Channel } from '../shared/vocabulary.ts';
import type { Sql } from '../store/pool.ts';
import type { FanoutSlot } from './due-slots.repository.ts';

/** A delivery and the job that carries it (its `job_id`). */
export interface QueuedRow {
  readonly id: number;
  readonly jobId: string | null;
}

export interface FanoutPage {
  /** Eligible subscribers read in this page (0: the slot is exhausted). */
  readonly scanned: number;
  /** The last subscriber id of the page: the next keyset cursor. */
  readonly lastSubscriberId: string | null;
  /** Deliveries this page created, with the `sendBatch` job id each was given. */
  readonly added: readonly QueuedRow[];
  /** Deliveries of this page that already existed and are still `queued`: a re-run after a
   *  crash between insert and addBulk queues them again under the job id they carry (a live
   *  duplicate job id is ignored). */
  readonly stillQueued: readonly QueuedRow[];
}

/**
 * One keyset page of a slot: eligible = consent active on the slot's channel (given no later
 * than the slot's instant, so someone who joined after it is left to their own catch-up), not
 * done, in the audience, and in the slot's part when its step is spread. Personal slots read
 * their one subscriber, whatever their zone now.
 */
export async function insertFanoutPage(
  sql: Sql,
  slot: FanoutSlot,
  pageSize: number,
  now: Date,
  /** The page's `sendBatch` jobs: chunk k of `size` rows is `<jobPrefix>-<k>`. */
  batch: { readonly jobPrefix: string; readonly size: number } = {
    jobPrefix: `${BATCH_JOB_PREFIX}${slot.id}`,
    size: MAX_SEND_BATCH,
  },
): Promise<FanoutPage> {
  const personal = slot.subscriberId !== null;
  // The keyset bound is written on both sides of the join: PostgreSQL carries an equality across
  // a join (s.id = sc.subscriber_id) but not a range, and without it the merge join reads the
  // slot's channel rows from the first one on every page (quadratic over the slot).
  let who = personal
    ? 's.id = $10'
    : `s.timezone = $10 AND ($11::text IS NULL OR (s.id > $11 AND sc.subscriber_id > $11))`;
  const params: unknown[] = [
    slot.campaignId,
    slot.stepId,
    slot.channel,
    slot.id,
    slot.kind,
    now,
    slot.sendAt,
    ...audienceParams(slot.audience),
    personal ? slot.subscriberId : slot.zone,
  ];
  if (!personal) params.push(slot.cursor);
  // With public holidays a zone slot is its holiday country's (docs/audiences.md): the rule of
  // holiday-country.ts picks its subscribers.
  if (!personal && slot.holidays) {
    params.push(slot.country);
    who += ` AND ${holidayCountrySql(slot.holidays)} = $${params.length}`;
  }
  // A part of a spread step takes only its own people (docs/whatsapp.md).
  if (!personal && slot.parts > 1) {
    params.push(slot.parts, slot.part);
    who += ` AND ${partSql('s.id', `$${params.length - 1}::int`)} = $${params.length}::int`;
  }
  params.push(pageSize);
  const limit = `$${params.length}`;
  params.push(batch.jobPrefix, Math.max(1, batch.size));
  const [jobPrefix, batchSize] = [`$${params.length - 1}`, `$${params.length}`];
  const row = await sql.one<{
    scanned: number;
    last_id: string | null;
    added: [string, number[]][] | null;
    still_queued: [string, string | null][] | null;
  }>(
    // Each row's job: chunk k of the page (in subscriber order) is `<jobPrefix>-<k>`.
    `WITH page AS MATERIALIZED (
       SELECT id, ${jobPrefix}::text || '-' || ((row_number() OVER (ORDER BY id) - 1) / ${batchSize}::int) AS job_id
         FROM (SELECT s.id FROM subscribers s
         JOIN subscriber_channels sc ON sc.subscriber_id = s.id AND sc.channel = $3 AND sc.state = 'active'
        WHERE ${who}
          AND s.done_at IS NULL
          AND sc.consent_at <= $7
          AND ${audienceSql('$8', '$9')}
        ORDER BY s.id
        LIMIT ${limit}) p),
     ins AS (
       INSERT INTO deliveries (campaign_id, step_id, subscriber_id, channel, slot_id, kind, status, queued_at, updated_at, job_id)
       SELECT $1, $2, id, $3, $4, $5, 'queued', $6, $6, job_id FROM page
       ON CONFLICT ON CONSTRAINT deliveries_once DO NOTHING
       RETURNING id, job_id)
     SELECT (SELECT count(*) FROM page)::int AS scanned,
            (SELECT id FROM page ORDER BY id DESC LIMIT 1) AS last_id,
            -- The new rows by job, in subscriber order: [[job id, [id, …]], …], a few dozen
            -- entries rather than a (id, job id) pair per row to build and parse.
            (SELECT json_agg(json_build_array(job_id, ids) ORDER BY ids[1])
               FROM (SELECT job_id, array_agg(id ORDER BY id) AS ids FROM ins GROUP BY job_id) j) AS added,
            -- Only a page run again (after a crash), or one some of whose subscribers already had
            -- their row, finds existing rows: a first pass, where every row is new, never runs
            -- this look-up. When it runs, it probes the page's subscribers one by one (OFFSET 0
            -- keeps the planner from hashing every queued row of the step, which grow with the slot).
            CASE WHEN (SELECT count(*) FROM ins) < (SELECT count(*) FROM page) THEN
              (SELECT json_agg(json_build_array(d.id::text, d.job_id) ORDER BY d.id)
                 FROM page p CROSS JOIN LATERAL (
                        SELECT d.id, d.job_id FROM deliveries d
                         WHERE d.campaign_id = $1 AND d.step_id = $2 AND d.subscriber_id = p.id
                           AND d.channel = $3 AND d.status = 'queued'
                        OFFSET 0) d)
            END AS still_queued`,
    params,
  );
  return {
    scanned: row?.scanned ?? 0,
    lastSubscriberId: row?.last_id ?? null,
    added: (row?.added ?? []).flatMap(([jobId, ids]) => ids.map((id) => ({ id: safeId(id), jobId }))),
    stillQueued: (row?.still_queued ?? []).map(([id, jobId]) => ({ id: safeId(Number(id)), jobId })),
  };
}

/** A bigint id that came through JSON: refused rather than silently rounded (as store/pool does). */
function safeId(id: number): number {
  if (!Number.isSafeInteger(id)) throw new RangeError(`delivery id ${id} does not fit a JavaScript number`);
  return id;
}

/** Deliveries in flight, for re-queueing after Redis lost them. */
export interface InFlight {
  readonly id: number;
  readonly channel: Channel;
  /** When a `retrying` row is due again (a backoff or a provider's "not before"). */
  readonly notBefore?: Date | null;
  /** The job that carries (or, for a `sending` row, claimed) it; null: its own job. */
  readonly jobId?: string | null;
  readonly status?: string;
}

/** `queued`/`retrying` rows by id, after `afterId`; `touchedBefore` skips rows that are
 *  being queued right now (a fan-out between its insert and its addBulk). */
export async function inFlightDeliveries(
  sql: Sql,
  afterId: number,
  limit: number,
  touchedBefore?: Date,
): Promise<InFlight[]> {
  return sql.query<InFlight>(
    `SELECT id, channel, next_attempt_at AS "notBefore", job_id AS "jobId", status FROM deliveries
      WHERE status IN ('queued', 'retrying') AND id > $1 AND ($3::timestamptz IS NULL OR updated_at < $3)
      ORDER BY id LIMIT $2`,
    [afterId, limit, touchedBefore ?? null],
  );
}

/** Rows a sender released because their campaign was paused, now that it runs again. */
export async function releasedByPause(sql: Sql, limit: number): Promise<InFlight[]> {
  return sql.query<InFlight>(
    `SELECT d.id, d.channel, d.job_id AS "jobId" FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id
      WHERE d.status = 'queued' AND d.error_code = $1 AND c.state = 'running'
      ORDER BY d.id LIMIT $2`,
    [PAUSED_CODE, limit],
  );
}

/** Clears the pause marker once a job exists again. */
export async function clearPauseMarks(sql: Sql, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await sql.exec(
    `UPDATE deliveries SET error_code = NULL, error_detail = NULL
      WHERE id = ANY($1::bigint[]) AND status = 'queued' AND error_code = $2`,
    [ids, PAUSED_CODE],
  );
}

/** error_code of a queued row whose job ended because its campaign was paused. */
export const PAUSED_CODE = 'campaign-paused';

/** Rows `sending` since before `before`: a crashed or hung sender's. */
export async function sendingSince(sql: Sql, before: Date, limit: number): Promise<InFlight[]> {
  return sql.query<InFlight>(
    `SELECT id, channel, job_id AS "jobId" FROM deliveries WHERE status = 'sending' AND updated_at < $1 ORDER BY id LIMIT $2`,
    [before, limit],
  );
}

/**
 * `sending` → `unknown`: the provider may have accepted the message, so it is never sent
 * again (at most once: docs/architecture.md, "Principles"). Each becomes an attempt with outcome
 * `unknown`.
 */
export async function markUnknown(
  sql: Sql,
  ids: readonly number[],
  now: Date,
  detail: string,
): Promise<number[]> {
  if (ids.length === 0) return [];
  const rows = await sql.query<{ id: number }>(
    `WITH u AS (
       UPDATE deliveries SET status = 'unknown', error_detail = $3, updated_at = $2
        WHERE id = ANY($1::bigint[]) AND status = 'sending'
        RETURNING id, attempts)
     INSERT INTO delivery_attempts (delivery_id, attempt, outcome, detail, at)
     SELECT id, attempts, 'unknown', $3, $2 FROM u
     RETURNING delivery_id AS id`,
    [ids, now, detail],
  );
  return rows.map((r) => r.id);
}

/** Running or paused campaigns whose deadline has come: finished, and what they still had in
 *  flight skipped. Also sweeps campaigns finished or cancelled earlier (a crash between steps). */
export async function finishExpiredCampaigns(
  sql: Sql,
  now: Date,
): Promise<{ finished: string[]; skipped: number; cancelledSlots: number }> {
  const finished = await sql.query<{ id: string }>(
    `UPDATE campaigns SET state = 'finished', finished_at = $1, updated_at = $1
      WHERE state IN ('running', 'paused') AND deadline <= $1 RETURNING id`,
    [now],
  );
  const skipped = await sql.exec(
    `UPDATE deliveries d
        SET status = 'skipped',
            skip_reason = CASE c.state WHEN 'cancelled' THEN 'campaign-cancelled' ELSE 'deadline-passed' END,
            updated_at = $1
       FROM campaigns c
      WHERE c.id = d.campaign_id AND c.state IN ('finished', 'cancelled') AND d.status IN ('queued', 'retrying')`,
    [now],
  );
  const cancelledSlots = await sql.exec(
    `UPDATE slots s SET state = 'cancelled', updated_at = $1 FROM campaigns c
      WHERE c.id = s.campaign_id AND c.state IN ('finished', 'cancelled') AND s.state IN ('pending', 'fanning_out')`,
    [now],
  );
  return { finished: finished.map((r) => r.id), skipped, cancelledSlots };
}

/** Records that recovery queued these rows under new jobs (rows no longer waiting are left). */
export async function assignJobs(
  sql: Sql,
  rows: readonly { readonly id: number; readonly jobId: string }[],
): Promise<void> {
  if (rows.length === 0) return;
  await sql.exec(
    `UPDATE deliveries d SET job_id = v.job_id
       FROM unnest($1::bigint[], $2::text[]) AS v(id, job_id)
      WHERE d.id = v.id AND d.status IN ('queued', 'retrying')`,
    [rows.map((r) => r.id), rows.map((r) => r.jobId)],
  );
}
