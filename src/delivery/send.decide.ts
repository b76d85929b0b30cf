// The send decision table of the send path (send.service.ts): who may still receive a claimed
// delivery, and what a provider's answer means for the row (the attempt to record) and for the
// work (the SendDecision). Pure: the send path writes the records and acts on the decisions.
import type { SendOutcome } from './channels/outcome.ts';
import type { AttemptRecord, ClaimedDelivery } from './send.repository.ts';

/** Where this attempt stands in the delivery's retry budget (attempts made before / allowed). */
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

/** Meta accepted a message but holds it while it assesses the template (recorded on the attempt). */
export const HELD_FOR_QUALITY = 'held_for_quality_assessment';

/** Codes meaning "the number as a whole is over its rate": throttle the queue, not one job. */
const QUEUE_WIDE = new Set(['130429', '4', '80007', 'http-429']);

/** Why a claimed delivery must not go out (docs/campaigns.md, "Stops"), or undefined when it may. */
export function ineligibility(d: ClaimedDelivery, now: number): string | undefined {
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

export interface OutcomeDecision {
  readonly record: AttemptRecord;
  readonly decision: SendDecision;
}

/** The record and decision for a provider's answer to attempt `d.attempt`. */
export function decideOutcome(
  d: ClaimedDelivery,
  outcome: SendOutcome,
  budget: AttemptBudget,
  now: number,
  backoff: (attemptsMade: number, retryAfterMs: number | undefined) => number,
): OutcomeDecision {
  switch (outcome.outcome) {
    case 'sent':
      return {
        record: {
          status: 'sent',
          providerMessageId: outcome.messageId,
          ...(outcome.held ? { detail: HELD_FOR_QUALITY } : {}),
        },
        decision: { action: 'complete', status: 'sent' },
      };
    case 'unavailable': {
      // Provider outage: nothing was sent and no message would go now. Hold the channel's queue
      // and spend no attempt (as a queue-wide throttle); the wait grows with this row's tries
      // (its claims), up to 16 x the backoff base. The deadline still stops it (claim check).
      const delayMs = backoff(Math.min(d.attempt, 5), outcome.retryAfterMs);
      return tryAgain(outcome, 'retry', 'throttle-queue', delayMs, now);
    }
    case 'unknown':
      // The provider may have it (a timeout after the request was sent): never again.
      return {
        record: { status: 'unknown', code: outcome.code, detail: outcome.detail },
        decision: { action: 'complete', status: 'unknown' },
      };
    case 'permanent':
      return {
        record: { status: 'failed', code: outcome.code, detail: outcome.detail },
        decision: { action: 'fail', code: outcome.code },
      };
    case 'channel-down':
      return {
        record: { status: 'queued', code: outcome.code, detail: outcome.detail, attemptOutcome: 'retry' },
        decision: { action: 'channel-down', code: outcome.code, detail: outcome.detail },
      };
    case 'defer': {
      if (now + outcome.delayMs >= d.campaign.deadline) {
        const detail = `${outcome.detail} (asked to wait past the deadline)`;
        return {
          record: { status: 'failed', code: outcome.code, detail },
          decision: { action: 'fail', code: outcome.code },
        };
      }
      return tryAgain(outcome, 'deferred', 'delay', outcome.delayMs, now);
    }
    case 'retry': {
      // A throttle of the whole number holds the queue and spends none of this job's attempts.
      const queueWide = QUEUE_WIDE.has(outcome.code);
      if (!queueWide && budget.attemptsMade + 1 >= budget.maxAttempts) {
        const detail = `gave up after ${budget.maxAttempts} attempts: ${outcome.detail}`;
        return {
          record: { status: 'failed', code: outcome.code, detail },
          decision: { action: 'fail', code: outcome.code },
        };
      }
      const delayMs = queueWide
        ? (outcome.retryAfterMs ?? backoff(1, undefined))
        : backoff(budget.attemptsMade + 1, outcome.retryAfterMs);
      return tryAgain(outcome, 'retry', queueWide ? 'throttle-queue' : 'retry', delayMs, now);
    }
  }
}

/** The row waits (`retrying`, tried again at now + delayMs) and the job does `action`. */
function tryAgain(
  outcome: { readonly code: string; readonly detail: string },
  recorded: 'retry' | 'deferred',
  action: 'retry' | 'throttle-queue' | 'delay',
  delayMs: number,
  now: number,
): OutcomeDecision {
  return {
    record: {
      status: 'retrying',
      outcome: recorded,
      code: outcome.code,
      detail: outcome.detail,
      nextAttemptAt: new Date(now + delayMs),
    },
    decision: { action, delayMs, code: outcome.code },
  };
}
