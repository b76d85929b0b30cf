// Re-planning sends planned with older time-zone data (docs/timezones.md), pure: the rules of
// docs/campaigns.md, "Planning", run again under this process's data, and each pending send learns
// where they now put it. The service around it (src/campaigns/replan.service.ts) claims the rows
// and writes back.
//
// A pending send was planned for a subscriber "joining" at `plannedAt` (the campaign's start, or
// a late sign-up). Under the new rules, planning at that same moment gives the send of its step
// and channel (scheduled or catch-up) a new instant:
// - still ahead of `now`, or passed less than a tick ago (the minute tick that would have taken it
//   under the new rules has not come yet): the send moves there, earlier or later (often not at
//   all), and the next tick sends it;
// - further behind `now` (the new rules put it before the upgrade reached it): it is missed, and
//   missed sends follow the catch-up rule from `now` (docs/campaigns.md, "Late joiners and
//   catch-up"): the catch-up the planner gives at `now`, when it is for this very step, else
//   nothing (a later step went out, or the next one is within minGap);
// - no such send any more (two steps now land on one instant, or a catch-up the new rules do not
//   call for): cancelled.
// A zone the new data does not know is left as it was.

import type { Channel } from '../shared/vocabulary.ts';
import { MINUTE } from './local-time.ts';
import { createZonePlanner } from './planner.ts';
import type { PlannedSend, Schedule } from './types.ts';

/** The tick's period: a send due less than this long ago is still taken by the next tick. */
const TICK = MINUTE;

export interface PendingSend {
  readonly id: number;
  readonly step: string;
  readonly channel: Channel;
  /** When it was planned: the `now` its plan was made with (epoch ms). */
  readonly plannedAt: number;
}

export type Replanned =
  | { readonly id: number; readonly action: 'move'; readonly sendAt: number }
  | { readonly id: number; readonly action: 'cancel' }
  | { readonly id: number; readonly action: 'unknown-zone' };

/**
 * The new instant (or cancellation) of each pending send of one zone (and holiday country, ''
 * for none), under this process's data.
 */
export function replanZone(
  schedule: Schedule,
  zone: string,
  sends: readonly PendingSend[],
  now: number,
  country = '',
): Replanned[] {
  const planners = new Map<number, (zone: string, country?: string) => readonly PlannedSend[]>();
  const planAt = (at: number): readonly PlannedSend[] => {
    let planner = planners.get(at);
    if (planner === undefined) {
      planner = createZonePlanner(schedule, at);
      planners.set(at, planner);
    }
    return planner(zone, country);
  };
  return sends.map((send): Replanned => {
    let planned: readonly PlannedSend[];
    let current: readonly PlannedSend[];
    try {
      planned = planAt(send.plannedAt);
      current = planAt(now);
    } catch (error) {
      if (error instanceof RangeError) return { id: send.id, action: 'unknown-zone' };
      throw error;
    }
    const same = (s: PlannedSend) => s.step === send.step && s.channel === send.channel;
    const target = planned.find(same);
    if (target === undefined) return { id: send.id, action: 'cancel' };
    if (target.sendAt > now - TICK) return { id: send.id, action: 'move', sendAt: target.sendAt };
    const catchUp = current.find((s) => s.kind === 'catch-up' && same(s));
    return catchUp === undefined
      ? { id: send.id, action: 'cancel' }
      : { id: send.id, action: 'move', sendAt: catchUp.sendAt };
  });
}
