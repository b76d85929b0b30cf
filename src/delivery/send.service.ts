// Send (DESIGN.md point 5): claim the delivery (`queued|retrying → sending`, the at-most-once
// gate), check eligibility again, render, call the channel, record the outcome and the attempt.
// The service decides; the worker only turns the decision into BullMQ's vocabulary.
// A crash after the provider accepted and before the outcome is written leaves `sending`, which
// recovery turns into `unknown` and never sends again.
import type { Channel } from '../planning/types.ts';
import type { Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';
import { sendDurationSeconds, sendsTotal } from '../shared/metrics.ts';
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

/** Where this attempt stands in the job's retry budget (BullMQ's attemptsMade / attempts). */
export interface AttemptBudget {
  readonly attemptsMade: number;
  readonly maxAttempts: number;
}

/** What the worker must do with the job. */
export type SendDecision =
  | {
      readonly action: 'complete';
      readonly status: 'sent' | 'skipped' | 'failed' | 'unknown' | 'already-handled' | 'released';
    }
  /** Transient failure: throw so BullMQ retries after `delayMs`. */
  | { readonly action: 'retry'; readonly delayMs: number; readonly code: string }
  /** The provider throttles the whole number: stop the queue for `delayMs`, keep the job. */
  | { readonly action: 'throttle-queue'; readonly delayMs: number; readonly code: string }
  /** Not now: move the job to delayed for `delayMs` without spending an attempt. */
  | { readonly action: 'delay'; readonly delayMs: number; readonly code: string }
  | { readonly action: 'fail'; readonly code: string }
  /** The account or token is broken: pause the channel, keep the job for later. */
  | { readonly action: 'channel-down'; readonly code: string; readonly detail: string };

/** The delay decision's code while PostgreSQL is unreachable at the claim. */
export const DATABASE_UNAVAILABLE = 'database-unavailable';

/** How long a send job waits when PostgreSQL did not answer its claim: 2-4 s, spread so that
 *  the jobs of a whole queue do not all come back in the same instant. */
const databaseWaitMs = () => 2_000 + Math.round(Math.random() * 2_000);

/** Codes meaning "the number as a whole is over its rate": throttle the queue, not one job. */
const QUEUE_WIDE = new Set(['130429', '4', '80007', 'http-429']);

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

function ineligibility(d: ClaimedDelivery, now: number): string | undefined {
  if (d.campaign.state === 'cancelled') return 'campaign-cancelled';
  if (d.campaign.state === 'finished') return 'deadline-passed';
  if (d.campaign.state !== 'running') return 'campaign-not-running';
  if (now >= d.campaign.deadline) return 'deadline-passed';
  if (!d.subscriber) return 'erased';
  const state = d.subscriber.channelState;
  if (state === 'unsubscribed' || state === 'stopped' || state === 'bounced' || state === 'complained')
    return state;
  if (state !== 'active') return 'no-consent';
  if (d.subscriber.done) return 'done';
  return undefined;
}

async function callChannel(channels: ChannelSenders, r: RenderedDelivery): Promise<SendOutcome> {
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
  const log = { deliveryId: d.id, channel: d.channel, attempt: d.attempt };
  switch (outcome.outcome) {
    case 'sent':
      await record({ status: 'sent', providerMessageId: outcome.messageId });
      deps.outages?.sent(d.channel);
      return { action: 'complete', status: 'sent' };
    case 'unavailable': {
      // Provider outage: nothing was sent and no message would go now. Hold the channel's queue
      // and spend no attempt (as a queue-wide throttle); the wait grows with this row's tries
      // (its claims), up to 16 x the backoff base. The deadline still stops it (claim check).
      deps.outages?.unavailable(d.channel, outcome.code, outcome.detail);
      const delayMs = deps.backoff(Math.min(d.attempt, 5), outcome.retryAfterMs);
      await record({
        status: 'retrying',
        outcome: 'retry',
        code: outcome.code,
        detail: outcome.detail,
        nextAttemptAt: new Date(now + delayMs),
      });
      return { action: 'throttle-queue', delayMs, code: outcome.code };
    }
    case 'permanent': {
      await record({ status: 'failed', code: outcome.code, detail: outcome.detail });
      // 131026 / 131050: this person cannot or will not receive here; later steps skip the channel.
      const ended = await endChannelForProviderError(deps.db, d.id, d.channel, outcome, now);
      deps.logger.warn({ ...log, code: outcome.code, ended }, 'delivery failed permanently');
      return { action: 'fail', code: outcome.code };
    }
    case 'unknown':
      // The provider may have it (a timeout after the request was sent): never again.
      await record({ status: 'unknown', code: outcome.code, detail: outcome.detail });
      deps.logger.warn({ ...log, code: outcome.code }, 'delivery unknown: the provider may have accepted it');
      return { action: 'complete', status: 'unknown' };
    case 'channel-down':
      await record({ status: 'queued', code: outcome.code, detail: outcome.detail, attemptOutcome: 'retry' });
      return { action: 'channel-down', code: outcome.code, detail: outcome.detail };
    case 'defer': {
      if (now + outcome.delayMs >= d.campaign.deadline) {
        const detail = `${outcome.detail} (asked to wait past the deadline)`;
        await record({ status: 'failed', code: outcome.code, detail });
        return { action: 'fail', code: outcome.code };
      }
      const nextAttemptAt = new Date(now + outcome.delayMs);
      await record({
        status: 'retrying',
        outcome: 'deferred',
        code: outcome.code,
        detail: outcome.detail,
        nextAttemptAt,
      });
      return { action: 'delay', delayMs: outcome.delayMs, code: outcome.code };
    }
    case 'retry': {
      // A throttle of the whole number holds the queue and spends none of this job's attempts.
      const queueWide = QUEUE_WIDE.has(outcome.code);
      if (!queueWide && budget.attemptsMade + 1 >= budget.maxAttempts) {
        const detail = `gave up after ${budget.maxAttempts} attempts: ${outcome.detail}`;
        await record({ status: 'failed', code: outcome.code, detail });
        deps.logger.warn({ ...log, code: outcome.code }, 'delivery failed: retries exhausted');
        return { action: 'fail', code: outcome.code };
      }
      const delayMs = queueWide
        ? (outcome.retryAfterMs ?? deps.backoff(1, undefined))
        : deps.backoff(budget.attemptsMade + 1, outcome.retryAfterMs);
      await record({
        status: 'retrying',
        outcome: 'retry',
        code: outcome.code,
        detail: outcome.detail,
        nextAttemptAt: new Date(now + delayMs),
      });
      return { action: queueWide ? 'throttle-queue' : 'retry', delayMs, code: outcome.code };
    }
  }
}
