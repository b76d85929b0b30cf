// One channel's sends for a subscriber joining at `now` (docs/campaigns.md, "Planning", points 4
// and 5, and "Late joiners and catch-up").

import type { IANAZone } from 'luxon';
import { shiftInZone } from './calendar.ts';
import type { IsoDuration } from './duration.ts';
import { MINUTE } from './local-time.ts';
import type { SendKind } from './types.ts';
import { earliestInWindow, type WindowMinutes } from './window.ts';

/** A step's timing on one channel, before collapsing and before `now` is considered. */
export interface StepTiming {
  /** Position of the step in the campaign. */
  readonly index: number;
  /** The step's candidate instant: later means closer to the deadline. */
  readonly candidate: number;
  readonly sendAt: number;
}

export interface ChannelSend {
  readonly index: number;
  readonly sendAt: number;
  readonly kind: SendKind;
}

export interface ChannelContext {
  readonly zone: IANAZone;
  readonly window: WindowMinutes;
  readonly deadline: number;
  readonly minGap: IsoDuration;
  readonly now: number;
}

/**
 * Steps landing on the same instant keep only the one closest to the deadline: the later
 * candidate, and on a tie the step listed later in the campaign.
 */
export function collapseSameInstant(timings: readonly StepTiming[]): StepTiming[] {
  const byInstant = new Map<number, StepTiming>();
  for (const timing of timings) {
    const kept = byInstant.get(timing.sendAt);
    const closer =
      kept === undefined ||
      timing.candidate > kept.candidate ||
      (timing.candidate === kept.candidate && timing.index > kept.index);
    if (closer) byInstant.set(timing.sendAt, timing);
  }
  return [...byInstant.values()];
}

/**
 * Sends not after `now` are missed. If any are, and the next remaining send is more than
 * `minGap` after `now` (or there is none), the most recent missed step is sent once as a
 * catch-up at the first minute from `now` inside the window, if that is still before the
 * deadline. A catch-up landing on a remaining send's instant is dropped: that send is closer to
 * the deadline (docs/campaigns.md, "Planning", point 4).
 */
export function channelSends(timings: readonly StepTiming[], ctx: ChannelContext): ChannelSend[] {
  const kept = collapseSameInstant(timings);
  const remaining = kept.filter((t) => t.sendAt > ctx.now);
  const sends: ChannelSend[] = remaining.map((t) => ({
    index: t.index,
    sendAt: t.sendAt,
    kind: 'scheduled',
  }));
  const missed = kept.filter((t) => t.sendAt <= ctx.now);
  if (missed.length === 0) return sends;

  const latestMissed = missed.reduce((a, b) => (b.sendAt > a.sendAt ? b : a));
  const next = remaining.reduce<number | undefined>(
    (a, t) => (a === undefined || t.sendAt < a ? t.sendAt : a),
    undefined,
  );
  if (next !== undefined && next <= shiftInZone(ctx.zone, ctx.now, ctx.minGap, 1)) return sends;

  const at = earliestInWindow(ctx.zone, ctx.now, ctx.window);
  if (at > ctx.deadline - MINUTE) return sends;
  if (remaining.some((t) => t.sendAt === at)) return sends;
  sends.push({ index: latestMissed.index, sendAt: at, kind: 'catch-up' });
  return sends;
}
