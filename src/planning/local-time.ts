// Wall-clock time in a zone, resolved without guessing (docs/campaigns.md, "Planning", point 2).
//
// A "wall" value is a local date and time written as if it were UTC epoch milliseconds
// (2026-01-14 10:00 local → Date.UTC(2026, 0, 14, 10)). Converting a wall value to an instant
// needs the zone's offset *at that instant*, which is circular around DST changes. Luxon breaks
// the circle by guessing from the offset at the current time, so its answer for a gap or an
// overlap can depend on the day the program runs. `resolveWall` never looks at the clock.

import { IANAZone } from 'luxon';
import type { LocalTime } from './types.ts';

export const MINUTE = 60_000;
export const DAY = 24 * 60 * MINUTE;

/** "HH:MM" (or "H:MM"), 00:00–23:59; undefined for anything else. */
export function parseLocalTime(text: string): LocalTime | undefined {
  if (typeof text !== 'string') return undefined;
  const match = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  if (!match) return undefined;
  const hour = Number(match[1]);
  const minute = Number(match[2]);
  if (hour > 23 || minute > 59) return undefined;
  return { hour, minute };
}

/** Minutes since local midnight. */
export function minuteOfDay(time: LocalTime): number {
  return time.hour * 60 + time.minute;
}

const knownZones = new Map<string, boolean>();

/**
 * True for a time-zone name Intl and Luxon both know ("Europe/Paris", "UTC"). Fixed offsets
 * such as "+01:00", which recent Intl versions accept, are refused: zones are IANA names.
 */
export function isValidZone(zone: string): boolean {
  if (typeof zone !== 'string' || !/^[A-Za-z]/.test(zone)) return false;
  // Luxon builds a new Intl.DateTimeFormat for every check (about 0.4 ms): remember answers,
  // since an import asks once per row. Bounded, as the names come from user input.
  let valid = knownZones.get(zone);
  if (valid === undefined) {
    if (knownZones.size >= 10_000) knownZones.clear();
    valid = IANAZone.isValidZone(zone);
    knownZones.set(zone, valid);
  }
  return valid;
}

/** The canonical spelling of a valid zone ("europe/paris" → "Europe/Paris"), else undefined. */
export function canonicalZone(zone: string): string | undefined {
  if (!isValidZone(zone)) return undefined;
  return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
}

/** A Luxon zone for a name, or a RangeError naming it. */
export function zoneNamed(zone: string): IANAZone {
  if (!isValidZone(zone)) throw new RangeError(`unknown IANA time zone "${zone}"`);
  return IANAZone.create(zone);
}

/** The zone's UTC offset at an instant, in milliseconds. */
export function offsetAt(zone: IANAZone, instant: number): number {
  return zone.offset(instant) * MINUTE;
}

/** The wall value of an instant in the zone. */
export function wallOf(zone: IANAZone, instant: number): number {
  return instant + offsetAt(zone, instant);
}

/** Minutes since local midnight of a wall value. */
export function wallMinuteOfDay(wall: number): number {
  return Math.floor((((wall % DAY) + DAY) % DAY) / MINUTE);
}

/** Local midnight of a wall value's date, as a wall value. */
export function wallMidnight(wall: number): number {
  return Math.floor(wall / DAY) * DAY;
}

/**
 * The instant a wall time denotes in the zone. The offsets a day either side bracket any DST
 * change (zones change at most once in two days): a candidate instant is real when the zone
 * really has the offset used to build it there.
 * - both real and different: an overlap; the first occurrence (earlier instant) wins;
 * - neither real: a gap; the pre-change offset is used, which reads as the wall time moved
 *   forward by the size of the gap (02:30 in a one-hour spring gap → 03:30).
 */
export function resolveWall(zone: IANAZone, wall: number): number {
  const before = offsetAt(zone, wall - DAY);
  const after = offsetAt(zone, wall + DAY);
  const first = wall - before;
  const second = wall - after;
  const firstReal = offsetAt(zone, first) === before;
  const secondReal = offsetAt(zone, second) === after;
  if (firstReal && secondReal) return Math.min(first, second);
  if (secondReal) return second;
  return first;
}
