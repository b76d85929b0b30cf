// Shared by the planner's tests only (vitest runs `*.test.ts`; this file is not one).
// Schedules are written the way a campaign file reads, and plans come back as one readable line
// per send ("d1 email 2026-01-14T09:00:00Z scheduled") so that a failing diff says what moved.

import { planZone } from '../../src/planning/planner.ts';
import type { LocalTime, PlanStep, Schedule } from '../../src/planning/types.ts';
import type { Channel } from '../../src/shared/vocabulary.ts';

export const iso = (instant: number): string => new Date(instant).toISOString().replace('.000Z', 'Z');

export const time = (text: string): LocalTime => ({
  hour: Number(text.slice(0, 2)),
  minute: Number(text.slice(3, 5)),
});

export const both: Channel[] = ['whatsapp', 'email'];

/** The shipped campaign's ladder (config/campaigns): deadline 2026-01-15T00:00:00+01:00. */
export const shippedSteps: PlanStep[] = [
  { id: 'd30', before: 'P30D', channels: both },
  { id: 'd7', before: 'P7D', channels: both },
  { id: 'd1', before: 'P1D', channels: both },
  { id: 'h6', before: 'PT6H', channels: ['whatsapp'] },
];

export const fullDay = { window: { start: time('00:00'), end: time('23:59') } };

/** The shipped campaign's schedule, with overrides; `deadline` is written as ISO text. */
export function schedule(
  overrides: Partial<Omit<Schedule, 'deadline'>> & { deadline?: string } = {},
): Schedule {
  const { deadline = '2026-01-15T00:00:00+01:00', ...rest } = overrides;
  return {
    sendAt: time('10:00'),
    window: { start: time('09:00'), end: time('20:00') },
    catchUpMinGap: 'PT24H',
    steps: shippedSteps,
    ...rest,
    deadline: Date.parse(deadline),
  };
}

/** "step channel sendAt kind" lines. */
export function lines(s: Schedule, zone: string, now: string): string[] {
  return planZone(s, zone, Date.parse(now)).map((p) => `${p.step} ${p.channel} ${iso(p.sendAt)} ${p.kind}`);
}

/** The send instants of `s` reduced to one step on one channel, planned long before. */
export function only(s: Omit<Schedule, 'steps'>, before: string, zone: string): string[] {
  const single = { ...s, steps: [{ id: 's', before, channels: ['email'] as Channel[] }] };
  return lines(single, zone, '2020-01-01T00:00:00Z').map((line) => line.split(' ')[2]!);
}
