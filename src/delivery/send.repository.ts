// SQL for the send path (send.service.ts): claim a page of deliveries and read what sending them
// needs in one round trip, then record the outcomes, their attempts and their outbound events in
// another. The claim is the at-most-once gate: only a row in `queued` or `retrying` becomes
// `sending`, so a duplicate or stalled job finds nothing to do.
import type { QueryResultRow } from 'pg';
import { deliveryEventsFrom } from '../events/outbox.ts';
import type { Channel } from '../shared/vocabulary.ts';
import type { Db, Sql } from '../store/pool.ts';

export interface ClaimedDelivery {
  readonly id: number;
  readonly campaignId: string;
  readonly stepId: string;
  readonly channel: Channel;
  readonly kind: string;
  /** This attempt's number (1 for the first). */
  readonly attempt: number;
  readonly campaign: {
    readonly name: string;
    readonly state: string;
    readonly deadline: number;
    readonly messagesDir: string | null;
    readonly template: string | null;
  };
  /** Undefined when the subscriber was erased after planning. */
  readonly subscriber?: {
    readonly id: string;
    readonly name: string;
    readonly phone: string | null;
    readonly email: string | null;
    readonly locale: string;
    readonly timezone: string;
    readonly attributes: Readonly<Record<string, string>>;
    readonly done: boolean;
    /** Consent state on this delivery's channel; null when there is no row for it. */
    readonly channelState: string | null;
    /** WhatsApp: the business-scoped user id Meta reported, the address when the phone is unknown. */
    readonly whatsappUserId?: string | null;
    /** WhatsApp: their latest message to us (their customer-service window is 24 h after it). */
    readonly whatsappLastInboundAt?: Date | null;
  };
}

interface ClaimRow {
  id: number;
  campaign_id: string;
  step_id: string;
  channel: Channel;
  kind: string;
  attempts: number;
  campaign_name: string;
  campaign_state: string;
  deadline: Date;
  source_dir: string | null;
  template: string | null;
  subscriber_id: string | null;
  name: string | null;
  phone: string | null;
  email: string | null;
  locale: string | null;
  timezone: string | null;
  attributes: Record<string, string> | null;
  done_at: Date | null;
  channel_state: string | null;
  whatsapp_user_id: string | null;
  whatsapp_last_inbound_at: Date | null;
}

/**
 * Runs a statement of the send path as a named prepared statement when given the pool: these
 * run once or twice per message, and planning a five-table join each time cost more than
 * executing it (measured in bench/delivery.ts). Inside a transaction, a plain query.
 */
async function hot<R extends QueryResultRow>(
  sql: Sql | Db,
  name: string,
  text: string,
  params: readonly unknown[],
): Promise<R[]> {
  if ('pool' in sql) return (await sql.pool.query<R>({ name, text, values: [...params] })).rows;
  return sql.query<R>(text, params);
}

/** The job id a delivery's own `send` job has (catalog: jobs.send.jobId); in SQL, for rows. */
const OWN_JOB_ID = "'delivery-' || id";

const CLAIM = `WITH claimed AS (
       UPDATE deliveries SET status = 'sending', attempts = attempts + 1, next_attempt_at = NULL,
                             updated_at = $2, job_id = coalesce($3::text, ${OWN_JOB_ID})
        WHERE id = ANY($1::bigint[])
          AND (status = 'queued'
               OR (status = 'retrying' AND ($3::text IS NULL OR coalesce(next_attempt_at, $2) <= $2)))
        RETURNING id, campaign_id, step_id, subscriber_id, channel, kind, attempts)
     SELECT d.id, d.campaign_id, d.step_id, d.channel, d.kind, d.attempts,
            c.name AS campaign_name, c.state AS campaign_state, c.deadline, c.source_dir, st.template,
            s.id AS subscriber_id, s.name, s.phone, s.email, s.locale, s.timezone, s.attributes, s.done_at,
            sc.state AS channel_state, sc.whatsapp_user_id, sc.whatsapp_last_inbound_at
       FROM claimed d
       JOIN campaigns c ON c.id = d.campaign_id
       LEFT JOIN campaign_steps st ON st.campaign_id = d.campaign_id AND st.step_id = d.step_id
       LEFT JOIN subscribers s ON s.id = d.subscriber_id
       LEFT JOIN subscriber_channels sc ON sc.subscriber_id = d.subscriber_id AND sc.channel = d.channel
      ORDER BY d.id`;

/**
 * Claims, in one statement, the deliveries of a page that are waiting, and reads what sending
 * them needs. For a `sendBatch` job (`jobId`): `queued`, or `retrying` whose wait is over (a
 * retry not yet due belongs to its own delayed job); each claimed row records `jobId` as its
 * claimer, which recovery checks. For a delivery's own job (`jobId` null, `delivery-<id>`):
 * `queued` or `retrying` whatever its wait says, the job's delay being that wait. Rows already
 * taken are left out.
 */
