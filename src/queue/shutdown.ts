// Graceful shutdown: stop taking work, let in-flight jobs finish for a bounded time, then
// force. `worker.close()` has no timeout of its own (a BullMQ pitfall), hence the race.
import type { Worker } from 'bullmq';

export async function closeWorkers(
  workers: readonly Worker[],
  timeoutMs: number,
): Promise<'graceful' | 'forced'> {
  let timer: NodeJS.Timeout | undefined;
  const graceful = Promise.all(workers.map((w) => w.close())).then(() => 'graceful' as const);
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const result = await Promise.race([graceful, timeout]);
  clearTimeout(timer);
  if (result === 'graceful') return result;
  // Jobs still running are released: their delivery rows stay `sending`, and recovery marks
  // them `unknown` rather than sending twice.
  await Promise.allSettled(workers.map((w) => w.close(true)));
  return 'forced';
}

/** Runs `stop` once on SIGTERM or SIGINT. */
export function onShutdownSignal(stop: (signal: string) => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    void stop(signal);
  };
  process.once('SIGTERM', handler);
  process.once('SIGINT', handler);
}
