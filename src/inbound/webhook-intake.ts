// The receiving half of a WhatsApp webhook, run inside the HTTP request once the signature is
// verified: store the body once (PostgreSQL, keyed by its digest) and queue its processing with
// `{eventId}` only, so that no phone number or message text ever sits in Redis. A redelivery of a
// body already processed is acknowledged and nothing more; one still waiting is queued again
// (the job id dedupes), which is also how a body whose first queueing failed gets processed.
import { createHash } from 'node:crypto';
import type { Queue } from 'bullmq';
import { jobFor } from '../queue/catalog.ts';
import type { Db } from '../store/pool.ts';
import * as repo from './webhook.repository.ts';
import { webhookFields } from './webhook-payload.ts';
import { escapeUnicode } from './webhook-signature.ts';

export interface IntakeDeps {
  readonly db: Db;
  readonly queue: Pick<Queue, 'add'>;
  /** How long queueing may take before the request gives up with a 503. Default 5 s. */
  readonly queueTimeoutMs?: number;
}

export interface IntakeResult {
  readonly eventId: number;
  /** accepted: first time; duplicate: received before (queued again only if still unprocessed). */
  readonly result: 'accepted' | 'duplicate';
  readonly fields: readonly string[];
}

/** The dedupe key: the body as Meta signs it, so an escaped and a UTF-8 copy are one event. */
export function webhookDigest(rawBody: Buffer): string {
  return createHash('sha256')
    .update(escapeUnicode(rawBody.toString('utf8')), 'utf8')
    .digest('hex');
}

export async function receiveWebhook(
  deps: IntakeDeps,
  rawBody: Buffer,
  payload: unknown,
  now: number,
): Promise<IntakeResult> {
  const fields = webhookFields(payload);
  const stored = await repo.storeEvent(deps.db, {
    digest: webhookDigest(rawBody),
    fields,
    rawJson: JSON.stringify(payload),
    now: new Date(now),
  });
  if (!stored.processed) await bounded(enqueueWebhook(deps.queue, stored.id), deps.queueTimeoutMs ?? 5_000);
  return { eventId: stored.id, result: stored.isNew ? 'accepted' : 'duplicate', fields };
}

/** BullMQ waits for Redis to be ready before a command, for as long as it takes: with Redis
 *  down, an unbounded add would hold Meta's request open until it gives up. */
async function bounded(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the webhooks queue did not answer within ${ms} ms (is Redis up?)`)),
      ms,
    );
  });
  work.catch(() => {}); // a late failure after the timeout is already reported
  try {
    await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function enqueueWebhook(queue: Pick<Queue, 'add'>, eventId: number): Promise<void> {
  const job = jobFor('webhook', { eventId });
  await queue.add(job.name, job.data, job.opts);
}
