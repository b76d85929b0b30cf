// SQL for the sender: claim a delivery and read what it needs in one round trip, then record
// the outcome and its attempt in another. The claim is the at-most-once gate: only a row in
// `queued` or `retrying` becomes `sending`, so a duplicate or stalled job finds nothing to do.
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
    readonly assistant: 'chatgpt' | 'copilot' | 'both';
    readonly done: boolean;
    /** Consent state on this delivery's channel; null when there is no row for it. */
    readonly channelState: string | null;
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
  assistant: 'chatgpt' | 'copilot' | 'both' | null;
  done_at: Date | null;
  channel_state: string | null;
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

const CLAIM = (where: string) => `WITH claimed AS (
       UPDATE deliveries SET status = 'sending', attempts = attempts + 1, next_attempt_at = NULL,
                             updated_at = $2, job_id = coalesce($3::text, ${OWN_JOB_ID})
        WHERE id = ANY($1::bigint[]) AND ${where}
        RETURNING id, campaign_id, step_id, subscriber_id, channel, kind, attempts)
     SELECT d.id, d.campaign_id, d.step_id, d.channel, d.kind, d.attempts,
            c.name AS campaign_name, c.state AS campaign_state, c.deadline, c.source_dir, st.template,
            s.id AS subscriber_id, s.name, s.phone, s.email, s.locale, s.timezone, s.assistant, s.done_at,
            sc.state AS channel_state
       FROM claimed d
       JOIN campaigns c ON c.id = d.campaign_id
       LEFT JOIN campaign_steps st ON st.campaign_id = d.campaign_id AND st.step_id = d.step_id
       LEFT JOIN subscribers s ON s.id = d.subscriber_id
       LEFT JOIN subscriber_channels sc ON sc.subscriber_id = d.subscriber_id AND sc.channel = d.channel
      ORDER BY d.id`;

/** Claims one delivery for its own job (`delivery-<id>`), whatever its retry wait says: the
 *  job's delay is that wait. */
export async function claimDelivery(
  sql: Sql | Db,
  deliveryId: number,
  now: Date,
): Promise<ClaimedDelivery | undefined> {
  const [row] = await hot<ClaimRow>(
    sql,
    'lastcall-claim-delivery',
    CLAIM("status IN ('queued', 'retrying')"),
    [[deliveryId], now, null],
  );
  return row && claimedFrom(row);
}

/**
 * Claims, in one statement, the deliveries of a page that are waiting: `queued`, or `retrying`
 * whose wait is over (a retry not yet due belongs to its own delayed job). Each claimed row
 * records `jobId` as its claimer, which recovery checks. Rows already taken are left out.
 */
export async function claimDeliveries(
  sql: Sql | Db,
  deliveryIds: readonly number[],
  jobId: string,
  now: Date,
): Promise<ClaimedDelivery[]> {
  const rows = await hot<ClaimRow>(
    sql,
    'lastcall-claim-deliveries',
    CLAIM("(status = 'queued' OR (status = 'retrying' AND coalesce(next_attempt_at, $2) <= $2))"),
    [deliveryIds, now, jobId],
  );
  return rows.map(claimedFrom);
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
            assistant: row.assistant ?? 'both',
            done: row.done_at !== null,
            channelState: row.channel_state,
          },
        }),
  };
}

/** What to write for one attempt. `status` is the row's new status. */
export type AttemptRecord =
  | { readonly status: 'sent'; readonly providerMessageId: string }
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

/**
 * Writes the outcome of attempt `attempt` and its delivery_attempts row. Only a `sending` row
 * moves, except that `sent` also lands on a row recovery already called `unknown` (the
 * provider's answer came after all), and never pulls back a status a webhook moved forward.
 */
