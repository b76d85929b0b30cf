// The batched send path (README "Sending in batches"): one `sendBatch` job carries a page of
// delivery ids. The fixed costs are paid once per page: one claim statement (the at-most-once
// gate, `queued|retrying → sending`, with what eligibility needs joined in), one reservation at
// the rate gate, one statement for the outcomes and their attempts. The provider calls go out
// in parallel as the gate admits them. The decisions are the single path's (send.decide.ts).
// Per message: a retry, a deferral, a throttled or a channel-down message becomes its own
// `send` job (`delivery-<id>`) with its own delay. Crash rules are unchanged: a row is `sending`
// only between its claim and its outcome, and recovery makes a `sending` row whose job is not
// active `unknown`, never sent again.
import { sendQueueFor } from '../queue/catalog.ts';
import type { QueueSet } from '../queue/connection.ts';
import { sendDurationSeconds, sendsTotal } from '../shared/metrics.ts';
import { isUnreachable } from '../store/connection-error.ts';
import { untilDatabaseAnswers } from '../store/outage.ts';
import { endChannelForProviderError } from '../subscribers/bounce.service.ts';
import type { SendOutcome } from './channels/outcome.ts';
import { PAUSED_CODE } from './delivery.repository.ts';
import { type DeliveryRef, requeueSendJobs } from './job-queueing.ts';
import { MissingAddressError, type RenderedDelivery } from './render.ts';
import { decideOutcome, ineligibility, type SendDecision } from './send.decide.ts';
import {
  type AttemptRecord,
  attemptOutcome,
  type ClaimedDelivery,
  claimDeliveries,
  releaseClaims,
} from './send.repository.ts';
import { callChannel, databaseWaitMs, type SendDeps } from './send.service.ts';
import { type PageRecord, recordPage } from './send-batch.repository.ts';

export interface BatchDeps extends SendDeps {
  readonly queues: QueueSet;
  /** Pauses the channel's queue for every worker and alerts (channel-guard.ts). */
  channelDown(code: string, detail: string): Promise<void>;
  /** How long a message of a channel that went down waits before it is looked at again. */
  readonly channelDownDelayMs: number;
  /** A delivery's attempt budget (jobs.send.options.attempts). */
  readonly maxAttempts: number;
}

export interface BatchReport {
  readonly claimed: number;
  readonly sent: number;
  /** Handed to their own `send` job: a retry, a deferral, a throttle or a channel down. */
  readonly requeued: number;
  /** Their campaign is paused: back to `queued`, re-queued by the tick after resume. */
  readonly released: number;
  /** Provider call ended without an answer we can read: left `sending` for recovery. */
  readonly unknown: number;
  /** PostgreSQL did not answer the claim: nothing was claimed; wait this long (no attempt spent). */
  readonly databaseWaitMs?: number;
}

/** A message that stopped before its call: the batch was halted (throttle, channel down). */
interface Halt {
  readonly code: string;
  readonly detail: string;
  readonly delayMs: number;
  readonly decision: Extract<SendDecision, { action: 'throttle-queue' | 'channel-down' }>;
}

type CallResult =
  | {
      readonly kind: 'record';
      readonly d: ClaimedDelivery;
      readonly record: AttemptRecord;
      readonly decision?: SendDecision;
      readonly outcome?: SendOutcome;
    }
  | { readonly kind: 'held'; readonly d: ClaimedDelivery }
  | { readonly kind: 'unknown'; readonly d: ClaimedDelivery };

