// Bounces and complaints (docs/operations.md, "Bounces and complaints"): what the receiving side
// reports after a provider accepted a reminder, and what it does to the subscriber's channel.
//
// - Email: a delivery status notification with a permanent status (5.x.x) ends the email
//   channel as `bounced`; a feedback report of abuse (a "this is spam" click) ends it as
//   `complained`. A transient status (4.x.x: mailbox full, server down, "still retrying") is
//   counted (delivery_reports, `campaign stats`) and changes nothing: the next step tries again.
// - WhatsApp: the send outcome's error code. 131026 (undeliverable: no WhatsApp on the number,
//   or the business is blocked) ends the channel as `bounced`; 131050 (the person stopped
//   marketing messages in WhatsApp) as `stopped`, the state Meta's own marketing opt-out gives, so
//   that their START or Meta's "resume" switches it back on.
// Only an active or pending channel is ended, with a consent-style event carrying the evidence
// (kind bounce / complaint / opt_out); the channel and its event are written in one transaction,
// after the subscriber's row lock, in the same order as every opt-out (subscription.service.ts).
// Fan-out and the sender only message `active` channels, so the next step skips this one.
import { type EventType, recordEvent } from '../events/outbox.ts';
import type { Logger } from '../shared/logger.ts';
import { mailReportsTotal } from '../shared/metrics.ts';
import type { Channel } from '../shared/vocabulary.ts';
import type { Db, Sql } from '../store/pool.ts';
import * as reports from './bounce.repository.ts';
import type { ChannelState, ConsentKind } from './subscriber.repository.ts';
import * as subscribers from './subscriber.repository.ts';

/** What the SMTP listener read from a DSN or an ARF report (inbound/mail-reports.ts). */
export type EmailReport =
  | {
      readonly kind: 'bounce';
      /** RFC 3463 status, e.g. 5.1.1 */
      readonly status: string;
      /** failed, delayed, delivered, relayed, expanded */
      readonly action: string;
      /** Without addresses. */
      readonly diagnosticCode?: string;
      readonly reportingMta?: string;
      readonly remoteMta?: string;
    }
  | {
      readonly kind: 'complaint';
      /** abuse, fraud, virus, not-spam, auth-failure, other… */
      readonly feedbackType: string;
      readonly reportingMta?: string;
      readonly userAgent?: string;
    };

export interface ReportResult {
  /** False: no such delivery (a report about a message of a deleted campaign). */
  readonly found: boolean;
  /** What the report counts as; undefined when it counts as nothing (a "not spam" report). */
  readonly outcome: reports.ReportOutcome | undefined;
  /** False when this delivery already had a report with this outcome. */
  readonly counted: boolean;
  /** The channel this report ended, if it did. */
  readonly ended: ChannelState | undefined;
}

/** Feedback types that are a person's complaint (RFC 5965 §7.3); auth-failure, not-spam… are not. */
const COMPLAINTS = new Set(['abuse', 'fraud']);

interface Ending {
  readonly state: Extract<ChannelState, 'bounced' | 'complained' | 'stopped'>;
  readonly kind: ConsentKind;
  /** Counted in `campaign stats` as this outcome, or not counted beyond `failed`. */
  readonly outcome?: reports.ReportOutcome;
}

/** Provider error codes that mean the person cannot or will not receive on this channel. */
const ENDING_ERRORS: Readonly<Record<Channel, Readonly<Record<string, Ending>>>> = {
  whatsapp: {
    '131026': { state: 'bounced', kind: 'bounce', outcome: 'bounced' },
    '131050': { state: 'stopped', kind: 'opt_out' },
  },
  email: {},
};
const BOUNCED: Ending = { state: 'bounced', kind: 'bounce' };
const ENDING_EVENTS = {
  bounced: 'subscriber.bounced',
  complained: 'subscriber.complained',
  stopped: 'subscriber.stopped',
} as const satisfies Record<Ending['state'], EventType>;
const COMPLAINED: Ending = { state: 'complained', kind: 'complaint' };

export const DSN_SOURCE = 'dsn';
export const ARF_SOURCE = 'arf';
export const PROVIDER_ERROR_SOURCE = 'whatsapp-error';

export interface BounceDeps {
  readonly db: Db;
  readonly logger: Logger;
}

