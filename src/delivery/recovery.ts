// What the tick repairs (docs/architecture.md, "Principles"). PostgreSQL is the record, Redis only
// work in flight, so after a crash or a lost Redis the tick compares the two:
// - a slot left `fanning_out` whose fan-out job is gone gets its job back (it resumes at its cursor);
// - a delivery left `sending` whose claiming job (its `job_id`) is no longer active, or for
//   longer than the lease, becomes `unknown`: the provider may have accepted it, so it is NEVER
//   sent again (at most once);
// - `queued`/`retrying` deliveries with no job are queued again: `queued` ones in new pages
//   (`sendBatch` jobs, the rows' `job_id` updated), `retrying` ones on their own job with what
//   is left of their wait. After a Redis loss (a marker key is gone) that is every one of
//   them, at once; otherwise a bounded slice per tick catches stragglers (a job that ended
//   without its row being updated), looking up each distinct job once;
// - deliveries a sender released because their campaign was paused are queued again once it runs.
import { QUEUES, sendBatchSize } from '../queue/catalog.ts';
import type { QueueSet } from '../queue/connection.ts';
import type { Logger } from '../shared/logger.ts';
import type { Channel } from '../shared/vocabulary.ts';
import type { Db } from '../store/pool.ts';
import {
  assignJobs,
  clearPauseMarks,
  type InFlight,
  inFlightDeliveries,
  markUnknown,
  releasedByPause,
  sendingSince,
} from './delivery.repository.ts';
import { slotsFanningOut } from './due-slots.repository.ts';
import {
  type DeliveryRef,
  isPageJob,
  jobIdOfRow,
  jobStates,
  pagesOf,
  queueFanouts,
  queueSendJobs,
  queueSendPages,
  requeueSendJobs,
} from './job-queueing.ts';

export interface RecoveryOptions {
  /** A `sending` row older than this is `unknown` even if its job still looks active. */
  readonly leaseMs: number;
  /** A `sending` row older than this whose job is not active is `unknown`. */
  readonly graceMs: number;
  /** `queued`/`retrying` rows checked per tick by the straggler sweep. */
  readonly sweepBatch: number;
  /** Rows touched more recently than this are left to the fan-out that is queueing them. */
  readonly orphanAfterMs: number;
}

export const DEFAULT_RECOVERY: RecoveryOptions = {
  leaseMs: 2 * 60_000,
  graceMs: 30_000,
  sweepBatch: 1000,
  orphanAfterMs: 5 * 60_000,
};

export interface RecoveryReport {
  readonly requeuedSlots: number;
  readonly unknown: number;
  readonly requeuedDeliveries: number;
  /** True when this tick found Redis emptied and queued everything in flight again. */
  readonly redisLost: boolean;
}

interface Deps {
  readonly db: Db;
  readonly queues: QueueSet;
  readonly logger: Logger;
  readonly recovery?: Partial<RecoveryOptions>;
  /** Deliveries per `sendBatch` job when queued rows are queued again (default 25). */
  readonly batchSize?: (channel: Channel) => number;
}

const LIMIT = 5000;

export async function recover(
  deps: Deps,
  now: number,
  justClaimed: ReadonlySet<number>,
): Promise<RecoveryReport> {
  const options = { ...DEFAULT_RECOVERY, ...deps.recovery };
  const at = new Date(now);
  const stuck = (await slotsFanningOut(deps.db, at)).filter((id) => !justClaimed.has(id));
  const requeuedSlots = await queueFanouts(deps.queues, stuck);
  if (requeuedSlots > 0)
    deps.logger.warn({ slots: requeuedSlots }, 'fan-out jobs were missing: queued again');

  const unknown = await settleSending(deps, options, at);
  const markers = markerKeys(deps.queues);
  const present = await Promise.all(markers.map((key) => deps.queues.connection.exists(key)));
  const redisLost = present.some((n) => n === 0);
  let requeuedDeliveries = 0;
  if (redisLost) {
    requeuedDeliveries = await requeueEverything(deps, now);
    await Promise.all(markers.map((key) => deps.queues.connection.set(key, at.toISOString())));
    if (requeuedDeliveries > 0)
      deps.logger.warn(
        { deliveries: requeuedDeliveries },
        'Redis held none of our jobs (first start, or its data was lost): deliveries in flight queued again',
      );
  } else {
    requeuedDeliveries = await sweepStragglers(deps, options, now);
  }
  const released = await releasedByPause(deps.db, LIMIT);
  if (released.length > 0) {
    requeuedDeliveries += await queueInPages(deps, released.map(withDelay(now)), now);
    await clearPauseMarks(
      deps.db,
      released.map((d) => d.id),
    );
  }
  return { requeuedSlots, unknown, requeuedDeliveries, redisLost };
}

