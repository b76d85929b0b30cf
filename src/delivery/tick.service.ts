// The tick (docs/architecture.md, "The path of one reminder", step 2), once a minute from a BullMQ
// job scheduler and on demand in tests: finish campaigns whose deadline came, claim due slots and
// queue their fan-out, then recover what a crash or a lost Redis left behind (recovery.ts), and
// fold the campaign counters' shards (delivery-counts.repository.ts). Every step is a conditional
// update or a job id BullMQ dedupes, so two ticks at once, or a tick repeated, are harmless; a
// PostgreSQL advisory lock merely keeps a second concurrent tick from doing the same work twice.
import type { QueueSet } from '../queue/connection.ts';
import type { Logger } from '../shared/logger.ts';
import type { Db } from '../store/pool.ts';
import { finishExpiredCampaigns } from './delivery.repository.ts';
import { foldCounterShards } from './delivery-counts.repository.ts';
import { claimDueSlots } from './fanout.service.ts';
import { queueFanouts } from './job-queueing.ts';
import { type RecoveryOptions, type RecoveryReport, recover } from './recovery.ts';

export interface TickDeps {
  readonly db: Db;
  readonly queues: QueueSet;
  readonly logger: Logger;
  readonly recovery?: Partial<RecoveryOptions>;
}

export type TickReport =
  | { readonly ran: false; readonly reason: 'another tick is running' }
  | ({
      readonly ran: true;
      readonly finishedCampaigns: readonly string[];
      readonly skippedAtDeadline: number;
      readonly claimedSlots: readonly number[];
    } & RecoveryReport);

/** A stable 32-bit key for pg_try_advisory_lock: "lastcall-tick". */
const TICK_LOCK = 0x1a57_71c4;

export async function runTick(deps: TickDeps, now: number): Promise<TickReport> {
  const client = await deps.db.pool.connect();
  let locked = false;
  try {
    locked =
      (await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [TICK_LOCK])).rows[0]
        ?.ok === true;
    if (!locked) return { ran: false, reason: 'another tick is running' };
    const at = new Date(now);

    const expired = await finishExpiredCampaigns(deps.db, at);
    for (const id of expired.finished)
      deps.logger.info({ campaignId: id }, 'campaign reached its deadline: finished');

    const claimedSlots = await claimDueSlots(deps, now);
    await queueFanouts(deps.queues, claimedSlots);

    const recovered = await recover(deps, now, new Set(claimedSlots));
    await foldCounterShards(deps.db);
    const report: TickReport = {
      ran: true,
      finishedCampaigns: expired.finished,
      skippedAtDeadline: expired.skipped,
      claimedSlots,
      ...recovered,
    };
    if (
      claimedSlots.length > 0 ||
      recovered.requeuedSlots > 0 ||
      recovered.unknown > 0 ||
      recovered.requeuedDeliveries > 0
    )
      deps.logger.info({ ...report, claimedSlots: claimedSlots.length }, 'tick');
    return report;
  } finally {
    // A connection that cannot say unlock might still hold the lock: destroy it, not pool it.
    const unlocked =
      !locked ||
      (await client.query('SELECT pg_advisory_unlock($1)', [TICK_LOCK]).then(
        () => true,
        () => false,
      ));
    client.release(unlocked ? undefined : true);
  }
}
