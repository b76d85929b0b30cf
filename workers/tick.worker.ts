// Tick worker wiring: the job scheduler's job (every minute) runs one tick.
import { type Job, UnrecoverableError } from 'bullmq';
import type { TickReport } from '../src/delivery/tick.service.ts';
import { parsePayload, type TickPayload } from '../src/queue/catalog.ts';

export function tickProcessor(runTick: () => Promise<TickReport>) {
  return async (job: Job<TickPayload>): Promise<{ ran: boolean; claimedSlots: number }> => {
    const payload = parsePayload('tick', job.data ?? {});
    if (!payload.ok) throw new UnrecoverableError(`bad tick payload: ${payload.reason}`);
    const report = await runTick();
    return { ran: report.ran, claimedSlots: report.ran ? report.claimedSlots.length : 0 };
  };
}
