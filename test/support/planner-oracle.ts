// A brute-force planner written from docs/campaigns.md, "Planning" alone, used by
// planner.oracle.test.ts and the calendar property tests beside it.
//
// It shares no code with the planner. It reads local time through Intl directly (not Luxon),
// does calendar arithmetic by hand on Date.UTC, resolves a wall time by trying every offset the
// zone uses nearby, and finds window minutes by stepping one minute at a time.

import type { PlanStep, Schedule } from '../../src/planning/types.ts';
import type { Channel } from '../../src/shared/vocabulary.ts';

export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;

// ---------------------------------------------------------------- local time through Intl

const formatters = new Map<string, Intl.DateTimeFormat>();
export function localWall(t: number, zone: string): number {
  let f = formatters.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(t))) p[part.type] = Number(part.value);
  const ms = ((t % 1000) + 1000) % 1000;
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) + ms;
}

const clocks = new Map<string, Intl.DateTimeFormat>();
/** Minutes since local midnight, from a formatter that prints only "HH:MM" (cheaper). */
function localMinute(t: number, zone: string): number {
  let f = clocks.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      hourCycle: 'h23',
      hour: '2-digit',
      minute: '2-digit',
    });
    clocks.set(zone, f);
  }
  const text = f.format(t);
  return Number(text.slice(0, 2)) * 60 + Number(text.slice(3, 5));
}

const WEEKDAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

function inWindow(t: number, c: Case): boolean {
  const minute = localMinute(t, c.zone);
  if (minute < c.window[0] || minute > c.window[1]) return false;
  if (c.days === undefined && c.except === undefined) return true;
  // The local date, read through Intl: its weekday and its "YYYY-MM-DD".
  const date = new Date(localWall(t, c.zone));
  if (c.days !== undefined && !c.days.includes(WEEKDAY_NAMES[date.getUTCDay()]!)) return false;
  return !(c.except ?? []).includes(date.toISOString().slice(0, 10));
}

// ------------------------------------------------------------------- durations, by hand

export interface Dur {
  readonly text: string;
  readonly y?: number;
  readonly mo?: number;
  readonly w?: number;
  readonly d?: number;
  /** Exact part in milliseconds; present (even 0) when the text has a "T" part. */
  readonly ms?: number;
}

const hasDate = (d: Dur) => (d.y ?? 0) + (d.mo ?? 0) + (d.w ?? 0) + (d.d ?? 0) > 0;

function shiftDate(wall: number, d: Dur, sign: 1 | -1): number {
  const date = new Date(wall);
  const y0 = date.getUTCFullYear();
  const m0 = date.getUTCMonth();
  const timeOfDay = wall - Date.UTC(y0, m0, date.getUTCDate());
  const months = y0 * 12 + m0 + sign * ((d.y ?? 0) * 12 + (d.mo ?? 0));
  const y = Math.floor(months / 12);
  const m = months - y * 12;
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  const day = Math.min(date.getUTCDate(), lastDay) + sign * (7 * (d.w ?? 0) + (d.d ?? 0));
  return Date.UTC(y, m, day) + timeOfDay;
}

/** Wall time → instant: first occurrence if ambiguous, moved forward by the gap if missing. */
function resolve(wall: number, zone: string): number {
  // Every offset the zone uses within 16 hours either side; try each.
  const offsets = new Set<number>();
  for (let t = wall - 16 * HOUR; t <= wall + 16 * HOUR; t += HOUR) offsets.add(localWall(t, zone) - t);
  const hits = [...offsets].map((o) => wall - o).filter((t) => localWall(t, zone) === wall);
  if (hits.length > 0) return Math.min(...hits);
  // A gap: the clock jumps over `wall`. Bisect for the jump; the offset just before it applies.
  let lo = wall - 15 * HOUR; // local time < wall
  let hi = wall + 15 * HOUR; // local time > wall
  while (hi - lo > MIN) {
    const mid = lo + Math.floor((hi - lo) / 2 / MIN) * MIN;
    if (localWall(mid, zone) < wall) lo = mid;
    else hi = mid;
  }
  return wall - (localWall(lo, zone) - lo);
}

function shift(instant: number, d: Dur, sign: 1 | -1, zone: string): number {
  const dated = hasDate(d) ? resolve(shiftDate(localWall(instant, zone), d, sign), zone) : instant;
  return dated + sign * (d.ms ?? 0);
}

