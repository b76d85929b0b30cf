// Send (DESIGN.md point 5): claim the delivery (`queued|retrying → sending`, the at-most-once
// gate), check eligibility again, render, call the channel, record the outcome and the attempt.
// The service decides; the worker only turns the decision into BullMQ's vocabulary.
// A crash after the provider accepted and before the outcome is written leaves `sending`, which
// recovery turns into `unknown` and never sends again.
import type { Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';
import { sendDurationSeconds, sendsTotal } from '../shared/metrics.ts';
import type { Channel } from '../shared/vocabulary.ts';
import { isUnreachable } from '../store/connection-error.ts';
import { untilDatabaseAnswers } from '../store/outage.ts';
import type { Db } from '../store/pool.ts';
import { endChannelForProviderError } from '../subscribers/bounce.service.ts';
import type { EmailSend } from './channels/email.ts';
import type { SendOutcome } from './channels/outcome.ts';
import type { TemplateSend } from './channels/whatsapp.ts';
import { PAUSED_CODE } from './delivery.repository.ts';
import type { ProviderOutages } from './provider-outage.ts';
import type { RateGate } from './rate-gate.ts';
import { type DeliveryRenderer, MissingAddressError, type RenderedDelivery } from './render.ts';
import { type AttemptBudget, decideOutcome, ineligibility, type SendDecision } from './send.decide.ts';
import {
  type AttemptRecord,
  attemptOutcome,
  type ClaimedDelivery,
  claimDelivery,
  recordAttempt,
  releaseClaim,
} from './send.repository.ts';

export interface ChannelSenders {
  readonly whatsapp?: { sendTemplate(message: TemplateSend): Promise<SendOutcome> };
  readonly email?: { sendEmail(message: EmailSend): Promise<SendOutcome> };
}

export interface SendDeps {
  readonly db: Db;
  readonly logger: Logger;
  readonly renderer: DeliveryRenderer;
  readonly channels: ChannelSenders;
  /** Read again after waiting at the rate gate: the wait may have reached the deadline. */
  readonly clock: Clock;
  /** Per-channel limit checked right before each provider call (all workers together). */
  readonly gates?: Partial<Record<Channel, RateGate>>;
  /** Wait before retry number `attemptsMade + 1`, honouring the provider's own wait if longer. */
  readonly backoff: (attemptsMade: number, retryAfterMs: number | undefined) => number;
  /** Told of each `unavailable` answer and each sent message: logs a provider outage once. */
  readonly outages?: ProviderOutages;
}

export type { AttemptBudget, SendDecision } from './send.decide.ts';

/** The delay decision's code while PostgreSQL is unreachable at the claim. */
export const DATABASE_UNAVAILABLE = 'database-unavailable';

/** How long a send job waits when PostgreSQL did not answer its claim: 2-4 s, spread so that
 *  the jobs of a whole queue do not all come back in the same instant. */
export const databaseWaitMs = () => 2_000 + Math.round(Math.random() * 2_000);

export async function sendDelivery(
  deps: SendDeps,
  deliveryId: number,
  now: number,
  budget: AttemptBudget,
): Promise<SendDecision> {
  const at = new Date(now);
  let d: ClaimedDelivery | undefined;
  try {
    d = await claimDelivery(deps.db, deliveryId, at);
  } catch (error) {
    // PostgreSQL outage: nothing was claimed, so nothing is at stake. Wait without spending an
    // attempt (an outage is not this message's failure); the claim keeps it at most once.
    if (isUnreachable(error))
      return { action: 'delay', delayMs: databaseWaitMs(), code: DATABASE_UNAVAILABLE };
    throw error;
  }
  if (!d) return { action: 'complete', status: 'already-handled' };
  const claimed = d;
  // Every recorded attempt is counted (lastcall_sends_total{channel,outcome}) once written.
  // Once claimed, the row is `sending` until this write lands: it waits out a PostgreSQL outage
  // (untilDatabaseAnswers) rather than leave the row for recovery to call `unknown`.
  const record = async (r: AttemptRecord) => {
    await untilDatabaseAnswers(() => recordAttempt(deps.db, claimed.id, claimed.attempt, r, at));
    sendsTotal.inc({ channel: claimed.channel, outcome: attemptOutcome(r) });
  };

  let rendered: RenderedDelivery;
  try {
    if (d.campaign.state === 'paused') {
      // Nothing tried: the row waits, marked, and the tick queues it again after resume.
      await untilDatabaseAnswers(() => releaseClaim(deps.db, claimed.id, PAUSED_CODE, at));
      return { action: 'complete', status: 'released' };
    }
    const reason = ineligibility(d, now);
    if (reason !== undefined) {
      await record({ status: 'skipped', reason });
      deps.logger.info({ deliveryId: d.id, reason }, 'delivery skipped');
      return { action: 'complete', status: 'skipped' };
    }
    if (d.campaign.template === null) {
      await record({ status: 'failed', code: 'no-template', detail: `step ${d.stepId} no longer exists` });
      return { action: 'fail', code: 'no-template' };
    }
    try {
      rendered = await deps.renderer.render(
        d as Parameters<DeliveryRenderer['render']>[0],
        d.campaign.template,
        now,
      );
    } catch (error) {
      const missing = error instanceof MissingAddressError;
      const code = missing ? 'no-address' : 'render-error';
      await record({ status: 'failed', code, detail: (error as Error).message });
      deps.logger.error({ deliveryId: d.id, code, err: error }, 'delivery cannot be rendered');
      return { action: 'fail', code };
    }
    await deps.gates?.[rendered.channel]?.acquire();
    // The gate may have made it wait: nothing goes out at or after the deadline (SPEC 4.2).
    if (deps.clock.now() >= d.campaign.deadline) {
      await record({ status: 'skipped', reason: 'deadline-passed' });
      return { action: 'complete', status: 'skipped' };
    }
  } catch (error) {
    // Nothing reached the provider: hand the row back so the job's retry can claim it.
    await record({
      status: 'retrying',
      outcome: 'retry',
      code: 'internal',
      detail: String(error),
      nextAttemptAt: at,
    }).catch((recordError: unknown) =>
      // The row stays `sending`; recovery turns it into `unknown` (never sent twice).
      deps.logger.error({ deliveryId: d.id, err: recordError }, 'cannot hand the delivery back for a retry'),
    );
    throw error;
  }

  const endTimer = sendDurationSeconds.startTimer({ channel: rendered.channel });
  const outcome = await callChannel(deps.channels, rendered).finally(() => endTimer());
  return decide(deps, d, outcome, record, budget, now);
}

export async function callChannel(channels: ChannelSenders, r: RenderedDelivery): Promise<SendOutcome> {
  if (r.channel === 'whatsapp') {
    if (!channels.whatsapp)
      return { outcome: 'channel-down', code: 'not-configured', detail: 'WhatsApp is not configured' };
    return channels.whatsapp.sendTemplate(r.message);
  }
  if (!channels.email)
    return { outcome: 'channel-down', code: 'not-configured', detail: 'email is not configured' };
  return channels.email.sendEmail(r.message);
}

async function decide(
  deps: SendDeps,
  d: ClaimedDelivery,
  outcome: SendOutcome,
  record: (r: AttemptRecord) => Promise<void>,
  budget: AttemptBudget,
  now: number,
): Promise<SendDecision> {
  const decided = decideOutcome(d, outcome, budget, now, deps.backoff);
  await record(decided.record);
  const log = {
    deliveryId: d.id,
    channel: d.channel,
    attempt: d.attempt,
    code: 'code' in outcome ? outcome.code : undefined,
  };
  if (outcome.outcome === 'sent') deps.outages?.sent(d.channel);
  if (outcome.outcome === 'unavailable') deps.outages?.unavailable(d.channel, outcome.code, outcome.detail);
  if (outcome.outcome === 'unknown')
    deps.logger.warn(log, 'delivery unknown: the provider may have accepted it');
  if (outcome.outcome === 'permanent') {
    // 131026 / 131050: this person cannot or will not receive here; later steps skip the channel.
    const ended = await endChannelForProviderError(deps.db, d.id, d.channel, outcome, now);
    deps.logger.warn({ ...log, ended }, 'delivery failed permanently');
  } else if (decided.decision.action === 'fail') deps.logger.warn(log, 'delivery failed');
  return decided.decision;
}
