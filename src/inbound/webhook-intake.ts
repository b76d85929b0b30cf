// The receiving half of a WhatsApp webhook, run inside the HTTP request once the signature is
// verified: store the body once (PostgreSQL, keyed by its digest) and queue its processing with
// `{eventId}` only, so that no phone number or message text ever sits in Redis: one job per batch
// of bodies stored together (batchJobs). A redelivery of a body already processed is acknowledged
// and nothing more; one still waiting is queued again (the job id dedupes), which is also how a
// body whose first queueing failed gets processed.
import { createHash } from 'node:crypto';
import type { Queue } from 'bullmq';
import { jobFor } from '../queue/catalog.ts';
import type { Db } from '../store/pool.ts';
import * as repo from './webhook.repository.ts';
import { webhookFields } from './webhook-payload.ts';
import { escapeUnicode } from './webhook-signature.ts';

export interface IntakeDeps {
  readonly db: Db;
  readonly queue: Pick<Queue, 'addBulk'>;
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
export function webhookDigest(rawBody: Buffer | string): string {
  const text = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
  return createHash('sha256').update(escapeUnicode(text), 'utf8').digest('hex');
}

export type ReceiveWebhook = (rawBody: Buffer, payload: unknown, now: number) => Promise<IntakeResult>;

/** At most this many bodies, or this many bytes of them (but at least one body), per batch. */
const BATCH_BODIES = 100;
const BATCH_BYTES = 4 * 1024 * 1024;

/**
 * The intake of one `serve` process. Bodies that arrive while the previous batch is being stored
 * wait for the next one, which stores them in one INSERT (one commit) and queues them in one
 * `addBulk` (one Redis round trip): under load a round trip of each carries many POSTs, alone a
 * POST waits for nobody (docs/delivery.md, "Statuses from WhatsApp"). Each request still answers
 * only once its body is stored and queued. A batch PostgreSQL refuses is stored body by body, so
 * that one body it cannot take fails alone.
 */
export function createWebhookIntake(deps: IntakeDeps): ReceiveWebhook {
  interface Waiting {
    readonly event: { digest: string; fields: readonly string[]; rawJson: string; now: Date };
    readonly bytes: number;
    resolve(result: IntakeResult): void;
    reject(error: unknown): void;
  }
  let waiting: Waiting[] = [];
  let draining = false;

  const take = (): Waiting[] => {
    let bytes = 0;
    let n = 0;
    while (n < waiting.length && n < BATCH_BODIES && (n === 0 || bytes + waiting[n]!.bytes <= BATCH_BYTES))
      bytes += waiting[n++]!.bytes;
    const batch = waiting.slice(0, n);
    waiting = waiting.slice(n);
    return batch;
  };

  const settle = async (batch: readonly Waiting[]): Promise<void> => {
    let stored: repo.StoredEvent[];
    try {
      stored = await repo.storeEvents(
        deps.db,
        batch.map((w) => w.event),
      );
    } catch (error) {
      if (batch.length === 1) return batch[0]!.reject(error);
      await Promise.all(batch.map((w) => settle([w])));
      return;
    }
    try {
      const ids = batchJobs(stored);
      if (ids.length > 0) await bounded(enqueueWebhooks(deps.queue, ids), deps.queueTimeoutMs ?? 5_000);
    } catch (error) {
      for (const w of batch) w.reject(error);
      return;
    }
    for (const [i, w] of batch.entries()) {
      const { id, isNew } = stored[i]!;
      w.resolve({ eventId: id, result: isNew ? 'accepted' : 'duplicate', fields: w.event.fields });
    }
  };

  const drain = async (): Promise<void> => {
    try {
      while (waiting.length > 0) {
        const batch = take();
        await settle(batch).catch((error: unknown) => {
          for (const w of batch) w.reject(error);
        });
      }
    } finally {
      draining = false;
    }
  };

  return (rawBody, payload, now) =>
    new Promise<IntakeResult>((resolve, reject) => {
      const fields = webhookFields(payload);
      // The body as received is the JSON stored: `payload` was parsed from it (the route).
      const text = rawBody.toString('utf8');
      waiting.push({
        event: {
          digest: webhookDigest(text),
          fields,
          rawJson: text,
          now: new Date(now),
        },
        bytes: rawBody.length,
        resolve,
        reject,
      });
      if (!draining) {
        draining = true;
        // After the I/O callbacks of this turn of the event loop: the POSTs read in it go together.
        setImmediate(() => void drain());
      }
    });
}

/**
 * The events to queue a job for, of a batch just stored. A job processes every event waiting when
 * it runs, a page at a time (webhook.service.ts), so the batch's new events need one job, for the
 * newest of them: its id never had a job, so BullMQ's dedupe by job id cannot drop it. A batch
 * of redeliveries only (bodies stored before, still unprocessed) queues each again as before:
 * their job ids dedupe against jobs still waiting.
 */
export function batchJobs(stored: readonly repo.StoredEvent[]): number[] {
  const fresh = stored.filter((s) => s.isNew).map((s) => s.id);
  if (fresh.length > 0) return [Math.max(...fresh)];
  return [...new Set(stored.filter((s) => !s.processed).map((s) => s.id))];
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

export async function enqueueWebhooks(
  queue: Pick<Queue, 'addBulk'>,
  eventIds: readonly number[],
): Promise<void> {
  await queue.addBulk(eventIds.map((eventId) => jobFor('webhook', { eventId })));
}
