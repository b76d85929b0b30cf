// The planner (docs/campaigns.md, "Planning"): (schedule, zone, now) → every planned send, pure and
// deterministic. This module and its siblings are the only place in Lastcall that does date
// arithmetic; the helpers other modules need are re-exported here.

import type { Channel } from '../shared/vocabulary.ts';
import { stepCandidate } from './calendar.ts';
import { type ChannelSend, channelSends, type StepTiming } from './catch-up.ts';
import { allowedDays } from './days.ts';
import { type IsoDuration, parseDuration } from './duration.ts';
import { holidayTest } from './holidays.ts';
import { MINUTE, minuteOfDay, zoneNamed } from './local-time.ts';
import type { PlannedSend, PlanStep, Schedule } from './types.ts';
import { ceilMinute, earliestInWindow, latestInWindow, type WindowMinutes } from './window.ts';

export { type CalendarWindow, describeCalendar } from './calendar-text.ts';
export { parseLocalDate, WEEKDAYS, type Weekday } from './days.ts';
export { parseIsoDuration } from './duration.ts';
export {
  daysLeft,
  describeBefore,
  formatDeadline,
  formatLocal,
  formatUtc,
  minutesLeft,
  parseIsoInstant,
} from './format.ts';
export {
  HOLIDAY_TYPES,
  type Holiday,
  type HolidayType,
  holidayCountries,
  holidaysBetween,
  isHolidayCountry,
} from './holidays.ts';
export { canonicalZone, isValidZone, parseLocalTime } from './local-time.ts';

interface CompiledStep {
  readonly step: PlanStep;
  readonly before: IsoDuration;
  /** The step's channels, each once, in the step's order. */
  readonly channels: readonly Channel[];
}

interface CompiledSchedule {
  readonly schedule: Schedule;
  /** The window without holidays: every subscriber's when the schedule has none. */
  readonly window: WindowMinutes;
  /** The window of a country's subscribers (memoised): holidays are days without sends. */
  readonly windowIn: (country: string) => WindowMinutes;
  readonly minGap: IsoDuration;
  readonly steps: readonly CompiledStep[];
}

function durationOf(text: string, field: string): IsoDuration {
  const parsed = parseDuration(text);
  if (!parsed.ok) throw new RangeError(`${field}: ${parsed.reason} (got "${text}")`);
  return parsed.duration;
}

/** Parses the schedule's durations once. Throws a RangeError naming the field on bad input. */
function compile(schedule: Schedule): CompiledSchedule {
  const allowedDay = allowedDays(schedule.window.days, schedule.window.except);
  const window: WindowMinutes = {
    start: minuteOfDay(schedule.window.start),
    end: minuteOfDay(schedule.window.end),
    ...(allowedDay ? { allowedDay } : {}),
  };
  if (window.start > window.end) {
    throw new RangeError('window: start must not be after end (a window cannot span midnight)');
  }
  if (!Number.isFinite(schedule.deadline)) throw new RangeError('deadline: must be an instant');
  return {
    schedule,
    window,
    windowIn: countryWindows(window, schedule.window.holidays?.types),
    minGap: durationOf(schedule.catchUpMinGap, 'catchUp.minGap'),
    steps: schedule.steps.map((step, i) => ({
      step,
      before: durationOf(step.before, `steps[${i}].before`),
      channels: [...new Set(step.channels)],
    })),
  };
}

/** The window for each country: without holidays, or no country, the calendar's own. */
function countryWindows(
  base: WindowMinutes,
  types: readonly string[] | undefined,
): (country: string) => WindowMinutes {
  if (types === undefined) return () => base;
  const windows = new Map<string, WindowMinutes>();
  return (country) => {
    if (country === '') return base;
    let window = windows.get(country);
    if (window === undefined) {
      const holiday = holidayTest(country, types);
      const allowed = base.allowedDay;
      window = {
        ...base,
        allowedDay: allowed ? (day: number) => allowed(day) && !holiday(day) : (day: number) => !holiday(day),
      };
      windows.set(country, window);
    }
    return window;
  };
}