export async function recordAttempt(
  sql: Sql | Db,
  deliveryId: number,
  attempt: number,
  record: AttemptRecord,
  now: Date,
): Promise<void> {
  const { update, params, code, detail } = statement(record);
  const outcome = attemptOutcome(record);
  // The detail of an attempt on a row erased meanwhile (`subscribers forget` committed while the
  // provider answered) is not kept: an SMTP refusal quotes the address. The update's RETURNING
  // sees the row as it is after the erasure's commit, where a subquery would see the snapshot.
  await hot(
    sql,
    `lastcall-record-${record.status}`,
    `WITH u AS (${update} RETURNING id, campaign_id, step_id, channel, subscriber_id, kind, error_code),
          e AS (${deliveryEventsFrom('u', `'delivery.${record.status}'`, '$6::timestamptz')}
                AND ${record.status === 'sent' || record.status === 'failed'})
     INSERT INTO delivery_attempts (delivery_id, attempt, outcome, error_code, detail, at)
     SELECT $1::bigint, $2::int, $3::text, $4::text,
            CASE WHEN EXISTS (SELECT 1 FROM u WHERE ${ERASED}) THEN NULL ELSE $5::text END, $6::timestamptz`,
    [deliveryId, attempt, outcome, code ?? null, detail ?? null, now, ...params],
  );
}

// $1 id, $2 attempt, $3 outcome, $4 code, $5 detail, $6 now; extra parameters from $7.
// A row whose subscriber was erased while it was `sending` (subscriber_id now null) gets no
// WhatsApp message id (a wamid encodes the number) and no error text, as erasure.service.ts
// leaves the rows it anonymises. The SET sees the row after the erasure's commit.
// (A `send-test` delivery has no subscriber either: it is not an erased one.)
const ERASED = "subscriber_id IS NULL AND kind <> 'test'";
const ERASED_DETAIL = `CASE WHEN ${ERASED} THEN NULL ELSE $5::text END`;
function statement(r: AttemptRecord): {
  update: string;
  params: unknown[];
  code?: string | undefined;
  detail?: string | undefined;
} {
  switch (r.status) {
    case 'sent':
      return {
        update: `UPDATE deliveries SET sent_at = coalesce(sent_at, $6), updated_at = $6,
                   status = CASE WHEN status IN ('sending', 'unknown') THEN 'sent' ELSE status END,
                   provider_message_id = CASE WHEN ${ERASED} AND channel = 'whatsapp' THEN NULL ELSE $7 END,
                   error_code = NULL, error_detail = NULL
                  WHERE id = $1 AND status IN ('sending', 'unknown', 'delivered', 'read', 'failed')`,
        params: [r.providerMessageId],
      };
    case 'retrying':
      return {
        update: `UPDATE deliveries SET status = 'retrying', error_code = $4, error_detail = ${ERASED_DETAIL}, next_attempt_at = $7,
                   job_id = ${OWN_JOB_ID}, updated_at = $6 WHERE id = $1 AND status = 'sending'`,
        params: [r.nextAttemptAt],
        code: r.code,
        detail: r.detail,
      };
    case 'failed':
      return {
        update: `UPDATE deliveries SET status = 'failed', error_code = $4, error_detail = ${ERASED_DETAIL}, failed_at = $6,
                   updated_at = $6 WHERE id = $1 AND status = 'sending'`,
        params: [],
        code: r.code,
        detail: r.detail,
      };
    case 'unknown':
      return {
        update: `UPDATE deliveries SET status = 'unknown', error_code = $4, error_detail = ${ERASED_DETAIL},
                   updated_at = $6 WHERE id = $1 AND status = 'sending'`,
        params: [],
        code: r.code,
        detail: r.detail,
      };
    case 'skipped':
      return {
        update: `UPDATE deliveries SET status = 'skipped', skip_reason = $7, updated_at = $6
                  WHERE id = $1 AND status = 'sending'`,
        params: [r.reason],
        detail: r.reason,
      };
    case 'queued':
      return {
        update: `UPDATE deliveries SET status = 'queued', error_code = $4, error_detail = ${ERASED_DETAIL}, updated_at = $6,
                   job_id = ${OWN_JOB_ID} WHERE id = $1 AND status = 'sending'`,
        params: [],
        code: r.code,
        detail: r.detail,
      };
  }
}

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

export const releaseClaim = (sql: Sql | Db, deliveryId: number, code: string, now: Date): Promise<void> =>
  releaseClaims(sql, [deliveryId], code, now);
