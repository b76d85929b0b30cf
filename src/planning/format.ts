// Instants written for people and for machine-readable output.

import { DateTime, Duration } from 'luxon';
import { DAY, wallMidnight, wallOf, zoneNamed } from './local-time.ts';

/** ISO 8601 with the zone's offset and no milliseconds: "2026-01-14T10:00:00+01:00". */
export function formatLocal(instant: number, zone: string): string {
  return DateTime.fromMillis(instant, { zone: zoneNamed(zone) }).toFormat("yyyy-MM-dd'T'HH:mm:ssZZ");
}

/** ISO 8601 in UTC with no milliseconds: "2026-01-14T09:00:00Z". */
export function formatUtc(instant: number): string {
  return DateTime.fromMillis(instant, { zone: 'utc' }).toFormat("yyyy-MM-dd'T'HH:mm:ss'Z'");
}

/**
 * The deadline for a message, in the subscriber's language and zone:
 * "jeudi 15 janvier 2026 à 00:00 (heure de Paris)", "Thursday, 15 January 2026 at 00:00 (Paris time)".
 * Zones without a city (UTC, Etc/GMT+5) are labelled by their offset: "(UTC)", "(UTC−05:00)".
 */
export function formatDeadline(instant: number, zone: string, locale: 'fr' | 'en'): string {
  // The same few (deadline, zone, language) come back for every message of a campaign, and
  // Luxon's formatting is a large part of rendering one (bench/delivery.ts).
  const key = `${instant}|${zone}|${locale}`;
  const known = deadlineTexts.get(key);
  if (known !== undefined) return known;
  const text = writeDeadline(instant, zone, locale);
  if (deadlineTexts.size >= DEADLINE_TEXTS_KEPT) deadlineTexts.clear();
  deadlineTexts.set(key, text);
  return text;
}

const DEADLINE_TEXTS_KEPT = 10_000;
const deadlineTexts = new Map<string, string>();

function writeDeadline(instant: number, zone: string, locale: 'fr' | 'en'): string {
  const local = DateTime.fromMillis(instant, { zone: zoneNamed(zone), locale });
  const city = cityOf(zone);
  const offsetLabel = local.offset === 0 ? 'UTC' : `UTC${local.toFormat('ZZ').replace('-', '−')}`;
  if (locale === 'fr') {
    const day = local.day === 1 ? '1er' : String(local.day);
    const when = `${local.toFormat('cccc')} ${day} ${local.toFormat("LLLL yyyy 'à' HH:mm")}`;
    if (city === undefined) return `${when} (${offsetLabel})`;
    return `${when} (heure ${/^[AEIOUYÂÉÈÊÎÔÛ]/i.test(city) ? "d'" : 'de '}${city})`;
  }
  const when = local.toFormat("cccc, d LLLL yyyy 'at' HH:mm");
  return city === undefined ? `${when} (${offsetLabel})` : `${when} (${city} time)`;
}

/** The city of a zone name ("America/Argentina/Buenos_Aires" → "Buenos Aires"), if it has one. */
function cityOf(zone: string): string | undefined {
  if (!zone.includes('/') || /^Etc\//i.test(zone)) return undefined;
  return zone.slice(zone.lastIndexOf('/') + 1).replaceAll('_', ' ');
}

/**
 * Whole calendar days from the local date of `instant` to the local date of `deadline` in the
 * zone: 1 on the eve of a midnight deadline, 0 on its day, negative once it has passed.
 */
export function daysLeft(instant: number, deadline: number, zone: string): number {
  const z = zoneNamed(zone);
  return Math.round((wallMidnight(wallOf(z, deadline)) - wallMidnight(wallOf(z, instant))) / DAY);
}

/** Whole minutes from `instant` to `deadline`, rounded up (a deadline 4m10s away is 5 minutes). */
export function minutesLeft(instant: number, deadline: number): number {
  return Math.ceil((deadline - instant) / 60_000);
}

/** An ISO 8601 instant with its offset → epoch ms, or why it is not one (Luxon's words). */
export function parseIsoInstant(text: string): { ok: true; ms: number } | { ok: false; reason: string } {
  const parsed = DateTime.fromISO(text.trim(), { setZone: true });
  return parsed.isValid
    ? { ok: true, ms: parsed.toMillis() }
    : { ok: false, reason: parsed.invalidExplanation ?? parsed.invalidReason ?? 'invalid' };
}

/** A step's `before` for people: "30 days", "6 hours", "10 minutes" ("30 jours"…). */
export function describeBefore(before: string, locale: 'fr' | 'en'): string {
  const duration = Duration.fromISO(before);
  if (!duration.isValid) return before;
  const units = Object.fromEntries(Object.entries(duration.toObject()).filter(([, n]) => n !== 0));
  return Duration.fromObject(units, { locale }).toHuman({ listStyle: 'long', unitDisplay: 'long' });
}