export async function claimDeliveries(
  sql: Sql | Db,
  deliveryIds: readonly number[],
  jobId: string | null,
  now: Date,
): Promise<ClaimedDelivery[]> {
  const rows = await hot<ClaimRow>(sql, 'lastcall-claim-deliveries', CLAIM, [deliveryIds, now, jobId]);
  return rows.map(claimedFrom);
}

/** Claims one delivery for its own job (a page of one). */
export async function claimDelivery(
  sql: Sql | Db,
  deliveryId: number,
  now: Date,
): Promise<ClaimedDelivery | undefined> {
  return (await claimDeliveries(sql, [deliveryId], null, now))[0];
}

function claimedFrom(row: ClaimRow): ClaimedDelivery {
  return {
    id: Number(row.id),
    campaignId: row.campaign_id,
    stepId: row.step_id,
    channel: row.channel,
    kind: row.kind,
    attempt: row.attempts,
    campaign: {
      name: row.campaign_name,
      state: row.campaign_state,
      deadline: row.deadline.getTime(),
      messagesDir: row.source_dir,
      template: row.template,
    },
    ...(row.subscriber_id === null
      ? {}
      : {
          subscriber: {
            id: row.subscriber_id,
            name: row.name ?? '',
            phone: row.phone,
            email: row.email,
            locale: row.locale ?? 'en',
            timezone: row.timezone ?? 'UTC',
            attributes: row.attributes ?? {},
            done: row.done_at !== null,
            channelState: row.channel_state,
            whatsappUserId: row.whatsapp_user_id,
            whatsappLastInboundAt: row.whatsapp_last_inbound_at,
          },
        }),
  };
}

/** What to write for one attempt. `status` is the row's new status. */
export type AttemptRecord =
  /** `detail`: what the provider said beside accepting it (held_for_quality_assessment). */
  | { readonly status: 'sent'; readonly providerMessageId: string; readonly detail?: string }
  | {
      readonly status: 'retrying';
      readonly outcome: 'retry' | 'deferred';
      readonly code?: string;
      readonly detail?: string;
      readonly nextAttemptAt: Date;
    }
  | { readonly status: 'failed'; readonly code: string; readonly detail?: string }
  /** The provider may have accepted it (no answer after the request went out): never re-sent. */
  | { readonly status: 'unknown'; readonly code: string; readonly detail: string }
  | { readonly status: 'skipped'; readonly reason: string }
  /** Back to `queued` without a decision: the channel is down, or the campaign paused. */
  | {
      readonly status: 'queued';
      readonly code: string;
      readonly detail?: string;
      readonly attemptOutcome?: 'retry';
    };

/** The delivery_attempts outcome (and the `lastcall_sends_total` label) of a record. */
export function attemptOutcome(record: AttemptRecord): string {
  switch (record.status) {
    case 'sent':
    case 'failed':
    case 'unknown':
    case 'skipped':
      return record.status;
    case 'retrying':
      return record.outcome;
    case 'queued':
      return record.attemptOutcome ?? 'skipped';
  }
}

export interface PageRecord {
  readonly deliveryId: number;
  readonly attempt: number;
  readonly record: AttemptRecord;
}

// Erased: a row whose subscriber was erased while it was `sending` (subscriber_id now null) gets
// no WhatsApp message id (a wamid encodes the number) and no error text (an SMTP refusal quotes
// the address), as erasure.service.ts leaves the rows it anonymises. The SET and RETURNING see
// the row after an erasure's commit (READ COMMITTED re-reads a row updated concurrently), where
// a subquery would see the snapshot. A `send-test` row has no subscriber either: not erased.
const ERASED = "d.subscriber_id IS NULL AND d.kind <> 'test'";

/** The skip reason of a delivery held back by WhatsApp's messaging limit (docs/whatsapp.md). */
export const MESSAGING_LIMIT = 'messaging-limit';