async function settleSending(deps: Deps, options: RecoveryOptions, at: Date): Promise<number> {
  const expired = await sendingSince(deps.db, new Date(at.getTime() - options.leaseMs), LIMIT);
  const settled = await markUnknown(
    deps.db,
    expired.map((d) => d.id),
    at,
    'no outcome recorded within the lease: the provider may have accepted it, so it is not sent again',
  );
  const recent = await sendingSince(deps.db, new Date(at.getTime() - options.graceMs), LIMIT);
  // The job that claimed each row (a page or its own): one look-up per distinct job.
  const states = await jobStates(deps.queues, recent);
  const orphaned = recent.filter((d) => states.get(jobIdOfRow(d)) !== 'active').map((d) => d.id);
  settled.push(
    ...(await markUnknown(
      deps.db,
      orphaned,
      at,
      'its sender stopped mid-send: the provider may have accepted it, so it is not sent again',
    )),
  );
  if (settled.length > 0)
    deps.logger.warn({ deliveries: settled.length }, 'deliveries interrupted mid-send: now unknown');
  return settled.length;
}

/** What is left of a row's wait (backoff, deferral) at `now`, as a job delay. */
const withDelay = (now: number) => (d: InFlight) => ({
  id: d.id,
  channel: d.channel,
  delayMs: d.notBefore ? d.notBefore.getTime() - now : 0,
});

/**
 * Rows with no live job, queued again: those with a wait left (a retry's backoff, a deferral)
 * on their own job, the others in new pages whose ids are written to the rows. New page keys
 * (`r<now>-<first id>-<count>`) rather than the rows' old ones: an old page may still be held
 * by part of its rows, or be split across two reads.
 */
async function queueInPages(deps: Deps, rows: readonly DeliveryRef[], now: number): Promise<number> {
  const own = rows.filter((r) => (r.delayMs ?? 0) > 0);
  const paged = rows.filter((r) => (r.delayMs ?? 0) <= 0);
  const pages = pagesOf(paged, deps.batchSize ?? (() => sendBatchSize(100)), `r${now}`);
  await assignJobs(
    deps.db,
    pages.flatMap((p) => p.ids.map((id) => ({ id, jobId: `batch-${p.key}` }))),
  );
  await queueSendPages(deps.queues, pages);
  await queueSendJobs(deps.queues, own);
  return rows.length;
}

/** After a Redis loss nothing is left to dedupe against: addBulk every row in flight. */
async function requeueEverything(deps: Deps, now: number): Promise<number> {
  let after = 0;
  let total = 0;
  for (;;) {
    const page = await inFlightDeliveries(deps.db, after, LIMIT);
    if (page.length === 0) return total;
    await queueInPages(deps, page.map(withDelay(now)), now);
    total += page.length;
    after = page.at(-1)!.id;
  }
}

async function sweepStragglers(deps: Deps, options: RecoveryOptions, now: number): Promise<number> {
  const redis = deps.queues.connection;
  const key = deps.queues.keyBeside(QUEUES.tick, 'sweep-cursor');
  const after = Number(await redis.get(key)) || 0;
  const page = await inFlightDeliveries(
    deps.db,
    after,
    options.sweepBatch,
    new Date(now - options.orphanAfterMs),
  );
  await redis.set(key, page.length < options.sweepBatch ? '0' : String(page.at(-1)!.id));
  // Rows on their own job: replaced if it finished. Rows of a page: queued again in a new page
  // if their page's job is gone or finished (a page still waiting its turn is left alone).
  const own = page.filter((d) => !isPageJob(jobIdOfRow(d)));
  const paged = page.filter((d) => isPageJob(jobIdOfRow(d)));
  const states = await jobStates(deps.queues, paged);
  const orphans = paged.filter((d) => {
    const state = states.get(jobIdOfRow(d));
    return state !== 'waiting' && state !== 'delayed' && state !== 'active' && state !== 'prioritized';
  });
  const added =
    (await requeueSendJobs(deps.queues, own.map(withDelay(now)))) +
    (orphans.length > 0 ? await queueInPages(deps, orphans.map(withDelay(now)), now) : 0);
  if (added > 0) deps.logger.warn({ deliveries: added }, 'queued deliveries without a job: queued again');
  return added;
}

/** One beside each queue (on a Redis Cluster each may live on another primary): one missing
 *  means Redis lost (or never had) that queue's jobs. All are queued again then: a row whose job
 *  survived gets a second one, which finds it claimed or sent and does nothing. */
function markerKeys(queues: QueueSet): string[] {
  return Object.values(QUEUES).map((queue) => queues.keyBeside(queue, 'redis-alive'));
}