export function createBounceService(deps: BounceDeps) {
  return {
    /** A DSN or ARF report received at the delivery's return path. Idempotent. */
    async recordEmailReport(deliveryId: number, report: EmailReport, now: number): Promise<ReportResult> {
      const result = await deps.db.tx(async (sql): Promise<ReportResult> => {
        const delivery = await reports.findDelivery(sql, deliveryId);
        if (delivery?.channel !== 'email')
          return { found: false, outcome: undefined, counted: false, ended: undefined };
        const { outcome, code, evidence } = classify(report);
        if (outcome === undefined) return { found: true, outcome, counted: false, ended: undefined };
        const source = report.kind === 'bounce' ? DSN_SOURCE : ARF_SOURCE;
        const counted = await reports.insertReport(sql, {
          deliveryId,
          outcome,
          source,
          code,
          evidence,
          receivedAt: now,
        });
        const ending = outcome === 'bounced' ? BOUNCED : outcome === 'complained' ? COMPLAINED : undefined;
        const ended =
          ending && (await endChannel(sql, delivery, ending, source, { code, ...evidence }, now))
            ? ending.state
            : undefined;
        return { found: true, outcome, counted, ended };
      });
      deps.logger.info({ deliveryId, kind: report.kind, ...result }, 'delivery report');
      mailReportsTotal.inc({
        kind: report.kind,
        outcome: result.found ? (result.outcome ?? 'ignored') : 'unknown-delivery',
      });
      return result;
    },
  };
}

export type BounceService = ReturnType<typeof createBounceService>;

function classify(report: EmailReport): {
  outcome: reports.ReportOutcome | undefined;
  code: string;
  evidence: Record<string, unknown>;
} {
  if (report.kind === 'complaint') {
    const { kind: _, feedbackType, ...evidence } = report;
    return {
      outcome: COMPLAINTS.has(feedbackType) ? 'complained' : undefined,
      code: feedbackType,
      evidence: { feedbackType, ...evidence },
    };
  }
  const { kind: _, status, ...evidence } = report;
  // A "delivered" or "relayed" notice (NOTIFY=SUCCESS) has a 2.x.x status: nothing went wrong.
  const outcome = status.startsWith('5.') ? 'bounced' : status.startsWith('4.') ? 'soft-bounced' : undefined;
  return { outcome, code: status, evidence: { status, ...evidence } };
}

/**
 * Called where a send's outcome is recorded (send.service.ts, and the WhatsApp status webhook):
 * a provider error that means the person cannot or will not receive on this channel ends it for
 * later steps. Any other code returns undefined at once, without a query. Pass the pool to run
 * in a transaction of its own, or the caller's transaction.
 */
export async function endChannelForProviderError(
  sql: Db | Sql,
  deliveryId: number,
  channel: Channel,
  error: { readonly code: string; readonly detail?: string | undefined },
  now: number,
): Promise<ChannelState | undefined> {
  const ending = ENDING_ERRORS[channel][error.code];
  if (!ending) return undefined;
  const run = async (tx: Sql) => {
    const delivery = await reports.findDelivery(tx, deliveryId);
    if (!delivery || delivery.channel !== channel) return undefined;
    const evidence = { code: error.code, ...(error.detail ? { detail: error.detail.slice(0, 300) } : {}) };
    if (ending.outcome)
      await reports.insertReport(tx, {
        deliveryId,
        outcome: ending.outcome,
        source: PROVIDER_ERROR_SOURCE,
        code: error.code,
        evidence,
        receivedAt: now,
      });
    const ended = await endChannel(tx, delivery, ending, PROVIDER_ERROR_SOURCE, evidence, now);
    return ended ? ending.state : undefined;
  };
  return 'tx' in sql ? sql.tx(run) : run(sql);
}

/** Ends an active or pending channel with its event; false when there was nothing to end. */
async function endChannel(
  sql: Sql,
  delivery: reports.ReportedDelivery,
  ending: Ending,
  source: string,
  evidence: Record<string, unknown>,
  now: number,
): Promise<boolean> {
  const subscriberId = delivery.subscriberId;
  if (subscriberId === null || !(await subscribers.lockById(sql, subscriberId))) return false;
  const row = (await subscribers.lockChannels(sql, subscriberId)).get(delivery.channel);
  if (row?.state !== 'active' && row?.state !== 'pending') return false;
  await subscribers.setChannel(sql, subscriberId, delivery.channel, ending.state, undefined, now);
  // The outbound event (docs/api.md), in this transaction: ids and the source only.
  await recordEvent(
    sql,
    {
      type: ENDING_EVENTS[ending.state],
      subscriberId,
      data: { channel: delivery.channel, source, deliveryId: delivery.id },
    },
    now,
  );
  await subscribers.appendConsentEvent(sql, {
    subscriberId,
    channel: delivery.channel,
    kind: ending.kind,
    source,
    evidence: {
      ...evidence,
      deliveryId: delivery.id,
      campaign: delivery.campaignId,
      step: delivery.stepId,
      previousState: row.state,
    },
    occurredAt: now,
  });
  return true;
}
