// The time-zone data a process plans with (docs/timezones.md). Node's ICU carries a tzdata
// release ("2025a"); `ICU_TIMEZONE_FILES_DIR` can replace it at start-up, so two processes of one
// binary may disagree. A planned send records the release it was planned with and its local wall
// time, so that a process with newer data can tell it is stale and re-plan it (replan.ts).

import { DateTime } from 'luxon';
import { zoneNamed } from './local-time.ts';

/** The tzdata release this process plans with, e.g. "2025a" (ICU's `process.versions.tz`). */
export function tzDataVersion(): string {
  return process.versions.tz ?? 'unknown';
}

const RELEASE = /^(\d{4})([a-z]+)$/;

/** True for a tzdata release name: four digits and letters ("2024b", and "2024za" after "z"). */
export function isTzVersion(version: string | null | undefined): version is string {
  return typeof version === 'string' && RELEASE.test(version);
}

/**
 * tzdata's own order: by year, then by the letters ("2024b" < "2025a"; after "2024z" comes
 * "2024za"). With a four-digit year that is the byte order of the names, which is also what
 * COLLATE "C" gives in SQL (the re-plan's query relies on it). Throws a RangeError for a name
 * that is not a release.
 */
export function compareTzVersions(a: string, b: string): number {
  for (const v of [a, b]) if (!isTzVersion(v)) throw new RangeError(`not a tzdata release: "${v}"`);
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The local wall time of an instant in a zone, to the minute, without offset: "2026-12-10T10:00".
 * Memoised: a large import into a running campaign asks for the same few (zone, instant) pairs
 * once per subscriber.
 */
export function wallTimeText(instant: number, zone: string): string {
  const key = `${zone}|${instant}`;
  let text = wallTexts.get(key);
  if (text === undefined) {
    text = DateTime.fromMillis(instant, { zone: zoneNamed(zone) }).toFormat("yyyy-MM-dd'T'HH:mm");
    if (wallTexts.size >= WALL_TEXTS_KEPT) wallTexts.clear();
    wallTexts.set(key, text);
  }
  return text;
}

const WALL_TEXTS_KEPT = 10_000;
const wallTexts = new Map<string, string>();
