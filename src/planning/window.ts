// The sending window (docs/campaigns.md, "Planning", point 3, and "Late joiners and catch-up"):
// whole minutes whose local time of day lies in [start, end], both ends included. Searches run over
// stretches of constant UTC offset, where local time moves in step with real time; a DST change
// ends a stretch and the search carries on in the next one. The results equal a minute-by-minute
// scan (see planner.oracle.test.ts), including windows whose edges fall inside a DST gap or
// overlap.

//
// A calendar (window.days, window.except) narrows the window to allowed local days: a search
// that lands on a day without sends carries on from the edge of that day (the minute before it
// starts, going back; its next day's first minute, going forward) until it lands on an allowed
// day. "Local day" is the date of the wall time, so a day is judged the same way whatever the
// zone's DST does inside it.

import type { IANAZone } from 'luxon';
import { DAY, MINUTE, offsetAt, resolveWall, wallMidnight, wallMinuteOfDay } from './local-time.ts';

/** Window bounds in minutes since local midnight, start <= end. */
export interface WindowMinutes {
  readonly start: number;
  readonly end: number;
  /** Whether a local date (its midnight, as a wall value) has sends; absent: every day. */
  readonly allowedDay?: (wallMidnight: number) => boolean;
}

/** Enough days for any calendar the schema accepts: at most 1,000 excluded dates. */
const MAX_DAYS_SKIPPED = 1100;

/** The latest whole minute `<= limit` inside the window on an allowed local day. */
export function latestInWindow(zone: IANAZone, limit: number, window: WindowMinutes): number {
  let t = latestInHours(zone, limit, window);
  const allowed = window.allowedDay;
  if (allowed === undefined) return t;
  for (let i = 0; i < MAX_DAYS_SKIPPED; i++) {
    const day = wallMidnight(t + offsetAt(zone, t));
    if (allowed(day)) return t;
    // The minute before that local day's first instant: the end of the previous day.
    t = latestInHours(zone, resolveWall(zone, day) - MINUTE, window);
  }
  throw new Error(`no allowed day found before ${new Date(limit).toISOString()}`);
}

/** The earliest whole minute `>= from` inside the window on an allowed local day. */
export function earliestInWindow(zone: IANAZone, from: number, window: WindowMinutes): number {
  let t = earliestInHours(zone, from, window);
  const allowed = window.allowedDay;
  if (allowed === undefined) return t;
  for (let i = 0; i < MAX_DAYS_SKIPPED; i++) {
    const day = wallMidnight(t + offsetAt(zone, t));
    if (allowed(day)) return t;
    // The first instant of the next local day (a midnight in a DST gap resolves forward).
    t = earliestInHours(zone, resolveWall(zone, day + DAY), window);
  }
  throw new Error(`no allowed day found after ${new Date(from).toISOString()}`);
}

/** Enough stretches for any real zone: a DST change at most once in two days. */
const MAX_STRETCHES = 8;

export function floorMinute(instant: number): number {
  return Math.floor(instant / MINUTE) * MINUTE;
}

export function ceilMinute(instant: number): number {
  return Math.ceil(instant / MINUTE) * MINUTE;
}

/** The latest whole minute `<= limit` whose local time is inside the window, any day. */
function latestInHours(zone: IANAZone, limit: number, window: WindowMinutes): number {
  let t = floorMinute(limit);
  for (let i = 0; i < MAX_STRETCHES; i++) {
    const offset = offsetAt(zone, t);
    const wall = t + offset;
    const minute = wallMinuteOfDay(wall);
    if (minute >= window.start && minute <= window.end) return t;
    // Latest in-window wall time before `wall`: today's end, or yesterday's end if too early.
    const day = wallMidnight(wall) - (minute < window.start ? DAY : 0);
    const found = day + window.end * MINUTE - offset;
    if (offsetAt(zone, found) === offset) return found;
    // An offset change lies in (found, t]: nothing in window in this stretch; go to the previous.
    t = stretchStart(zone, found, t, offset) - MINUTE;
  }
  throw new Error(`no minute inside the window found before ${new Date(limit).toISOString()}`);
}

/** The earliest whole minute `>= from` whose local time is inside the window, any day. */
function earliestInHours(zone: IANAZone, from: number, window: WindowMinutes): number {
  let t = ceilMinute(from);
  for (let i = 0; i < MAX_STRETCHES; i++) {
    const offset = offsetAt(zone, t);
    const wall = t + offset;
    const minute = wallMinuteOfDay(wall);
    if (minute >= window.start && minute <= window.end) return t;
    // Earliest in-window wall time after `wall`: today's start, or tomorrow's if too late.
    const day = wallMidnight(wall) + (minute > window.end ? DAY : 0);
    const found = day + window.start * MINUTE - offset;
    if (offsetAt(zone, found) === offset) return found;
    t = stretchEnd(zone, t, found, offset) + MINUTE;
  }
  throw new Error(`no minute inside the window found after ${new Date(from).toISOString()}`);
}

/** First whole minute of the stretch with `offset` that holds `to`, knowing `from` is outside. */
function stretchStart(zone: IANAZone, from: number, to: number, offset: number): number {
  let outside = from;
  let inside = to;
  while (inside - outside > MINUTE) {
    const mid = outside + Math.floor((inside - outside) / 2 / MINUTE) * MINUTE;
    if (offsetAt(zone, mid) === offset) inside = mid;
    else outside = mid;
  }
  return inside;
}

/** Last whole minute of the stretch with `offset` that holds `from`, knowing `to` is outside. */
function stretchEnd(zone: IANAZone, from: number, to: number, offset: number): number {
  let inside = from;
  let outside = to;
  while (outside - inside > MINUTE) {
    const mid = inside + Math.floor((outside - inside) / 2 / MINUTE) * MINUTE;
    if (offsetAt(zone, mid) === offset) inside = mid;
    else outside = mid;
  }
  return inside;
}
