// Fan-out (docs/architecture.md, "The path of one reminder", step 3): a due slot becomes one
// delivery row per eligible subscriber, sent in pages: one `sendBatch` job per `batchSize` rows.
// Subscribers are read by keyset on their id, a page at a time; each page inserts its rows with ON
// CONFLICT DO NOTHING (each row noting its batch job's id, derived from the slot, the page's
// starting cursor and the chunk, so a re-run of the page names the same jobs), queues their jobs,
// then moves the slot's cursor. Each page's jobs are queued while the next page is read (see
// fanOut), so a crash anywhere repeats at most the last two pages: their rows already exist (no new
// row, no second message) and the ones still `queued` are queued again under the same job ids.
import { createHash } from 'node:crypto';
import { BATCH_JOB_PREFIX, sendBatchSize } from '../queue/catalog.ts';
import type { QueueSet } from '../queue/connection.ts';
import type { Logger } from '../shared/logger.ts';
import type { Channel } from '../shared/vocabulary.ts';
import { isUnreachable } from '../store/connection-error.ts';
import type { Db } from '../store/pool.ts';
import { insertFanoutPage } from './delivery.repository.ts';
import { advanceCursor, claimDueSlots as claimSlots, finishSlot, loadSlot } from './due-slots.repository.ts';
import { type DeliveryPage, isPageJob, queueSendJobs, queueSendPages } from './job-queueing.ts';

export interface FanoutDeps {
  readonly db: Db;
  readonly queues: QueueSet;
  readonly logger: Logger;
  /** Subscribers per page (default PAGE_SIZE). */
  readonly pageSize?: number;
  /** Deliveries per `sendBatch` job on a channel (default: catalog's sendBatchSize of 100/s). */
  readonly batchSize?: (channel: Channel) => number;
}

export type FanoutResult =
  | { readonly status: 'done' | 'cancelled' | 'paused'; readonly queued: number; readonly pages: number }
  | { readonly status: 'not-claimed' | 'missing'; readonly queued: 0; readonly pages: 0 }
  /** PostgreSQL is unreachable: try again in `retryInMs` (from the slot's cursor), no attempt spent. */
  | { readonly status: 'database-unavailable'; readonly retryInMs: number };

const CLAIM_BATCH = 500;
/** Subscribers per page: one statement, one commit, one slot read and one cursor move per page,
 *  and planning the statement alone takes a few ms. 5,000 spreads those over five times the
 *  rows of 1,000 (bench/delivery.ts, same runs: 36.7–38.2k rows/s against 35.3–36.0k); a page is
 *  still a fraction of a second, so a pause or cancel is seen within one, and a crash repeats
 *  at most two pages. */
const PAGE_SIZE = 5000;

/** Claims every slot due at `now` (in batches); returns their ids. */
export async function claimDueSlots(deps: Pick<FanoutDeps, 'db'>, now: number): Promise<number[]> {
  const claimed: number[] = [];
  for (;;) {
    const batch = await claimSlots(deps.db, new Date(now), CLAIM_BATCH);
    claimed.push(...batch);
    if (batch.length < CLAIM_BATCH) return claimed;
  }
}

/** Fans out one slot. A PostgreSQL outage is not the slot's failure: rather than spend the job's
 *  attempts (whose backoff would grow to minutes), it asks to be tried again in 2-4 s; the slot's
 *  cursor and ON CONFLICT DO NOTHING make the repeat harmless. */
export async function fanOut(deps: FanoutDeps, slotId: number, now: number): Promise<FanoutResult> {
  try {
    return await fanOutPages(deps, slotId, now);
  } catch (error) {
    if (isUnreachable(error))
      return { status: 'database-unavailable', retryInMs: 2_000 + Math.round(Math.random() * 2_000) };
    throw error;
  }
}

