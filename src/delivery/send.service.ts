// The one send path (docs/delivery.md): claim → decide → render → gate → call → record, for a
// page of deliveries of one channel. A fan-out or recovery page is a `sendBatch` job; a retry or
// a hand-back is a delivery's own `send` job, which is a page of one. The fixed costs are paid
// once per page: one claim statement (the at-most-once gate, `queued|retrying → sending`, with
// what eligibility needs joined in), one reservation at the rate gate, one statement for the
// outcomes, their attempts and their outbound events. The provider calls go out in parallel as
// the gate admits them. The decisions are send.decide.ts's; this module carries them out.
// After the record: a message that must be tried again gets its own `send` job (`delivery-<id>`)
// with its wait, unless it is already on it (a page of one hands its decision back to its job).
// Crash rules: a row is `sending` only between its claim and its record, and recovery makes a
// `sending` row whose job is not active `unknown`, never sent again.

import { findCampaign } from '../campaigns/campaign.repository.ts';
import { toSchedule } from '../campaigns/campaign.schema.ts';
import { holidayCountry } from '../campaigns/holiday-country.ts';
import { marketingRetryAt } from '../planning/planner.ts';
import { sendQueueFor } from '../queue/catalog.ts';
import type { QueueSet } from '../queue/connection.ts';
import type { Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';
import { messagingLimitHeldTotal, sendDurationSeconds, sendsTotal } from '../shared/metrics.ts';
import type { Channel } from '../shared/vocabulary.ts';
import { isUnreachable } from '../store/connection-error.ts';
import { untilDatabaseAnswers } from '../store/outage.ts';
import type { Db } from '../store/pool.ts';
import { endChannelForProviderError } from '../subscribers/bounce.service.ts';
import { phoneRegion } from '../subscribers/subscriber.schema.ts';
import type { EmailSend } from './channels/email.ts';
import type { SendOutcome } from './channels/outcome.ts';
import type { TemplateSend } from './channels/whatsapp.ts';
import { PAUSED_CODE } from './delivery.repository.ts';
import { type DeliveryRef, requeueSendJobs } from './job-queueing.ts';
import { admitToLimit, limitInForce } from './messaging-limit.gate.ts';
import type { ProviderOutages } from './provider-outage.ts';
import type { RateGate } from './rate-gate.ts';
import { type DeliveryRenderer, MissingAddressError, type RenderedDelivery } from './render.ts';
import { type AttemptBudget, decideOutcome, ineligibility, type SendDecision } from './send.decide.ts';
import {
  type AttemptRecord,
  attemptOutcome,
  type ClaimedDelivery,
  claimDeliveries,
  MESSAGING_LIMIT,
  type PageRecord,
  recordPage,
  releaseClaims,
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
  /** Where a message that must wait gets its own `send` job, and a throttle holds the queue. */
  readonly queues: QueueSet;
  /** Pauses the channel's queue for every worker and alerts (channel-guard.ts). */
  channelDown(code: string, detail: string): Promise<void>;
  /** How long a message of a channel that went down waits before it is looked at again. */
  readonly channelDownDelayMs: number;
  /** A delivery's attempt budget (jobs.send.options.attempts). */
  readonly maxAttempts: number;
  /** WhatsApp's portfolio messaging limit (messaging-limit.gate.ts): WHATSAPP_MESSAGING_LIMIT,
   *  else the limit Meta last reported. Absent: no limit is applied. */
  readonly messagingLimit?: { readonly override: number | 'unlimited' | undefined };
}

export type { AttemptBudget, SendDecision } from './send.decide.ts';

export interface PageReport {
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

/** The delay decision's code while PostgreSQL is unreachable at the claim. */
export const DATABASE_UNAVAILABLE = 'database-unavailable';

/** How long a send job waits when PostgreSQL did not answer its claim: 2-4 s, spread so that
 *  the jobs of a whole queue do not all come back in the same instant. */
export const databaseWaitMs = () => 2_000 + Math.round(Math.random() * 2_000);

/** A `sendBatch` job: the deliveries of `deliveryIds` still waiting, claimed for `jobId`. */
export async function sendPage(
  deps: SendDeps,
  jobId: string,
  deliveryIds: readonly number[],
  now: number,
): Promise<PageReport> {
  return (await settle(deps, deliveryIds, { jobId }, now)).report;
}

/**
 * A delivery's own `send` job: a page of one, claimed whatever its retry wait says (the job's
 * delay is that wait), its attempts counted by the job (`budget`). Returns what the job must do.
 */
export async function sendDelivery(
  deps: SendDeps,
  deliveryId: number,
  now: number,
  budget: AttemptBudget,
): Promise<SendDecision> {
  const { report, decision } = await settle(deps, [deliveryId], { budget }, now);
  if (report.databaseWaitMs !== undefined)
    return { action: 'delay', delayMs: report.databaseWaitMs, code: DATABASE_UNAVAILABLE };
  return decision ?? { action: 'complete', status: 'already-handled' };
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

/** Whose page it is: a `sendBatch` job's, or one delivery's own job with its budget. */
type Owner = { readonly jobId: string } | { readonly budget: AttemptBudget };

/** A message that stopped before its call: the page was halted (throttle, channel down). */
interface Halt {
  readonly code: string;
  readonly detail: string;
  readonly delayMs: number;
  readonly decision: Extract<SendDecision, { action: 'throttle-queue' | 'channel-down' }>;
}

/** What became of one claimed message. */
type Settled =
  | {
      readonly kind: 'record';
      readonly d: ClaimedDelivery;
      readonly record: AttemptRecord;
      readonly decision: SendDecision;
      readonly outcome?: SendOutcome;
    }
  /** Not called: the page halted before its turn. Handed back untried. */
  | { readonly kind: 'held'; readonly d: ClaimedDelivery }
  /** Called, no answer we can read: the provider may have it. Left `sending` for recovery. */
  | { readonly kind: 'unknown'; readonly d: ClaimedDelivery };

const NONE: PageReport = { claimed: 0, sent: 0, requeued: 0, released: 0, unknown: 0 };

async function settle(
  deps: SendDeps,
  deliveryIds: readonly number[],
  owner: Owner,
  now: number,
): Promise<{ report: PageReport; decision?: SendDecision }> {
  const at = new Date(now);
  const own = 'budget' in owner ? owner.budget : undefined;
  let claimed: ClaimedDelivery[];
  try {
    claimed = await claimDeliveries(
      deps.db,
      deliveryIds,
      own ? null : (owner as { jobId: string }).jobId,
      at,
    );
  } catch (error) {
    // PostgreSQL outage: nothing was claimed, so nothing is at stake. Wait without spending an
    // attempt (an outage is not its messages' failure); the claim keeps it at most once.
    if (isUnreachable(error)) return { report: { ...NONE, databaseWaitMs: databaseWaitMs() } };
    throw error;
  }
  if (claimed.length === 0) return { report: NONE };
  // Once claimed, rows are `sending` until these writes land: they wait out a PostgreSQL outage
  // rather than leave the rows for recovery to call `unknown`.
  const release = (ids: readonly number[], code: string, detail: string | null = null) =>
    untilDatabaseAnswers(() => releaseClaims(deps.db, ids, code, at, detail));
  const paused = claimed.filter((d) => d.campaign.state === 'paused');
  const budgetOf = (d: ClaimedDelivery): AttemptBudget =>
    own ?? { attemptsMade: d.attempt - 1, maxAttempts: deps.maxAttempts };

  // Before any call: nothing reached the provider, so a failure hands every row back (`queued`,
  // attempt not counted) for the job's own retry to claim again.
  const settled: Settled[] = [];
  let ready: { d: ClaimedDelivery; rendered: RenderedDelivery }[];
  try {
    // Nothing tried: the rows wait, marked, and the tick queues them again after resume.
    await release(
      paused.map((d) => d.id),
      PAUSED_CODE,
    );
    const early: Settled[] = [];
    ready = [];
    for (const d of claimed) {
      if (d.campaign.state === 'paused') continue;
      const checked = await beforeCall(deps, d, now);
      if ('rendered' in checked) ready.push({ d, rendered: checked.rendered });
      else early.push(checked);
    }
    const limited = await holdPastLimit(deps, ready, now);
    ready = limited.ready;
    early.push(...limited.held);
    await write(deps, early);
    settled.push(...early);
  } catch (error) {
    await release(
      claimed.filter((d) => d.campaign.state !== 'paused').map((d) => d.id),
      'internal',
      String(error),
    ).catch((releaseError: unknown) =>
      // The rows stay `sending`; recovery turns them into `unknown` (never sent twice).
      deps.logger.error({ err: releaseError }, 'cannot hand a page back for a retry'),
    );
    throw error;
  }

  const calls = await callAll(deps, ready, budgetOf);
  await write(deps, calls.settled);
  settled.push(...calls.settled);
  const handed = await after(deps, settled, calls.halt, own !== undefined);
  const report: PageReport = {
    claimed: claimed.length,
    sent: settled.filter((s) => s.kind === 'record' && s.record.status === 'sent').length,
    requeued: handed,
    released: paused.length,
    unknown: settled.filter((s) => s.kind === 'unknown').length,
  };
  if (!own) return { report };
  // A page of one: its own job carries its decision out (retry, delay, throttle, fail).
  const only = settled[0];
  const decision: SendDecision =
    only === undefined
      ? { action: 'complete', status: 'released' }
      : only.kind === 'record'
        ? only.decision
        : only.kind === 'unknown'
          ? { action: 'complete', status: 'unknown' }
          : { action: 'delay', delayMs: calls.halt?.delayMs ?? 0, code: calls.halt?.code ?? 'halted' };
  return { report, decision };
}

/**
 * Meta's per-user marketing limit (131049) is tried again at growing intervals (1 h, 2 h, 4 h …)
 * inside the campaign's window, never past the deadline (planning: marketingRetryAt): the wait
 * becomes that instant, or the deadline itself when there is none left, which fails it.
 */
async function paceMarketingLimit(
  deps: SendDeps,
  d: ClaimedDelivery,
  outcome: SendOutcome,
  now: number,
): Promise<SendOutcome> {
  if (outcome.outcome !== 'defer' || outcome.code !== MARKETING_LIMIT_CODE || !d.subscriber) return outcome;
  const record = await findCampaign(deps.db, d.campaignId);
  if (!record) return outcome;
  const refusals =
    1 +
    ((
      await deps.db.one<{ n: number }>(
        'SELECT count(*)::int AS n FROM delivery_attempts WHERE delivery_id = $1 AND error_code = $2',
        [d.id, MARKETING_LIMIT_CODE],
      )
    )?.n ?? 0);
  // Not on a public holiday of the subscriber's country either, when the campaign honours them.
  const { holidays } = record.campaign.window;
  const country = holidays
    ? holidayCountry(holidays, {
        attributes: d.subscriber.attributes,
        phoneRegion: phoneRegion(d.subscriber.phone),
      })
    : '';
  const at = marketingRetryAt(toSchedule(record.campaign), d.subscriber.timezone, now, refusals, country);
  return { ...outcome, delayMs: (at ?? d.campaign.deadline) - now };
}

/** Meta's per-user marketing limit: the person got enough marketing messages for now. */
const MARKETING_LIMIT_CODE = '131049';

/** WhatsApp messages past Meta's messaging limit are held back: `skipped`, reason messaging-limit. */
async function holdPastLimit(
  deps: SendDeps,
  ready: { d: ClaimedDelivery; rendered: RenderedDelivery }[],
  now: number,
): Promise<{ ready: typeof ready; held: Settled[] }> {
  const whatsapp = ready.filter((r) => r.rendered.channel === 'whatsapp' && r.d.subscriber);
  if (!deps.messagingLimit || whatsapp.length === 0) return { ready, held: [] };
  const limit = await limitInForce(deps.db, deps.messagingLimit.override);
  const admitted = await admitToLimit(
    deps.db,
    whatsapp.map(({ d }) => ({
      deliveryId: d.id,
      person: d.subscriber!.id,
      lastInboundAt: d.subscriber!.whatsappLastInboundAt ?? null,
    })),
    limit,
    now,
  );
  const held = whatsapp.filter(({ d }) => !admitted.has(d.id));
  if (held.length === 0) return { ready, held: [] };
  messagingLimitHeldTotal.inc(held.length);
  deps.logger.warn(
    { held: held.length, limit, deliveryIds: held.slice(0, 20).map(({ d }) => d.id) },
    'WhatsApp messaging limit reached: deliveries held back (skipped, messaging-limit)',
  );
  const heldIds = new Set(held.map(({ d }) => d.id));
  return {
    ready: ready.filter(({ d }) => !heldIds.has(d.id)),
    held: held.map(({ d }) => skipped(d, MESSAGING_LIMIT)),
  };
}

/** Eligibility, template and rendering of one claimed message: its early record, or its message. */
async function beforeCall(
  deps: SendDeps,
  d: ClaimedDelivery,
  now: number,
): Promise<Settled | { rendered: RenderedDelivery }> {
  const reason = ineligibility(d, now);
  if (reason !== undefined) {
    deps.logger.info({ deliveryId: d.id, reason }, 'delivery skipped');
    return skipped(d, reason);
  }
  if (d.campaign.template === null) return failed(d, 'no-template', `step ${d.stepId} no longer exists`);
  try {
    return { rendered: await deps.renderer.render(d as never, d.campaign.template, now) };
  } catch (error) {
    const code = error instanceof MissingAddressError ? 'no-address' : 'render-error';
    deps.logger.error({ deliveryId: d.id, code, err: error }, 'delivery cannot be rendered');
    return failed(d, code, (error as Error).message);
  }
}

const skipped = (d: ClaimedDelivery, reason: string): Settled => ({
  kind: 'record',
  d,
  record: { status: 'skipped', reason },
  decision: { action: 'complete', status: 'skipped' },
});

const failed = (d: ClaimedDelivery, code: string, detail: string): Settled => ({
  kind: 'record',
  d,
  record: { status: 'failed', code, detail },
  decision: { action: 'fail', code },
});

/** The records of a page, its attempts and its outbound events, in one statement. */
async function write(deps: SendDeps, settled: readonly Settled[]): Promise<void> {
  const records: PageRecord[] = [];
  for (const s of settled)
    if (s.kind === 'record') records.push({ deliveryId: s.d.id, attempt: s.d.attempt, record: s.record });
  if (records.length === 0) return;
  await untilDatabaseAnswers(() => recordPage(deps.db, records, new Date(deps.clock.now())));
  // Every recorded attempt is counted (lastcall_sends_total{channel,outcome}) once written.
  for (const s of settled)
    if (s.kind === 'record') sendsTotal.inc({ channel: s.d.channel, outcome: attemptOutcome(s.record) });
}

/**
 * After the record: the outage log, the bounce rules (a provider error that ends the channel),
 * the held messages handed back, the queue-wide throttle or channel-down, and each message that
 * must wait on its own `send` job. A page of one is already its own job: its decision goes back
 * to that job instead. Returns how many messages got a job of their own.
 */
async function after(
  deps: SendDeps,
  settled: readonly Settled[],
  halt: Halt | undefined,
  ownJob: boolean,
): Promise<number> {
  const requeue: DeliveryRef[] = [];
  const held: number[] = [];
  for (const s of settled) {
    if (s.kind === 'unknown') continue;
    if (s.kind === 'held') {
      held.push(s.d.id);
      requeue.push({
        id: s.d.id,
        channel: s.d.channel,
        delayMs: halt?.delayMs ?? 0,
        priorAttempts: s.d.attempt - 1,
      });
      continue;
    }
    const { d, outcome, decision } = s;
    const log = {
      deliveryId: d.id,
      channel: d.channel,
      attempt: d.attempt,
      code: 'code' in decision ? decision.code : undefined,
    };
    if (outcome?.outcome === 'sent') deps.outages?.sent(d.channel);
    if (outcome?.outcome === 'unavailable')
      deps.outages?.unavailable(d.channel, outcome.code, outcome.detail);
    if (outcome?.outcome === 'unknown')
      deps.logger.warn(log, 'delivery unknown: the provider may have accepted it');
    if (outcome?.outcome === 'permanent') {
      // 131026 / 131050: this person cannot or will not receive here; later steps skip the channel.
      const ended = await endChannelForProviderError(deps.db, d.id, d.channel, outcome, deps.clock.now());
      deps.logger.warn({ ...log, ended }, 'delivery failed permanently');
    } else if (outcome && decision.action === 'fail') deps.logger.warn(log, 'delivery failed');
    const follow = followUp(deps, d, decision);
    if (follow) requeue.push(follow);
  }
  if (held.length > 0)
    await untilDatabaseAnswers(() =>
      releaseClaims(deps.db, held, halt?.code ?? 'halted', new Date(deps.clock.now()), halt?.detail ?? null),
    );
  const first = settled[0];
  if (halt?.decision.action === 'throttle-queue' && first)
    await deps.queues.get(sendQueueFor(first.d.channel)).rateLimit(halt.delayMs);
  if (halt?.decision.action === 'channel-down') await deps.channelDown(halt.code, halt.detail);
  if (ownJob) return 0;
  await requeueSendJobs(deps.queues, requeue);
  return requeue.length;
}

/** The own job a message's decision calls for (its wait, and the attempts it has spent). */
function followUp(deps: SendDeps, d: ClaimedDelivery, decision: SendDecision): DeliveryRef | undefined {
  const ref = { id: d.id, channel: d.channel };
  switch (decision.action) {
    case 'retry':
      return { ...ref, delayMs: decision.delayMs, priorAttempts: d.attempt };
    case 'delay':
    case 'throttle-queue':
      // Neither spends an attempt of the budget (as a job's own BullMQ delay does not).
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
  deps: SendDeps,
  ready: readonly { d: ClaimedDelivery; rendered: RenderedDelivery }[],
  budgetOf: (d: ClaimedDelivery) => AttemptBudget,
): Promise<{ settled: Settled[]; halt: Halt | undefined }> {
  if (ready.length === 0) return { settled: [], halt: undefined };
  const gate = deps.gates?.[ready[0]!.rendered.channel];
  const reservation = gate?.reserve(ready.length);
  let halt: Halt | undefined;
  const settled = await Promise.all(
    ready.map(async ({ d, rendered }, i): Promise<Settled> => {
      let granted = true;
      try {
        if (reservation) granted = await reservation.permits[i]!;
      } catch (error) {
        // The gate failed (Redis): nothing reached the provider; this one is tried again later.
        const delayMs = deps.backoff(d.attempt, undefined);
        return {
          kind: 'record',
          d,
          record: {
            status: 'retrying',
            outcome: 'retry',
            code: 'internal',
            detail: String(error),
            nextAttemptAt: new Date(deps.clock.now() + delayMs),
          },
          decision: { action: 'retry', delayMs, code: 'internal' },
        };
      }
      if (!granted || halt) return { kind: 'held', d };
      // The gate may have made it wait: nothing goes out at or after the deadline
      // (docs/campaigns.md, "Stops").
      if (deps.clock.now() >= d.campaign.deadline) return skipped(d, 'deadline-passed');
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
      outcome = await paceMarketingLimit(deps, d, outcome, deps.clock.now());
      const { record, decision } = decideOutcome(d, outcome, budgetOf(d), deps.clock.now(), deps.backoff);
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
  return { settled, halt };
}