// ------------------------------------------------------------------------------- oracle

export interface Case {
  readonly zone: string;
  readonly deadline: number;
  readonly now: number;
  readonly sendAt: number;
  readonly window: readonly [number, number];
  /** window.days: local weekdays with sends ("mon"…); absent: every day. */
  readonly days?: readonly string[];
  /** window.except: local dates without sends ("2026-12-25"). */
  readonly except?: readonly string[];
  readonly minGap: Dur;
  readonly steps: readonly {
    readonly id: string;
    readonly before: Dur;
    readonly channels: readonly Channel[];
  }[];
}

export const iso = (t: number) => new Date(t).toISOString();

export function oracle(c: Case): string[] {
  if (c.now >= c.deadline) return [];
  const timings = c.steps.map((step, index) => {
    let candidate: number;
    if (step.before.ms === undefined) {
      const date = Math.floor(shiftDate(localWall(c.deadline, c.zone), step.before, -1) / DAY) * DAY;
      candidate = resolve(date + c.sendAt * MIN, c.zone);
    } else {
      candidate = shift(c.deadline, step.before, -1, c.zone);
    }
    let sendAt = Math.floor(Math.min(candidate, c.deadline - MIN) / MIN) * MIN;
    for (let guard = 0; !inWindow(sendAt, c); guard++) {
      if (guard > 60 * 1440) throw new Error('oracle: no window minute');
      sendAt -= MIN;
    }
    return { index, candidate, sendAt };
  });

  const out: { index: number; channel: Channel; sendAt: number; kind: string }[] = [];
  for (const channel of ['whatsapp', 'email'] as const) {
    const all = timings.filter((t) => c.steps[t.index]!.channels.includes(channel));
    const kept = all.filter(
      (a) =>
        !all.some(
          (b) =>
            b !== a &&
            b.sendAt === a.sendAt &&
            (b.candidate > a.candidate || (b.candidate === a.candidate && b.index > a.index)),
        ),
    );
    const missed = kept.filter((t) => t.sendAt <= c.now);
    const remaining = kept.filter((t) => t.sendAt > c.now);
    for (const r of remaining) out.push({ index: r.index, channel, sendAt: r.sendAt, kind: 'scheduled' });
    if (missed.length === 0) continue;
    const last = missed.reduce((a, b) => (b.sendAt > a.sendAt ? b : a));
    const horizon = shift(c.now, c.minGap, 1, c.zone);
    if (!remaining.every((r) => r.sendAt > horizon)) continue;
    let at = Math.ceil(c.now / MIN) * MIN;
    while (!inWindow(at, c)) at += MIN;
    if (at <= c.deadline - MIN && !remaining.some((r) => r.sendAt === at)) {
      out.push({ index: last.index, channel, sendAt: at, kind: 'catch-up' });
    }
  }
  const rank = (o: { index: number; channel: Channel }) => c.steps[o.index]!.channels.indexOf(o.channel);
  out.sort((a, b) => a.sendAt - b.sendAt || a.index - b.index || rank(a) - rank(b));
  return out.map((o) => `${c.steps[o.index]!.id} ${o.channel} ${iso(o.sendAt)} ${o.kind}`);
}

export function toSchedule(c: Case): Schedule {
  const time = (m: number) => ({ hour: Math.floor(m / 60), minute: m % 60 });
  const steps: PlanStep[] = c.steps.map((s) => ({ id: s.id, before: s.before.text, channels: s.channels }));
  return {
    deadline: c.deadline,
    sendAt: time(c.sendAt),
    window: {
      start: time(c.window[0]),
      end: time(c.window[1]),
      ...(c.days ? { days: c.days } : {}),
      ...(c.except ? { except: c.except } : {}),
    },
    catchUpMinGap: c.minGap.text,
    steps,
  };
}

export function describeCase(c: Case): string {
  const hm = (m: number) =>
    `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  const steps = c.steps.map((s) => `${s.id}=${s.before.text}[${s.channels.join(',')}]`).join(' ');
  const calendar = `${c.days ? ` days=${c.days.join(',')}` : ''}${c.except ? ` except=${c.except.join(',')}` : ''}`;
  return `${c.zone} deadline=${iso(c.deadline)} now=${iso(c.now)} sendAt=${hm(c.sendAt)} window=${hm(c.window[0])}-${hm(c.window[1])}${calendar} minGap=${c.minGap.text} ${steps}`;
}
