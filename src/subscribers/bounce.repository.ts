// SQL for bounces and complaints: the delivery a report names, and the report itself
// (delivery_reports: one row per delivery and outcome, so a repeated report counts once).
import type { Channel } from '../shared/vocabulary.ts';
import type { Sql } from '../store/pool.ts';

export interface ReportedDelivery {
  readonly id: number;
  readonly campaignId: string;
  readonly stepId: string;
  readonly channel: Channel;
  /** null: a test send, or a subscriber erased since. */
  readonly subscriberId: string | null;
}

export type ReportOutcome = 'bounced' | 'soft-bounced' | 'complained';

export interface DeliveryReport {
  readonly deliveryId: number;
  readonly outcome: ReportOutcome;
  /** dsn, arf, whatsapp-error */
  readonly source: string;
  readonly code: string | null;
  /** Codes and host names only: kept after erasure. */
  readonly evidence: Readonly<Record<string, unknown>>;
  /** Epoch milliseconds. */
  readonly receivedAt: number;
}

export function findDelivery(sql: Sql, id: number): Promise<ReportedDelivery | undefined> {
  return sql.one<ReportedDelivery>(
    `SELECT id, campaign_id AS "campaignId", step_id AS "stepId", channel, subscriber_id AS "subscriberId"
       FROM deliveries WHERE id = $1`,
    [id],
  );
}

/** True when this is the delivery's first report with this outcome. */
export async function insertReport(sql: Sql, report: DeliveryReport): Promise<boolean> {
  return (
    (await sql.exec(
      `INSERT INTO delivery_reports (delivery_id, outcome, source, code, evidence, received_at)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (delivery_id, outcome) DO NOTHING`,
      [
        report.deliveryId,
        report.outcome,
        report.source,
        report.code,
        JSON.stringify(report.evidence),
        new Date(report.receivedAt),
      ],
    )) > 0
  );
}