export async function sendBatch(
  deps: BatchDeps,
  jobId: string,
  deliveryIds: readonly number[],
  now: number,
): Promise<BatchReport> {
  const at = new Date(now);
  const none = { claimed: 0, sent: 0, requeued: 0, released: 0, unknown: 0 };
  let claimed: ClaimedDelivery[];
  try {
    claimed = await claimDeliveries(deps.db, deliveryIds, jobId, at);
  } catch (error) {
    // PostgreSQL outage: nothing was claimed, so nothing is at stake. The page waits without
    // spending an attempt (an outage is not its messages' failure); the claim keeps it at most once.
    if (isUnreachable(error)) return { ...none, databaseWaitMs: databaseWaitMs() };
    throw error;
  }
  if (claimed.length === 0) return none;
  // Once claimed, rows are `sending` until these writes land: they wait out a PostgreSQL outage
  // rather than leave the rows for recovery to call `unknown`.
  const release = (ids: readonly number[], code: string, detail: string | null = null) =>
    untilDatabaseAnswers(() => releaseClaims(deps.db, ids, code, at, detail));
  const write = async (records: readonly PageRecord[], channelOf: Map<number, string>) => {
    await untilDatabaseAnswers(() => recordPage(deps.db, records, new Date(deps.clock.now())));
    for (const r of records)
      sendsTotal.inc({ channel: channelOf.get(r.deliveryId) ?? '', outcome: attemptOutcome(r.record) });
  };
  const channelOf = new Map(claimed.map((d) => [d.id, d.channel]));
  const paused = claimed.filter((d) => d.campaign.state === 'paused');

  // Before any call: nothing reached the provider, so a failure hands every row back (`queued`,
  // attempt not counted) for this job's own retry to claim again.
  let ready: { d: ClaimedDelivery; rendered: RenderedDelivery }[];
  try {
    await release(
      paused.map((d) => d.id),
      PAUSED_CODE,
    );
    const early: PageRecord[] = [];
    ready = [];
    for (const d of claimed) {
      if (d.campaign.state === 'paused') continue;
      const reason = ineligibility(d, now);
      if (reason !== undefined) {
        early.push({ deliveryId: d.id, attempt: d.attempt, record: { status: 'skipped', reason } });
        deps.logger.info({ deliveryId: d.id, reason }, 'delivery skipped');
      } else if (d.campaign.template === null) {
        const detail = `step ${d.stepId} no longer exists`;
        early.push({
          deliveryId: d.id,
          attempt: d.attempt,
          record: { status: 'failed', code: 'no-template', detail },
        });
      } else {
        try {
          ready.push({ d, rendered: await deps.renderer.render(d as never, d.campaign.template, now) });
        } catch (error) {
          const code = error instanceof MissingAddressError ? 'no-address' : 'render-error';
          early.push({
            deliveryId: d.id,
            attempt: d.attempt,
            record: { status: 'failed', code, detail: (error as Error).message },
          });
          deps.logger.error({ deliveryId: d.id, code, err: error }, 'delivery cannot be rendered');
        }
      }
    }
    await write(early, channelOf);
  } catch (error) {
    await release(
      claimed.filter((d) => d.campaign.state !== 'paused').map((d) => d.id),
      'internal',
      String(error),
    ).catch((releaseError: unknown) =>
      // The rows stay `sending`; recovery turns them into `unknown` (never sent twice).
      deps.logger.error({ jobId, err: releaseError }, 'cannot hand a batch back for a retry'),
    );
    throw error;
  }

  const results = await callAll(deps, ready);
  const halt = results.halt;
  const records: PageRecord[] = [];
  const requeue: DeliveryRef[] = [];
  const held: number[] = [];
  let sent = 0;
  let unknown = 0;
  for (const r of results.calls) {
    if (r.kind === 'held') {
      held.push(r.d.id);
      requeue.push({
        id: r.d.id,
        channel: r.d.channel,
        delayMs: halt?.delayMs ?? 0,
        priorAttempts: r.d.attempt - 1,
      });
      continue;
    }
    if (r.kind === 'unknown') {
      unknown += 1;
      continue;
    }
    records.push({ deliveryId: r.d.id, attempt: r.d.attempt, record: r.record });
    if (r.outcome?.outcome === 'sent') deps.outages?.sent(r.d.channel);
    if (r.outcome?.outcome === 'unavailable')
      deps.outages?.unavailable(r.d.channel, r.outcome.code, r.outcome.detail);
    if (r.outcome?.outcome === 'unknown')
      deps.logger.warn(
        { deliveryId: r.d.id, code: r.outcome.code },
        'delivery unknown: the provider may have accepted it',
      );
    if (r.record.status === 'sent') sent += 1;
    const follow = followUp(deps, r.d, r.decision);
    if (follow) requeue.push(follow);
  }
  await write(records, channelOf);
  // 131026 / 131050: this person cannot or will not receive here; later steps skip the channel.
  for (const r of results.calls)
    if (r.kind === 'record' && r.outcome?.outcome === 'permanent')
      await endChannelForProviderError(deps.db, r.d.id, r.d.channel, r.outcome, deps.clock.now());
  if (held.length > 0) await release(held, halt?.code ?? 'halted', halt?.detail ?? null);
  if (halt?.decision.action === 'throttle-queue')
    await deps.queues.get(sendQueueFor(claimed[0]!.channel)).rateLimit(halt.delayMs);
  if (halt?.decision.action === 'channel-down') await deps.channelDown(halt.code, halt.detail);
  await requeueSendJobs(deps.queues, requeue);
  return { claimed: claimed.length, sent, requeued: requeue.length, released: paused.length, unknown };
}

