// The local days a campaign sends on (docs/audiences.md, calendars): `window.days`, the weekdays
// with sends, and `window.except`, local dates without. A day is a wall date in the subscriber's
// zone, passed around as its midnight wall value (local-time.ts), so the test is plain
// arithmetic on numbers: no zone, no DST.

import { DAY } from './local-time.ts';

/** ISO order: Monday is 1, Sunday 7. */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const LOCAL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** "2026-12-25" → its midnight as a wall value; undefined for anything that is not a real date. */
export function parseLocalDate(text: string): number | undefined {
  const m = LOCAL_DATE.exec(text);
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const wall = Date.UTC(year, month - 1, day);
  const back = new Date(wall);
  // Date.UTC rolls 30 February over to 2 March: a real date reads back unchanged.
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day)
    return undefined;
  return wall;
}

/** The weekday of a wall value's date. */
export function weekdayOf(wall: number): Weekday {
  // 1970-01-01 was a Thursday (index 3 from Monday).
  const index = (((Math.floor(wall / DAY) + 3) % 7) + 7) % 7;
  return WEEKDAYS[index]!;
}

/**
 * The test a search applies to each local day, or undefined when every day has sends (no
 * `days`, or all seven, and no `except`). Throws a RangeError for an unknown weekday or date.
 */
export function allowedDays(
  days: readonly string[] | undefined,
  except: readonly string[] | undefined,
): ((wallMidnight: number) => boolean) | undefined {
  const weekdays = new Set<string>(days ?? WEEKDAYS);
  for (const day of weekdays)
    if (!(WEEKDAYS as readonly string[]).includes(day))
      throw new RangeError(`window.days: unknown day "${day}"`);
  if (weekdays.size === 0) throw new RangeError('window.days: must name at least one day');
  const excluded = new Set<number>();
  for (const text of except ?? []) {
    const wall = parseLocalDate(text);
    if (wall === undefined) throw new RangeError(`window.except: "${text}" is not a date like 2026-12-25`);
    excluded.add(wall);
  }
  if (weekdays.size === WEEKDAYS.length && excluded.size === 0) return undefined;
  return (wallMidnight) => weekdays.has(weekdayOf(wallMidnight)) && !excluded.has(wallMidnight);
}