// One statement for a page: the rows (UPDATE … FROM unnest), their attempts (one INSERT) and
// their outbound events (`delivery.sent`, `delivery.failed`: one INSERT into event_outbox), so
// an event exists exactly when its change committed. Only a `sending` row moves, except that
// `sent` also lands on a row recovery already called `unknown` (the provider's answer came after
// all) and never pulls back a status a webhook moved forward. A retry or a hand-back makes the
// row its own job's (`delivery-<id>`). The attempt is written even when the row did not move.
const RECORD_PAGE = `
WITH o AS (
  SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                       $8::text[], $9::timestamptz[])
         AS o(id, attempt, status, outcome, code, detail, message_id, skip_reason, next_at)),
u AS (
  UPDATE deliveries d SET
         status = CASE WHEN o.status <> 'sent' THEN o.status
                       WHEN d.status IN ('sending', 'unknown') THEN 'sent' ELSE d.status END,
         sent_at = CASE WHEN o.status = 'sent' THEN coalesce(d.sent_at, $10) ELSE d.sent_at END,
         provider_message_id = CASE WHEN o.status <> 'sent' THEN d.provider_message_id
                                    WHEN ${ERASED} AND d.channel = 'whatsapp' THEN NULL ELSE o.message_id END,
         error_code = CASE o.status WHEN 'sent' THEN NULL WHEN 'skipped' THEN d.error_code ELSE o.code END,
         error_detail = CASE o.status WHEN 'sent' THEN NULL WHEN 'skipped' THEN d.error_detail
                             ELSE CASE WHEN ${ERASED} THEN NULL ELSE o.detail END END,
         skip_reason = CASE WHEN o.status = 'skipped' THEN o.skip_reason ELSE d.skip_reason END,
         failed_at = CASE WHEN o.status = 'failed' THEN $10 ELSE d.failed_at END,
         next_attempt_at = CASE WHEN o.status = 'retrying' THEN o.next_at ELSE d.next_attempt_at END,
         job_id = CASE WHEN o.status IN ('retrying', 'queued') THEN 'delivery-' || d.id ELSE d.job_id END,
         updated_at = $10
    FROM o
   WHERE d.id = o.id
     AND (d.status = 'sending' OR (o.status = 'sent' AND d.status IN ('unknown', 'delivered', 'read', 'failed')))
  RETURNING d.id, d.campaign_id, d.step_id, d.channel, d.subscriber_id, d.kind, d.error_code, d.status,
            d.skip_reason, o.status AS recorded, (${ERASED}) AS erased),
e AS (${deliveryEventsFrom('u', "'delivery.' || r.recorded", '$10')}
        AND (r.recorded IN ('sent', 'failed') OR (r.recorded = 'skipped' AND r.skip_reason = '${MESSAGING_LIMIT}')))
INSERT INTO delivery_attempts (delivery_id, attempt, outcome, error_code, detail, at)
SELECT o.id, o.attempt, o.outcome, o.code, CASE WHEN u.erased THEN NULL ELSE o.detail END, $10
  FROM o LEFT JOIN u ON u.id = o.id`;

/** Writes every record of a page, its attempts and its outbound events, in one statement. */
export async function recordPage(sql: Sql | Db, records: readonly PageRecord[], now: Date): Promise<void> {
  if (records.length === 0) return;
  const columns = records.map(({ deliveryId, attempt, record: r }) => ({
    deliveryId,
    attempt,
    status: r.status,
    outcome: attemptOutcome(r),
    code: 'code' in r ? (r.code ?? null) : null,
    detail: r.status === 'skipped' ? r.reason : 'detail' in r ? (r.detail ?? null) : null,
    messageId: r.status === 'sent' ? r.providerMessageId : null,
    skipReason: r.status === 'skipped' ? r.reason : null,
    nextAt: r.status === 'retrying' ? r.nextAttemptAt : null,
  }));
  await hot(sql, 'lastcall-record-page', RECORD_PAGE, [
    columns.map((c) => c.deliveryId),
    columns.map((c) => c.attempt),
    columns.map((c) => c.status),
    columns.map((c) => c.outcome),
    columns.map((c) => c.code),
    columns.map((c) => c.detail),
    columns.map((c) => c.messageId),
    columns.map((c) => c.skipReason),
    columns.map((c) => c.nextAt),
    now,
  ]);
}

/** Writes the outcome of one delivery's attempt `attempt`: a page of one. */
export const recordAttempt = (
  sql: Sql | Db,
  deliveryId: number,
  attempt: number,
  record: AttemptRecord,
  now: Date,
): Promise<void> => recordPage(sql, [{ deliveryId, attempt, record }], now);

/** Un-claims rows without an attempt (their campaign is paused, or their batch stopped before
 *  their turn): nothing was tried, so the attempt the claim counted is given back. */
export async function releaseClaims(
  sql: Sql | Db,
  deliveryIds: readonly number[],
  code: string,
  now: Date,
  detail: string | null = null,
): Promise<void> {
  if (deliveryIds.length === 0) return;
  await sql.exec(
    `UPDATE deliveries SET status = 'queued', attempts = greatest(attempts - 1, 0), error_code = $2,
            error_detail = $4, updated_at = $3
      WHERE id = ANY($1::bigint[]) AND status = 'sending'`,
    [deliveryIds, code, now, detail],
  );
}