/** The own job a message's decision calls for (its wait, and the attempts it has spent). */
function followUp(
  deps: BatchDeps,
  d: ClaimedDelivery,
  decision: SendDecision | undefined,
): DeliveryRef | undefined {
  const ref = { id: d.id, channel: d.channel };
  switch (decision?.action) {
    case 'retry':
      return { ...ref, delayMs: decision.delayMs, priorAttempts: d.attempt };
    case 'delay':
    case 'throttle-queue':
      // Neither spends an attempt of the budget (as the single path's BullMQ delay does not).
      return { ...ref, delayMs: decision.delayMs, priorAttempts: d.attempt - 1 };
    case 'channel-down':
      return { ...ref, delayMs: deps.channelDownDelayMs, priorAttempts: d.attempt - 1 };
    default:
      return undefined;
  }
}

/**
 * Every ready message through the gate and to its provider, in parallel. The first throttle of
 * the whole number or channel-down answer halts the page: the calls not yet made are held
 * (handed back untried) rather than sent into a wall.
 */
async function callAll(
  deps: BatchDeps,
  ready: readonly { d: ClaimedDelivery; rendered: RenderedDelivery }[],
): Promise<{ calls: CallResult[]; halt: Halt | undefined }> {
  if (ready.length === 0) return { calls: [], halt: undefined };
  const gate = deps.gates?.[ready[0]!.rendered.channel];
  const reservation = gate?.reserve(ready.length);
  let halt: Halt | undefined;
  const calls = await Promise.all(
    ready.map(async ({ d, rendered }, i): Promise<CallResult> => {
      let granted = true;
      try {
        if (reservation) granted = await reservation.permits[i]!;
      } catch (error) {
        // The gate failed (Redis): nothing reached the provider; retry this one on its own.
        const retryAt = new Date(deps.clock.now() + deps.backoff(d.attempt, undefined));
        const record: AttemptRecord = {
          status: 'retrying',
          outcome: 'retry',
          code: 'internal',
          detail: String(error),
          nextAttemptAt: retryAt,
        };
        return {
          kind: 'record',
          d,
          record,
          decision: { action: 'retry', delayMs: retryAt.getTime() - deps.clock.now(), code: 'internal' },
        };
      }
      if (!granted || halt) return { kind: 'held', d };
      // The gate may have made it wait: nothing goes out at or after the deadline (SPEC 4.2).
      if (deps.clock.now() >= d.campaign.deadline)
        return { kind: 'record', d, record: { status: 'skipped', reason: 'deadline-passed' } };
      const endTimer = sendDurationSeconds.startTimer({ channel: rendered.channel });
      let outcome: SendOutcome;
      try {
        outcome = await callChannel(deps.channels, rendered);
      } catch (error) {
        // No answer we can read: the provider may have accepted it. Leave it `sending`.
        deps.logger.error({ deliveryId: d.id, err: error }, 'provider call failed without an answer');
        return { kind: 'unknown', d };
      } finally {
        endTimer();
      }
      const budget = { attemptsMade: d.attempt - 1, maxAttempts: deps.maxAttempts };
      const { record, decision } = decideOutcome(d, outcome, budget, deps.clock.now(), deps.backoff);
      if (decision.action === 'fail')
        deps.logger.warn(
          { deliveryId: d.id, channel: d.channel, attempt: d.attempt, code: decision.code },
          'delivery failed',
        );
      if ((decision.action === 'throttle-queue' || decision.action === 'channel-down') && !halt) {
        const detail = decision.action === 'channel-down' ? decision.detail : `throttled: ${decision.code}`;
        halt = {
          code: decision.code,
          detail,
          delayMs: decision.action === 'channel-down' ? deps.channelDownDelayMs : decision.delayMs,
          decision,
        };
        reservation?.cancel();
      }
      return { kind: 'record', d, record, decision, outcome };
    }),
  );
  return { calls, halt };
}
