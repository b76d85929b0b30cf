// SQL for the batched sender's outcomes: every attempt of a page written in one statement (an
// UPDATE … FROM unnest(...) chained to one INSERT of the attempts), with the same rules as
// recordAttempt (send.repository.ts) row by row: only a `sending` row moves, except that `sent`
// also lands on a row recovery already called `unknown` and never pulls back a status a webhook
// moved forward; a row erased while it was `sending` keeps no wamid and no error text; a retry or
// a channel-down hand-back makes the row its own job's (`delivery-<id>`).
import type { Db, Sql } from '../store/pool.ts';
import { type AttemptRecord, attemptOutcome } from './send.repository.ts';

export interface PageRecord {
  readonly deliveryId: number;
  readonly attempt: number;
  readonly record: AttemptRecord;
}

// Erased: the SET and RETURNING see the row after an erasure's commit (READ COMMITTED re-reads
// a row updated concurrently), as in recordAttempt. A `send-test` row has no subscriber either.
const ERASED = "d.subscriber_id IS NULL AND d.kind <> 'test'";

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
  RETURNING d.id, (${ERASED}) AS erased)
INSERT INTO delivery_attempts (delivery_id, attempt, outcome, error_code, detail, at)
SELECT o.id, o.attempt, o.outcome, o.code, CASE WHEN u.erased THEN NULL ELSE o.detail END, $10
  FROM o LEFT JOIN u ON u.id = o.id`;

/** Writes every record of a page and its attempts, in one statement. */
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
  const params = [
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
  ];
  if ('pool' in sql)
    await sql.pool.query({ name: 'lastcall-record-page', text: RECORD_PAGE, values: params });
  else await sql.exec(RECORD_PAGE, params);
}
