// The one job catalog (DESIGN.md "One job catalog"): queue names, job names, payload schemas
// and retry options. Payloads carry ids only, never personal data; they are validated when
// queued (`jobPayload`) and again when processed (`parsePayload`).
import { z } from 'zod';
import type { Channel } from '../planning/types.ts';

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
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export function sendQueueFor(channel: Channel): QueueName {
  return channel === 'whatsapp' ? QUEUES.whatsapp : QUEUES.email;
}

export const payloads = {
  tick: z.object({}).strict(),
  fanout: z.object({ slotId: z.number().int().positive() }).strict(),
  send: z.object({ deliveryId: z.number().int().positive() }).strict(),
  webhook: z.object({ eventId: z.number().int().positive() }).strict(),
} as const;

export type TickPayload = z.infer<typeof payloads.tick>;
export type FanoutPayload = z.infer<typeof payloads.fanout>;
export type SendPayload = z.infer<typeof payloads.send>;
export type WebhookPayload = z.infer<typeof payloads.webhook>;

export const JOB_NAMES = {
  tick: 'tick',
  fanout: 'fanout',
  send: 'send',
  webhook: 'whatsapp-webhook',
} as const;

/** BullMQ custom ids may not be integers nor contain ':'; the prefix also names the kind. */
export const jobIds = {
  fanout: (slotId: number) => `slot-${slotId}`,
  send: (deliveryId: number) => `delivery-${deliveryId}`,
  webhook: (eventId: number) => `webhook-${eventId}`,
};

/** Transient failures retry with exponential backoff and jitter; permanent ones throw
 *  UnrecoverableError. Completed jobs are dropped quickly: PostgreSQL keeps the record. */
export const jobOptions = {
  tick: { attempts: 1, removeOnComplete: true, removeOnFail: { count: 100 } },
  fanout: {
    attempts: 10,
    backoff: { type: 'exponential', delay: 1_000, jitter: 0.5 },
    removeOnComplete: { age: 3600, count: 1000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  },
  send: {
    attempts: 8,
    backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 },
    removeOnComplete: { age: 3600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  },
  webhook: {
    attempts: 10,
    backoff: { type: 'exponential', delay: 1_000, jitter: 0.5 },
    removeOnComplete: { age: 3600, count: 1000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  },
} as const;

/** Validates a payload before it is queued; throws on a programming error. */
export function jobPayload<K extends keyof typeof payloads>(
  kind: K,
  data: unknown,
): z.infer<(typeof payloads)[K]> {
  return payloads[kind].parse(data) as z.infer<(typeof payloads)[K]>;
}

/** Validates a payload when processed; a malformed job is permanent, never retried. */
export function parsePayload<K extends keyof typeof payloads>(
  kind: K,
  data: unknown,
): { ok: true; value: z.infer<(typeof payloads)[K]> } | { ok: false; reason: string } {
  const parsed = payloads[kind].safeParse(data);
  return parsed.success
    ? { ok: true, value: parsed.data as z.infer<(typeof payloads)[K]> }
    : {
        ok: false,
        reason: parsed.error.issues.map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`).join('; '),
      };
}
