// The one job catalog (docs/architecture.md, "Principles"): for each kind of job, its queue, its
// name, its payload schema, its job id and its real options (how it is retried, how long it is
// kept). Everything that queues a job or runs a worker builds from here; nothing else writes job
// options. Payloads carry ids only, never personal data; they are validated when queued (`jobFor`)
// and again when processed (`parsePayload`).
import type { JobsOptions } from 'bullmq';
import { z } from 'zod';
import type { Channel } from '../shared/vocabulary.ts';

export const QUEUES = {
  /** Once a minute: claim due slots, re-queue orphaned deliveries. Own queue: a rate-limited
   *  queue delays the promotion of its delayed jobs, so the tick must never share one. */
  tick: 'tick',
  /** One job per due slot: page through subscribers, insert deliveries, queue send jobs. */
  fanout: 'fanout',
  /** One queue per channel so each has its own BullMQ limiter (per-group limits are paid). */
  whatsapp: 'send-whatsapp',
  email: 'send-email',
  /** Verified WhatsApp webhook batches, stored in PostgreSQL and processed off the request. */
  webhooks: 'webhooks',
  /** Outbound events (docs/api.md), drained from the PostgreSQL outbox, POSTed to EVENTS_URL. */
  events: 'events',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export function sendQueueFor(channel: Channel): QueueName {
  return channel === 'whatsapp' ? QUEUES.whatsapp : QUEUES.email;
}

/** How a send is retried: wait = min(maxMs, baseMs × 2^(retry−1)), minus up to `jitter` of it at
 *  random, and never shorter than the provider's Retry-After (src/delivery/backoff.ts computes
 *  it). BullMQ knows it as the custom backoff strategy `delivery`, which the send workers
 *  implement (src/roles/work.ts): the provider's Retry-After travels on the error. */
export interface RetryPolicy {
  /** Wait before the first retry, before jitter. */
  readonly baseMs: number;
  /** Share of the wait that is random, in [0, 1]. */
  readonly jitter: number;
  /** Longest computed wait; a provider's Retry-After may exceed it. */
  readonly maxMs: number;
}

export const SEND_BACKOFF_STRATEGY = 'delivery';
/** The events worker's backoff strategy: the `event` entry's retry policy, no Retry-After. */
export const EVENT_BACKOFF_STRATEGY = 'event';

const KEEP_FAILED = { age: 7 * 24 * 3600 };

/** Largest page of deliveries one `sendBatch` job carries. */
export const MAX_SEND_BATCH = 100;
export const BATCH_JOB_PREFIX = 'batch-';

/** Deliveries per `sendBatch` job for a channel's rate (messages a second): about a quarter of a
 *  second's worth, 1 to MAX_SEND_BATCH. A batch claims all its rows before the gate lets them
 *  out one by one, so this bounds how long a claimed row waits (a kill then leaves it
 *  `unknown`), and a slow channel still spreads its pages over several workers. */
export function sendBatchSize(ratePerSecond: number): number {
  return Math.min(MAX_SEND_BATCH, Math.max(1, Math.ceil(ratePerSecond / 4)));
}

/** The catalog. `queue` is a name, or a function of the payload for jobs routed per channel. */
export const jobs = {
  tick: {
    queue: QUEUES.tick,
    name: 'tick',
    payload: z.object({}).strict(),
    /** Run by a BullMQ job scheduler (one per Redis, re-created if Redis loses it). */
    scheduler: { id: 'tick', everyMs: 60_000 },
    options: { attempts: 1, removeOnComplete: true, removeOnFail: { count: 100 } },
  },
  fanout: {
    queue: QUEUES.fanout,
    name: 'fanout',
    payload: z.object({ slotId: z.number().int().positive() }).strict(),
    /** BullMQ custom ids may not be integers nor contain ':'; the prefix also names the kind. */
    jobId: (p: { slotId: number }) => `slot-${p.slotId}`,
    options: {
      attempts: 10,
      backoff: { type: 'exponential', delay: 1_000, jitter: 0.5 },
      removeOnComplete: { age: 3600, count: 1000 },
      removeOnFail: KEEP_FAILED,
    },
  },
  send: {
    queue: (channel: Channel) => sendQueueFor(channel),
    name: 'send',
    payload: z
      .object({
        deliveryId: z.number().int().positive(),
        /** Attempts already spent in a batch before this job took the delivery over (a retry
         *  out of a `sendBatch` job): they count against `options.attempts`. */
        priorAttempts: z.number().int().nonnegative().optional(),
      })
      .strict(),
    jobId: (p: { deliveryId: number }) => `delivery-${p.deliveryId}`,
    retry: { baseMs: 2_000, jitter: 0.5, maxMs: 30 * 60_000 } satisfies RetryPolicy,
    options: {
      attempts: 8,
      backoff: { type: SEND_BACKOFF_STRATEGY },
      // Completed jobs are dropped quickly: PostgreSQL keeps the record.
      removeOnComplete: { age: 3600, count: 10_000 },
      removeOnFail: KEEP_FAILED,
    },
  },
  /** A page of deliveries sent together (fan-out queues these): one claim statement, the
   *  provider calls in parallel under the rate gate, one outcome statement. Same queue as
   *  `send`, so the channel's pause and throttle hold both. A retry of one of its messages
   *  becomes that delivery's own `send` job; the batch job itself is retried only when it
   *  failed before claiming (a retry finds claimed rows `sending` and leaves them alone). */
  sendBatch: {
    queue: (channel: Channel) => sendQueueFor(channel),
    name: 'send-batch',
    payload: z
      .object({
        /** Slot and page it came from (`<slot>-<page>-<chunk>`), or a recovery's own key. */
        key: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/),
        deliveryIds: z.array(z.number().int().positive()).min(1).max(MAX_SEND_BATCH),
      })
      .strict(),
    jobId: (p: { key: string }) => `${BATCH_JOB_PREFIX}${p.key}`,
    options: {
      attempts: 5,
      backoff: { type: 'exponential', delay: 1_000, jitter: 0.5 },
      removeOnComplete: { age: 3600, count: 10_000 },
      removeOnFail: KEEP_FAILED,
    },
  },
  webhook: {
    queue: QUEUES.webhooks,
    name: 'whatsapp-webhook',
    payload: z.object({ eventId: z.number().int().positive() }).strict(),
    jobId: (p: { eventId: number }) => `webhook-${p.eventId}`,
    options: {
      attempts: 10,
      backoff: { type: 'exponential', delay: 1_000, jitter: 0.5 },
      removeOnComplete: { age: 3600, count: 1000 },
      removeOnFail: KEEP_FAILED,
    },
  },
  event: {
    queue: QUEUES.events,
    name: 'event',
    payload: z.object({ seq: z.number().int().positive(), round: z.number().int().min(0) }).strict(),
    /** `round` grows with each `events replay`, so a re-sent event is a new job. */
    jobId: (p: { seq: number; round: number }) => `event-${p.seq}-${p.round}`,
    /** Retried for 24 hours (the event service gives up then): attempts enough to outlast it. */
    retry: { baseMs: 1_000, jitter: 0.5, maxMs: 10 * 60_000 } satisfies RetryPolicy,
    options: {
      attempts: 400,
      backoff: { type: EVENT_BACKOFF_STRATEGY },
      removeOnComplete: { age: 3600, count: 1000 },
      removeOnFail: KEEP_FAILED,
    },
  },
} as const;

