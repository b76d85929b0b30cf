// The tz-data side of `lastcall work` (docs/timezones.md): when the process starts, and every
// minute after, it says which tz data it runs on (worker_heartbeats, for `doctor`) and re-plans
// the pending slots planned with older data (replan.service.ts). The first pass runs before any
// worker takes a job, so a slot the new rules move earlier is in place before the first tick;
// each scheduled tick this process runs makes a pass first too.
import type { CampaignReplan, ReplanService } from '../campaigns/replan.service.ts';
import { beat, retire, thisWorker } from '../ops/worker-heartbeats.ts';
import type { Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';
import type { Db } from '../store/pool.ts';

export interface TzWatch {
  /** One re-plan pass now (or at `now`): what the timer does every minute. */
  replan(now?: number): Promise<CampaignReplan[]>;
  /** A re-plan pass that logs its failure instead of throwing: before each scheduled tick, so a
   *  worker never claims a slot that its own data would have moved. */
  beforeTick(): Promise<void>;
  close(): Promise<void>;
}

export async function startTzWatch(deps: {
  readonly db: Db;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly replans: ReplanService;
  /** How often to beat and re-plan; 0: only at start (tests call `replan`). */
  readonly everyMs: number;
}): Promise<TzWatch> {
  const { db, logger, clock } = deps;
  const { tzVersion } = deps.replans;
  const me = thisWorker(tzVersion, clock.now());
  const replan = (now = clock.now()) => deps.replans.replanStale(now);
  const pass = async () => {
    try {
      await beat(db, me, clock.now());
      await replan();
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'tz data check failed: will try again in a minute');
    }
  };
  logger.info({ tzVersion }, `time-zone data ${tzVersion}`);
  await pass();
  const timer = deps.everyMs > 0 ? setInterval(pass, deps.everyMs) : undefined;
  timer?.unref();
  return {
    replan,
    async beforeTick() {
      await replan().catch((err: Error) =>
        logger.warn({ err: err.message }, 'tz data re-plan before the tick failed'),
      );
    },
    async close() {
      clearInterval(timer);
      await retire(db, me).catch(() => {});
    },
  };
}
