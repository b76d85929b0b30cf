// ISO 8601 durations as the planner reads them (docs/campaigns.md, "Planning", point 1). The
// planner needs to know which units were *written*: date units (years, months, weeks, days) are
// calendar arithmetic in the subscriber's zone, time units (hours, minutes, seconds) are exact.
// "P1DT0H" therefore means "the same local time a day earlier", while "P1D" means "that local date
// at sendAt".

export interface IsoDuration {
  readonly years: number;
  readonly months: number;
  readonly weeks: number;
  readonly days: number;
  /** Hours, minutes and seconds together, in exact milliseconds. */
  readonly timeMillis: number;
  /** True when the text has a time part ("T…"): the step keeps the deadline's time of day. */
  readonly hasTimeUnits: boolean;
}

export type DurationResult =
  | { readonly ok: true; readonly duration: IsoDuration; readonly millisApprox: number }
  | { readonly ok: false; readonly reason: string };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Longer than any campaign could need; keeps Luxon's calendar arithmetic far from its limits. */
const MAX_MILLIS = 100 * 365 * DAY;

const SHAPE =
  /^P(?:(\d+(?:[.,]\d+)?)Y)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)W)?(?:(\d+(?:[.,]\d+)?)D)?(?:T(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/;

const EXPECTED = 'expected an ISO 8601 duration such as P30D, P1M, PT6H or P1DT6H';

/** Parses an ISO 8601 duration; never throws. Negative and fractional date units are refused. */
export function parseDuration(text: string): DurationResult {
  if (typeof text !== 'string') return { ok: false, reason: EXPECTED };
  const trimmed = text.trim();
  if (trimmed.startsWith('-')) return { ok: false, reason: 'must not be negative' };
  const match = SHAPE.exec(trimmed);
  if (!match) {
    return { ok: false, reason: /^p/.test(trimmed) ? `${EXPECTED} (units must be upper case)` : EXPECTED };
  }
  const [, y, mo, w, d, h, mi, s] = match;
  if ([y, mo, w, d, h, mi, s].every((part) => part === undefined)) {
    return { ok: false, reason: `${EXPECTED}: at least one unit is required` };
  }
  if (trimmed.endsWith('T')) return { ok: false, reason: `${EXPECTED}: "T" must be followed by a unit` };
  if ([y, mo, w, d].some((part) => part !== undefined && /[.,]/.test(part))) {
    return { ok: false, reason: 'years, months, weeks and days must be whole numbers (use hours for less)' };
  }
  const num = (part: string | undefined): number => (part === undefined ? 0 : Number(part.replace(',', '.')));
  const duration: IsoDuration = {
    years: num(y),
    months: num(mo),
    weeks: num(w),
    days: num(d),
    timeMillis: num(h) * HOUR + num(mi) * MINUTE + num(s) * 1000,
    hasTimeUnits: trimmed.includes('T'),
  };
  const millisApprox =
    (duration.years * 365 + duration.months * 30 + duration.weeks * 7 + duration.days) * DAY +
    duration.timeMillis;
  if (!Number.isFinite(millisApprox) || millisApprox > MAX_MILLIS) {
    return { ok: false, reason: 'must not be longer than 100 years' };
  }
  return { ok: true, duration, millisApprox };
}

/** The schema-facing form: whether `text` is usable, and roughly how long it is. */
export function parseIsoDuration(
  text: string,
): { ok: true; millisApprox: number } | { ok: false; reason: string } {
  const result = parseDuration(text);
  return result.ok ? { ok: true, millisApprox: result.millisApprox } : { ok: false, reason: result.reason };
}