export type JobKind = keyof typeof jobs;
export type JobPayloadOf<K extends JobKind> = z.infer<(typeof jobs)[K]['payload']>;
export type TickPayload = JobPayloadOf<'tick'>;
export type FanoutPayload = JobPayloadOf<'fanout'>;
export type SendPayload = JobPayloadOf<'send'>;
export type SendBatchPayload = JobPayloadOf<'sendBatch'>;
export type WebhookPayload = JobPayloadOf<'webhook'>;
export type EventPayload = JobPayloadOf<'event'>;

type WithJobId = { [K in JobKind]: (typeof jobs)[K] extends { jobId: unknown } ? K : never }[JobKind];

/** The job id of a payload, for kinds that dedupe by id. */
export function jobIdOf<K extends WithJobId>(kind: K, payload: JobPayloadOf<K>): string {
  return (jobs[kind].jobId as (p: JobPayloadOf<K>) => string)(payload);
}

/** A job ready for `add`/`addBulk`: the catalog's name, a validated payload, the catalog's
 *  options with the job id; `extra` only for per-job timing (a delay). Throws on a programming
 *  error (a payload that does not match its schema). */
export function jobFor<K extends WithJobId>(
  kind: K,
  data: unknown,
  extra: Pick<JobsOptions, 'delay'> = {},
): { name: string; data: JobPayloadOf<K>; opts: JobsOptions } {
  const payload = jobs[kind].payload.parse(data) as JobPayloadOf<K>;
  return {
    name: jobs[kind].name,
    data: payload,
    opts: { ...(jobs[kind].options as JobsOptions), jobId: jobIdOf(kind, payload), ...extra },
  };
}

/** Validates a payload when processed; a malformed job is permanent, never retried. */
export function parsePayload<K extends JobKind>(
  kind: K,
  data: unknown,
): { ok: true; value: JobPayloadOf<K> } | { ok: false; reason: string } {
  const parsed = jobs[kind].payload.safeParse(data);
  return parsed.success
    ? { ok: true, value: parsed.data as JobPayloadOf<K> }
    : {
        ok: false,
        reason: parsed.error.issues.map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`).join('; '),
      };
}