function planCompiled(
  compiled: CompiledSchedule,
  zoneName: string,
  now: number,
  country: string,
): PlannedSend[] {
  const { schedule, steps } = compiled;
  const window = compiled.windowIn(country);
  const { deadline } = schedule;
  if (now >= deadline) return [];
  const zone = zoneNamed(zoneName);

  const timings = steps.map((s, index): StepTiming => {
    const candidate = stepCandidate(zone, deadline, s.before, schedule.sendAt);
    const sendAt = latestInWindow(zone, Math.min(candidate, deadline - MINUTE), window);
    return { index, candidate, sendAt };
  });

  const channels = [...new Set(steps.flatMap((s) => s.channels))];
  const planned: { send: ChannelSend; channel: Channel; channelRank: number }[] = [];
  for (const channel of channels) {
    const onChannel = timings.filter((t) => steps[t.index]!.channels.includes(channel));
    const ctx = { zone, window, deadline, minGap: compiled.minGap, now };
    for (const send of channelSends(onChannel, ctx)) {
      planned.push({ send, channel, channelRank: steps[send.index]!.channels.indexOf(channel) });
    }
  }
  planned.sort(
    (a, b) => a.send.sendAt - b.send.sendAt || a.send.index - b.send.index || a.channelRank - b.channelRank,
  );
  return planned.map(({ send, channel }) => ({
    step: steps[send.index]!.step.id,
    channel,
    sendAt: send.sendAt,
    kind: send.kind,
  }));
}

/**
 * Every planned send for any subscriber in `zone` joining at `now`, for every channel of every
 * step, sorted by send time, then step order in the campaign, then channel order in the step.
 * `country` (ISO 3166-1 alpha-2, '' for none) only matters when the schedule honours public
 * holidays: they are that country's. Throws a RangeError for an unknown zone or an invalid
 * schedule (the campaign schema refuses those first).
 */
export function planZone(schedule: Schedule, zone: string, now: number, country = ''): PlannedSend[] {
  return planCompiled(compile(schedule), zone, now, country);
}

/** After Meta's per-user marketing limit (131049), the n-th try waits this long (doubling). */
const MARKETING_RETRY_FIRST_MS = 60 * MINUTE;
const MARKETING_RETRY_MAX_MS = 24 * 60 * MINUTE;

/**
 * When to try again a message refused for Meta's per-user marketing limit (131049), `refusals`
 * times so far (1 for the first): 1 h, 2 h, 4 h … (at most 24 h) after `now`, moved forward into
 * the window on an allowed day, as a catch-up is. Undefined when that is not before the deadline
 * (at most one minute before it): the message is not sent late.
 */
export function marketingRetryAt(
  schedule: Schedule,
  zone: string,
  now: number,
  refusals: number,
  country = '',
): number | undefined {
  const compiled = compile(schedule);
  const wait = Math.min(MARKETING_RETRY_FIRST_MS * 2 ** Math.max(0, refusals - 1), MARKETING_RETRY_MAX_MS);
  const at = earliestInWindow(zoneNamed(zone), ceilMinute(now + wait), compiled.windowIn(country));
  return at <= schedule.deadline - MINUTE ? at : undefined;
}

/**
 * The planner's own rule (docs/campaigns.md, "Planning", point 3) for an instant other than a
 * step's candidate: the latest whole minute not after `limit`, at least one minute before the
 * deadline, inside the window on an allowed day (not a holiday of `country`, when the schedule
 * honours them). Spreading a step over earlier days uses it
 * (docs/whatsapp.md, "Messaging limits"). Returns a memoised function of (zone, limit).
 */
export function latestSendBefore(
  schedule: Schedule,
): (zone: string, limit: number, country?: string) => number {
  const compiled = compile(schedule);
  return (zone, limit, country = '') =>
    latestInWindow(zoneNamed(zone), Math.min(limit, schedule.deadline - MINUTE), compiled.windowIn(country));
}

/** `planZone` narrowed to the channels a subscriber has. */
export function planSubscriber(
  schedule: Schedule,
  zone: string,
  channels: readonly Channel[],
  now: number,
  country = '',
): PlannedSend[] {
  return planZone(schedule, zone, now, country).filter((send) => channels.includes(send.channel));
}

/**
 * A planner for one schedule and one `now`, memoised per zone (and per country, when the schedule
 * honours holidays; otherwise the country is ignored): planning a million subscribers costs one
 * plan per distinct zone. The returned arrays and sends are frozen: they are shared. Narrow them
 * per subscriber with `sends.filter((s) => channels.includes(s.channel))`.
 */
export function createZonePlanner(
  schedule: Schedule,
  now: number,
): (zone: string, country?: string) => readonly PlannedSend[] {
  const compiled = compile(schedule);
  const byCountry = schedule.window.holidays !== undefined;
  const cache = new Map<string, readonly PlannedSend[]>();
  return (zone, country = '') => {
    const place = byCountry ? country : '';
    const key = place === '' ? zone : `${zone}\u0000${place}`;
    let sends = cache.get(key);
    if (sends === undefined) {
      sends = Object.freeze(planCompiled(compiled, zone, now, place).map((send) => Object.freeze(send)));
      cache.set(key, sends);
    }
    return sends;
  };
}
