// In-process workers over a test file's delivery services (support/delivery.ts): the set-up the
// delivery tests that drive ticks on a manual clock share. Kept apart from delivery.ts so that
// the files that only spawn `lastcall` processes do not load the worker code.
import { afterAll, beforeAll } from 'vitest';
import { type RunningWorkers, startWorkers, type WorkerSettings } from '../../src/roles/work.ts';
import type { ManualClock } from '../../src/shared/clock.ts';
import { type DeliveryServices, startDeliveryServices } from './delivery.ts';

/**
 * This file's delivery services and in-process workers on `clock` (ticks driven by the test, no
 * scheduler), started before its tests and closed after them. `env` adds variables to the
 * workers' configuration; `settings` are the workers' own (backoff 20 ms unless given).
 */
export function useDeliveryWorkers(
  clock: ManualClock,
  settings: Omit<WorkerSettings, 'clock' | 'scheduleTick'> = {},
  env: Record<string, string> = {},
): { readonly services: DeliveryServices; readonly workers: RunningWorkers } {
  const held = {} as { services: DeliveryServices; workers: RunningWorkers };
  beforeAll(async () => {
    held.services = await startDeliveryServices();
    held.workers = await startWorkers(held.services.config(env), {
      backoff: { baseMs: 20 },
      ...settings,
      clock,
      scheduleTick: false,
    });
  });
  afterAll(async () => {
    await held.workers?.close(5_000);
    await held.services?.close();
  });
  return held;
}
