// The crash tests' set-up: the delivery services (the Graph API behind a proxy that a test can
// cut), a producer QueueSet, the `lastcall work` child processes (SIGKILLed at the end) and the
// test's own tick with a quick recovery of orphans (the workers run theirs too). Each test file
// calls `useCrashHarness()` once; Vitest gives each file its own copy of this module.
import { afterAll, beforeAll } from 'vitest';
import { runTick } from '../../src/delivery/tick.service.ts';
import { QueueSet } from '../../src/queue/connection.ts';
import { createLogger } from '../../src/shared/logger.ts';
import {
  type DeliveryServices,
  FAST_TAKEOVER_ARGS,
  spawnWorker,
  startDeliveryServices,
  type WorkerProcess,
} from './delivery.ts';

export let services: DeliveryServices;
export let queues: QueueSet;
export const running: WorkerProcess[] = [];

/** Registers this file's set-up and tear-down. */
export function useCrashHarness(): void {
  beforeAll(async () => {
    services = await startDeliveryServices({ viaProxy: true });
    queues = new QueueSet(services.config());
  });

  afterAll(async () => {
    await Promise.all(running.map((w) => w.stop('SIGKILL')));
    await queues?.close();
    await services?.close();
  });
}

/** The test's own tick (workers also run theirs): real time, quick recovery of orphans. */
export const tick = () =>
  runTick(
    {
      db: services.database.db,
      queues,
      logger: createLogger({ logLevel: 'silent' }),
      recovery: { graceMs: 2_000, orphanAfterMs: 5_000 },
    },
    Date.now(),
  );

/** A `lastcall work` child with quick take-over of a dead worker's jobs, killed at the end. */
export async function spawnCrashWorker(
  env: Record<string, string>,
  extra: readonly string[] = [],
): Promise<WorkerProcess> {
  const w = await spawnWorker({ ...services.env, ...env }, [...FAST_TAKEOVER_ARGS, ...extra]);
  running.push(w);
  return w;
}
