// Calendars (window.days, window.except; docs/audiences.md) as properties, with fast-check:
// planZone agrees with the brute-force oracle of test/support/planner-oracle.ts, which reads
// each minute's local weekday and date through Intl, on weekday windows and excluded dates
// around DST changes and on both sides of the date line (Pacific/Kiritimati at UTC+14,
// Pacific/Auckland, America/St_Johns at −3:30, Pacific/Apia, which skipped a whole day in 2011).
// And what a subscriber would check by hand: every send falls inside the hours, on an allowed
// local day, before the deadline.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CALENDAR_ZONES, CHANNEL_SETS, WEEKDAYS, windowArb } from '../../test/support/calendar-cases.ts';
import {
  type Case,
  DAY,
  type Dur,
  describeCase,
  HOUR,
  iso,
  localWall,
  MIN,
  oracle,
  toSchedule,
} from '../../test/support/planner-oracle.ts';
import { planZone } from './planner.ts';

const WORKWEEK = ['mon', 'tue', 'wed', 'thu', 'fri'];
const BEFORES: Dur[] = [
  { text: 'P30D', d: 30 },
  { text: 'P7D', d: 7 },
  { text: 'P1D', d: 1 },
  { text: 'PT6H', ms: 6 * HOUR },
  { text: 'P1DT6H', d: 1, ms: 6 * HOUR },
  { text: 'P2W', w: 2 },
  { text: 'P3D', d: 3 },
  { text: 'PT30M', ms: 30 * MIN },
];

/** The instants of the year where the zone's offset changes (none for Kiritimati). */
function transitions(zone: string, year: number): number[] {
  const offset = (t: number) => localWall(t, zone) - t;
  const found: number[] = [];
  for (let t = Date.UTC(year, 0, 1); t < Date.UTC(year + 1, 0, 1); t += DAY) {
    if (offset(t + DAY) === offset(t)) continue;
    let [lo, hi] = [t, t + DAY];
    while (hi - lo > MIN) {
      const mid = lo + Math.floor((hi - lo) / 2 / MIN) * MIN;
      if (offset(mid) === offset(t)) lo = mid;
      else hi = mid;
    }
    found.push(hi);
  }
  return found;
}

/** The local date ("YYYY-MM-DD") `days` days before the instant's local date in the zone. */
const localDateBefore = (instant: number, zone: string, days: number) =>
  new Date(localWall(instant, zone) - days * DAY).toISOString().slice(0, 10);

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    zone: fc.constantFrom(...CALENDAR_ZONES),
    year: fc.integer({ min: 2024, max: 2032 }),
    nearChange: fc.boolean(),
    changePick: fc.nat(),
    dayShift: fc.integer({ min: -3, max: 20 }),
    minuteOfYear: fc.integer({ min: 0, max: 365 * 1440 - 1 }),
    quarterHour: fc.integer({ min: 0, max: 95 }),
    sendAt: fc.integer({ min: 0, max: 95 }).map((q) => q * 15),
    window: windowArb,
    days: fc.oneof(
      fc.constant(WORKWEEK),
      fc.constant(undefined),
      fc.shuffledSubarray(WEEKDAYS, { minLength: 1, maxLength: 6 }),
    ),
    exceptBack: fc.uniqueArray(fc.integer({ min: 0, max: 35 }), { maxLength: 5 }),
    befores: fc.shuffledSubarray(BEFORES, { minLength: 1, maxLength: 4 }),
    channels: fc.array(fc.constantFrom(...CHANNEL_SETS), { minLength: 4, maxLength: 4 }),
    joinBack: fc.integer({ min: 0, max: 40 * 1440 }),
  })
  .map((r) => {
    const changes = transitions(r.zone, r.year);
    const deadline =
      r.nearChange && changes.length > 0
        ? changes[r.changePick % changes.length]! + r.dayShift * DAY + (r.quarterHour - 48) * 15 * MIN
        : Date.UTC(r.year, 0, 1) + r.minuteOfYear * MIN;
    const except = r.exceptBack.map((back) => localDateBefore(deadline, r.zone, back));
    return {
      zone: r.zone,
      deadline,
      now: deadline - r.joinBack * MIN,
      sendAt: Math.min(Math.max(r.sendAt, r.window[0]), r.window[1]),
      window: r.window,
      ...(r.days ? { days: r.days } : {}),
      ...(except.length > 0 ? { except } : {}),
      minGap: { text: 'PT24H', ms: 24 * HOUR },
      steps: r.befores.map((before, i) => ({ id: `s${i}`, before, channels: r.channels[i]! })),
    };
  });

const planned = (c: Case) =>
  planZone(toSchedule(c), c.zone, c.now).map((p) => `${p.step} ${p.channel} ${iso(p.sendAt)} ${p.kind}`);

describe('planZone with weekday windows and excluded dates', { timeout: 120_000 }, () => {
  it('agrees with the brute-force oracle, across DST changes and the date line', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        expect(planned(c), describeCase(c)).toEqual(oracle(c));
      }),
      { numRuns: 250 },
    );
  });

  it('sends only inside the hours, on allowed local days, before the deadline', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        for (const send of planZone(toSchedule(c), c.zone, c.now)) {
          const wall = new Date(localWall(send.sendAt, c.zone));
          const minute = wall.getUTCHours() * 60 + wall.getUTCMinutes();
          const weekday = WEEKDAYS[(wall.getUTCDay() + 6) % 7]!;
          expect(minute).toBeGreaterThanOrEqual(c.window[0]);
          expect(minute).toBeLessThanOrEqual(c.window[1]);
          expect(c.days ?? WEEKDAYS).toContain(weekday);
          expect(c.except ?? []).not.toContain(wall.toISOString().slice(0, 10));
          expect(send.sendAt).toBeLessThan(c.deadline);
          expect(send.sendAt).toBeGreaterThan(c.now - MIN);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('moves a Saturday reminder back to Friday evening, and a weekend catch-up to Monday morning', () => {
    // Deadline Monday 2026-03-30 12:00 in Auckland (UTC+13 until 5 April): the P2D step's
    // candidate is Saturday 28 March at 10:00, outside mon–fri: back to Friday 27 at 18:00.
    const deadline = Date.parse('2026-03-30T12:00:00+13:00');
    const c: Case = {
      zone: 'Pacific/Auckland',
      deadline,
      now: Date.parse('2026-03-01T00:00:00Z'),
      sendAt: 600,
      window: [540, 1080],
      days: WORKWEEK,
      minGap: { text: 'PT24H', ms: 24 * HOUR },
      steps: [{ id: 'd2', before: { text: 'P2D', d: 2 }, channels: ['email'] }],
    };
    expect(planned(c)).toEqual(['d2 email 2026-03-27T05:00:00.000Z scheduled']);
    // Joining on Saturday 28 at 15:00 local: the step is missed; the catch-up waits for Monday 09:00.
    const late = { ...c, now: Date.parse('2026-03-28T15:00:00+13:00') };
    expect(planned(late)).toEqual(['d2 email 2026-03-29T20:00:00.000Z catch-up']);
  });
});