async function fanOutPages(deps: FanoutDeps, slotId: number, now: number): Promise<FanoutResult> {
  const pageSize = deps.pageSize ?? PAGE_SIZE;
  const at = new Date(now);
  let queued = 0;
  let pages = 0;
  let cursor: string | null | undefined;
  // The previous page's addBulk and cursor move run while this page is read and inserted
  // (about twice the speed). The cursor still moves only after its page's jobs are queued, and
  // in page order: a crash repeats at most the last two pages, whose rows already exist.
  let previous: Promise<void> = Promise.resolve();
  const settle = async <T>(result: T): Promise<T> => {
    await previous;
    return result;
  };
  try {
    for (;;) {
      // Read again each page: the campaign may be paused or cancelled while a big slot runs.
      const slot = await loadSlot(deps.db, slotId);
      if (!slot) return await settle({ status: 'missing', queued: 0, pages: 0 });
      if (slot.state !== 'fanning_out') {
        return await settle(
          pages === 0 ? { status: 'not-claimed', queued: 0, pages: 0 } : { status: 'done', queued, pages },
        );
      }
      if (slot.campaignState === 'paused') {
        // Back to pending with its cursor: the first tick after resume claims it again.
        await previous;
        await finishSlot(deps.db, slotId, 'pending', at);
        return { status: 'paused', queued, pages };
      }
      if (slot.campaignState !== 'running' || now >= slot.deadline.getTime()) {
        await previous;
        await finishSlot(deps.db, slotId, 'cancelled', at);
        return { status: 'cancelled', queued, pages };
      }

      if (cursor === undefined) cursor = slot.cursor;
      const batch = {
        jobPrefix: `${BATCH_JOB_PREFIX}${slotId}-${pageKey(cursor)}`,
        size: (deps.batchSize ?? defaultBatchSize)(slot.channel),
      };
      const page = await insertFanoutPage(deps.db, { ...slot, cursor }, pageSize, at, batch);
      await previous;
      if (page.scanned === 0 || page.lastSubscriberId === null) {
        await finishSlot(deps.db, slotId, 'done', at);
        return { status: 'done', queued, pages };
      }
      const last = page.lastSubscriberId;
      const { pages: jobPages, own } = byJob([...page.added, ...page.stillQueued], slot.channel);
      previous = queueSendPages(deps.queues, jobPages)
        .then(() =>
          queueSendJobs(
            deps.queues,
            own.map((id) => ({ id, channel: slot.channel })),
          ),
        )
        .then(() => advanceCursor(deps.db, slotId, last, page.added.length, at));
      // Awaited later; until then a failure (PostgreSQL or Redis going away) must not count as
      // an unhandled rejection, which ends the process.
      previous.catch(() => {});
      cursor = last;
      queued += page.added.length;
      pages += 1;
      if (slot.subscriberId !== null || page.scanned < pageSize) {
        await previous;
        await finishSlot(deps.db, slotId, 'done', at);
        deps.logger.debug({ slotId, queued, pages }, 'slot fanned out');
        return { status: 'done', queued, pages };
      }
    }
  } finally {
    // On an error, let the page in flight finish (or fail) before the job is retried.
    await previous.catch(() => {});
  }
}

const defaultBatchSize = () => sendBatchSize(100);

/** A short, job-id-safe name for a page's starting keyset position. */
function pageKey(cursor: string | null): string {
  return createHash('sha256')
    .update(cursor ?? '')
    .digest('base64url')
    .slice(0, 12);
}

/** Rows grouped by the job that carries them: pages, and rows that have their own job. */
function byJob(
  rows: readonly { id: number; jobId: string | null }[],
  channel: Channel,
): { pages: DeliveryPage[]; own: number[] } {
  const pages = new Map<string, number[]>();
  const own: number[] = [];
  for (const row of rows) {
    if (!row.jobId || !isPageJob(row.jobId)) own.push(row.id);
    else if (pages.has(row.jobId)) pages.get(row.jobId)!.push(row.id);
    else pages.set(row.jobId, [row.id]);
  }
  return {
    pages: [...pages].map(([jobId, ids]) => ({
      key: jobId.slice(BATCH_JOB_PREFIX.length),
      channel,
      ids: [...new Set(ids)],
    })),
    own: [...new Set(own)],
  };
}
