// Calendar arithmetic in a zone (docs/campaigns.md, "Planning", point 1). Date units move the local
// date and keep the local time of day; they are applied with Luxon to wall values in UTC, where no
// DST can interfere, and the result is turned back into an instant by `resolveWall`. A month back
// from 31 March is 28 or 29 February (Luxon clamps to the end of the month).

import { DateTime, type IANAZone } from 'luxon';
import type { IsoDuration } from './duration.ts';
import { MINUTE, resolveWall, wallMidnight, wallOf } from './local-time.ts';
import type { LocalTime } from './types.ts';

function hasDateUnits(d: IsoDuration): boolean {
  return d.years !== 0 || d.months !== 0 || d.weeks !== 0 || d.days !== 0;
}

/** Moves a wall value by the duration's date units (sign -1: back, +1: forward). */
function shiftWallDate(wall: number, d: IsoDuration, sign: 1 | -1): number {
  const units = {
    years: sign * d.years,
    months: sign * d.months,
    weeks: sign * d.weeks,
    days: sign * d.days,
  };
  return DateTime.fromMillis(wall, { zone: 'utc' }).plus(units).toMillis();
}

/**
 * `instant` moved by the duration in the zone: date units on the local calendar (same local
 * time, resolved as in docs/campaigns.md, "Planning", point 2), then time units exactly. With no
 * date units the instant is used as it is, so an instant inside a DST overlap keeps its own
 * occurrence.
 */
export function shiftInZone(zone: IANAZone, instant: number, d: IsoDuration, sign: 1 | -1): number {
  const dated = hasDateUnits(d) ? resolveWall(zone, shiftWallDate(wallOf(zone, instant), d, sign)) : instant;
  return dated + sign * d.timeMillis;
}

/**
 * The candidate instant of a step whose deadline is `deadline` (docs/campaigns.md, "Planning",
 * point 1): with date units only, the local date of D − before at `sendAt`; otherwise D moved
 * back by `before`.
 */
export function stepCandidate(
  zone: IANAZone,
  deadline: number,
  before: IsoDuration,
  sendAt: LocalTime,
): number {
  if (before.hasTimeUnits) return shiftInZone(zone, deadline, before, -1);
  const date = wallMidnight(shiftWallDate(wallOf(zone, deadline), before, -1));
  return resolveWall(zone, date + (sendAt.hour * 60 + sendAt.minute) * MINUTE);
}
