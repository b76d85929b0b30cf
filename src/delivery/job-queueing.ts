// Putting fan-out and send jobs on their queues. Job ids come from the catalog, so a job that
// is still in Redis (waiting, delayed, active) is never queued twice: BullMQ ignores the
// duplicate. A finished job (completed, or failed after its attempts) also blocks its id, so
// `requeue…` removes it first when PostgreSQL says the work is not done.
import type { Queue } from 'bullmq';
import type { Channel } from '../planning/types.ts';
import { jobFor, jobIdOf, jobs } from '../queue/catalog.ts';
import type { QueueSet } from '../queue/connection.ts';

const BULK = 1000;

export interface DeliveryRef {
  readonly id: number;
  readonly channel: Channel;
  /** Wait this long first (what is left of a retry's backoff or a provider's deferral). */
  readonly delayMs?: number;
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
            jobFor('send', { deliveryId: d.id }, d.delayMs && d.delayMs > 0 ? { delay: d.delayMs } : {}),
          ),
      );
    }
  }
}

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

function byChannel(deliveries: readonly DeliveryRef[]): Map<Channel, DeliveryRef[]> {
  const map = new Map<Channel, DeliveryRef[]>();
  for (const d of deliveries) {
    const list = map.get(d.channel) ?? [];
    list.push(d);
    map.set(d.channel, list);
  }
  return map;
}
