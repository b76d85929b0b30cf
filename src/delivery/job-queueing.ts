// Putting fan-out and send jobs on their queues. Job ids come from the catalog, so a job that
// is still in Redis (waiting, delayed, active) is never queued twice: BullMQ ignores the
// duplicate. A finished job (completed, or failed after its attempts) also blocks its id, so
// `requeue…` removes it first when PostgreSQL says the work is not done.
// Deliveries travel in pages (`sendBatch` jobs) from fan-out and recovery, and on their own
// (`send` jobs, `delivery-<id>`) for a retry or a hand-back; each row's `job_id` names its job.
import type { Queue } from 'bullmq';
import { BATCH_JOB_PREFIX, jobFor, jobIdOf, jobs } from '../queue/catalog.ts';
import type { QueueSet } from '../queue/connection.ts';
import type { Channel } from '../shared/vocabulary.ts';

const BULK = 1000;

export interface DeliveryRef {
  readonly id: number;
  readonly channel: Channel;
  /** Wait this long first (what is left of a retry's backoff or a provider's deferral). */
  readonly delayMs?: number;
  /** Attempts the delivery spent in a batch before this job (they count against its budget). */
  readonly priorAttempts?: number;
}

/** A page of deliveries of one channel for one `sendBatch` job. */
export interface DeliveryPage {
  /** The job's key (catalog: jobs.sendBatch.jobId), e.g. `<slot>-<page>-<chunk>`. */
  readonly key: string;
  readonly channel: Channel;
  readonly ids: readonly number[];
}

/** addBulk one send job per delivery, in batches of 1000, on each channel's queue. */
export async function queueSendJobs(queues: QueueSet, deliveries: readonly DeliveryRef[]): Promise<void> {
  for (const [channel, refs] of byChannel(deliveries)) {
    const queue = queues.get(jobs.send.queue(channel));
    for (let i = 0; i < refs.length; i += BULK) {
      await queue.addBulk(
        refs
          .slice(i, i + BULK)
          .map((d) =>
            jobFor(
              'send',
              { deliveryId: d.id, ...(d.priorAttempts ? { priorAttempts: d.priorAttempts } : {}) },
              d.delayMs && d.delayMs > 0 ? { delay: d.delayMs } : {},
            ),
          ),
      );
    }
  }
}

/** addBulk one `sendBatch` job per page (a page already queued under its key is ignored). */
export async function queueSendPages(queues: QueueSet, pages: readonly DeliveryPage[]): Promise<void> {
  const byQueue = new Map<string, DeliveryPage[]>();
  for (const page of pages) {
    const name = jobs.sendBatch.queue(page.channel);
    byQueue.set(name, [...(byQueue.get(name) ?? []), page]);
  }
  for (const [name, list] of byQueue) {
    const queue = queues.get(name as ReturnType<typeof jobs.sendBatch.queue>);
    for (let i = 0; i < list.length; i += BULK)
      await queue.addBulk(
        list.slice(i, i + BULK).map((p) => jobFor('sendBatch', { key: p.key, deliveryIds: [...p.ids] })),
      );
  }
}

/** Splits deliveries into pages of `size` per channel, keyed `<prefix>-<first id>-<count>`. */
export function pagesOf(
  deliveries: readonly DeliveryRef[],
  size: (channel: Channel) => number,
  prefix: string,
): DeliveryPage[] {
  const pages: DeliveryPage[] = [];
  for (const [channel, refs] of byChannel(deliveries)) {
    const n = Math.max(1, size(channel));
    for (let i = 0; i < refs.length; i += n) {
      const ids = refs.slice(i, i + n).map((r) => r.id);
      pages.push({ key: `${prefix}-${ids[0]}-${ids.length}`, channel, ids });
    }
  }
  return pages;
}

/** The job id a row's `job_id` column names, or its own job's when it names none. */
export function jobIdOfRow(row: { id: number; jobId?: string | null }): string {
  return row.jobId ?? jobIdOf('send', { deliveryId: row.id });
}

export const isPageJob = (jobId: string): boolean => jobId.startsWith(BATCH_JOB_PREFIX);

/** Like queueSendJobs, for rows PostgreSQL says are waiting: finished jobs are replaced. */
export async function requeueSendJobs(queues: QueueSet, deliveries: readonly DeliveryRef[]): Promise<number> {
  let added = 0;
  for (const [channel, refs] of byChannel(deliveries)) {
    const queue = queues.get(jobs.send.queue(channel));
    const missing = await freeJobIds(
      queue,
      refs.map((d) => jobIdOf('send', { deliveryId: d.id })),
    );
    const toAdd = refs.filter((_, i) => missing[i]);
    await queueSendJobs(queues, toAdd);
    added += toAdd.length;
  }
  return added;
}

/** Queues the fan-out of each slot, replacing a finished job of an earlier claim. */
export async function queueFanouts(queues: QueueSet, slotIds: readonly number[]): Promise<number> {
  const queue = queues.get(jobs.fanout.queue);
  const missing = await freeJobIds(
    queue,
    slotIds.map((slotId) => jobIdOf('fanout', { slotId })),
  );
  const toAdd = slotIds.filter((_, i) => missing[i]);
  for (let i = 0; i < toAdd.length; i += BULK) {
    await queue.addBulk(toAdd.slice(i, i + BULK).map((slotId) => jobFor('fanout', { slotId })));
  }
  return toAdd.length;
}

/** The state of each distinct job id (one look-up per id, not per row). */
export async function jobStates(
  queues: QueueSet,
  rows: readonly { id: number; channel: Channel; jobId?: string | null }[],
): Promise<Map<string, string>> {
  const states = new Map<string, string>();
  const ids = [...new Map(rows.map((r) => [jobIdOfRow(r), r.channel])).entries()];
  for (let i = 0; i < ids.length; i += 200) {
    const chunk = ids.slice(i, i + 200);
    const found = await Promise.all(
      chunk.map(([id, channel]) => queues.get(jobs.send.queue(channel)).getJobState(id)),
    );
    for (const [j, [id]] of chunk.entries()) states.set(id, found[j]!);
  }
  return states;
}

/**
 * For each job id: true when no live job holds it (absent, or finished and now removed).
 * A job that is waiting, delayed or active is left alone: it will do the work.
 */
async function freeJobIds(queue: Queue, jobIdList: readonly string[]): Promise<boolean[]> {
  const free: boolean[] = [];
  for (let i = 0; i < jobIdList.length; i += 200) {
    const chunk = jobIdList.slice(i, i + 200);
    const states = await Promise.all(chunk.map((id) => queue.getJobState(id)));
    await Promise.all(
      chunk.map(async (id, j) => {
        const state = states[j];
        if (state === 'completed' || state === 'failed') {
          // 0 when a worker holds it right now; then it is live again and does the work.
          free[i + j] = (await queue.remove(id)) === 1;
        } else {
          free[i + j] = state === 'unknown';
        }
      }),
    );
  }
  return free;
}

function byChannel<T extends { channel: Channel }>(deliveries: readonly T[]): Map<Channel, T[]> {
  const map = new Map<Channel, T[]>();
  for (const d of deliveries) {
    const list = map.get(d.channel) ?? [];
    list.push(d);
    map.set(d.channel, list);
  }
  return map;
}
