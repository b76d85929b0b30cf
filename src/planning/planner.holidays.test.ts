// Public holidays (window.holidays; docs/audiences.md, "Public holidays") as properties, with
// fast-check: planning a subscriber of a country with holidays on is planning them with that
// country's holidays listed in `window.except`, so planZone agrees with the brute-force oracle of
// test/support/planner-oracle.ts given those dates (read here from the library on their own, not
// through holidays.ts); and what a subscriber would check by hand: no send on a holiday of their
// country, inside the hours, on an allowed day, never after the deadline and never before its
// step's candidate would allow (early, never late). Deadlines sit just after a holiday, in zones
// across DST changes and the date line.

import Holidays from 'date-holidays';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CALENDAR_ZONES, CHANNEL_SETS, WEEKDAYS, windowArb } from '../../test/support/calendar-cases.ts';
import {
  type Case,
  type Dur,
  describeCase,
  HOUR,
  iso,
  localWall,
  MIN,
  oracle,
  toSchedule,
} from '../../test/support/planner-oracle.ts';
import { marketingRetryAt, planZone } from './planner.ts';
import type { Schedule } from './types.ts';

const COUNTRIES = ['FR', 'GB', 'NZ', 'US', 'CA', 'AU', 'ES', 'TO'];
const BEFORES: Dur[] = [
  { text: 'P7D', d: 7 },
  { text: 'P1D', d: 1 },
  { text: 'PT6H', ms: 6 * HOUR },
  { text: 'P1DT6H', d: 1, ms: 6 * HOUR },
  { text: 'P3D', d: 3 },
  { text: 'P2D', d: 2 },
  { text: 'PT30M', ms: 30 * MIN },
];

/** A country's public holidays of a year and the one before ("YYYY-MM-DD"), from the library. */
function publicHolidays(country: string, year: number): string[] {
  const library = new Holidays(country);
  return [year - 1, year].flatMap((y) =>
    (library.getHolidays(y) || []).filter((h) => h.type === 'public').map((h) => h.date.slice(0, 10)),
  );
}

interface HolidayCase extends Case {
  readonly country: string;
  /** The country's public holidays, the two years up to the deadline's. */
  readonly holidays: readonly string[];
}

const caseArb: fc.Arbitrary<HolidayCase> = fc
  .record({
    zone: fc.constantFrom(...CALENDAR_ZONES),
    country: fc.constantFrom(...COUNTRIES),
    year: fc.integer({ min: 2025, max: 2031 }),
    holidayPick: fc.nat(),
    minutesAfter: fc.integer({ min: -1440, max: 8 * 1440 }),
    sendAt: fc.integer({ min: 0, max: 95 }).map((q) => q * 15),
    window: windowArb,
    days: fc.oneof(
      fc.constant(undefined),
      fc.constant(['mon', 'tue', 'wed', 'thu', 'fri']),
      fc.shuffledSubarray(WEEKDAYS, { minLength: 1, maxLength: 6 }),
    ),
    befores: fc.shuffledSubarray(BEFORES, { minLength: 1, maxLength: 4 }),
    channels: fc.array(fc.constantFrom(...CHANNEL_SETS), { minLength: 4, maxLength: 4 }),
    joinBack: fc.integer({ min: 0, max: 20 * 1440 }),
  })
  .map((r): HolidayCase => {
    const ofYear = publicHolidays(r.country, r.year).filter((d) => d.startsWith(String(r.year)));
    const holiday = ofYear[r.holidayPick % ofYear.length]!;
    // The holiday's local midnight in the zone (near enough: the offset of the UTC midnight).
    const utcMidnight = Date.parse(`${holiday}T00:00:00Z`);
    const midnight = utcMidnight - (localWall(utcMidnight, r.zone) - utcMidnight);
    const deadline = midnight + r.minutesAfter * MIN;
    const year = new Date(localWall(deadline, r.zone)).getUTCFullYear();
    return {
      zone: r.zone,
      country: r.country,
      holidays: publicHolidays(r.country, year),
      deadline,
      now: deadline - r.joinBack * MIN,
      sendAt: Math.min(Math.max(r.sendAt, r.window[0]), r.window[1]),
      window: r.window,
      ...(r.days ? { days: r.days } : {}),
      minGap: { text: 'PT24H', ms: 24 * HOUR },
      steps: r.befores.map((before, i) => ({ id: `s${i}`, before, channels: r.channels[i]! })),
    };
  });

const withHolidays = (c: HolidayCase): Schedule => {
  const schedule = toSchedule(c);
  return { ...schedule, window: { ...schedule.window, holidays: { types: ['public'] } } };
};

const planned = (c: HolidayCase) =>
  planZone(withHolidays(c), c.zone, c.now, c.country).map(
    (p) => `${p.step} ${p.channel} ${iso(p.sendAt)} ${p.kind}`,
  );

const describeHolidayCase = (c: HolidayCase) => `${describeCase(c)} country=${c.country}`;

describe('planZone with public holidays', { timeout: 120_000 }, () => {
  it("agrees with the oracle given the country's holidays as excluded dates", () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        expect(planned(c), describeHolidayCase(c)).toEqual(oracle({ ...c, except: c.holidays }));
      }),
      { numRuns: 150 },
    );
  });

  it("never sends on a holiday of the subscriber's country; inside the hours; early, never late", () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const without = planZone(toSchedule(c), c.zone, c.now);
        const sends = planZone(withHolidays(c), c.zone, c.now, c.country);
        for (const send of sends) {
          const wall = new Date(localWall(send.sendAt, c.zone));
          const minute = wall.getUTCHours() * 60 + wall.getUTCMinutes();
          expect(c.holidays, describeHolidayCase(c)).not.toContain(wall.toISOString().slice(0, 10));
          expect(minute).toBeGreaterThanOrEqual(c.window[0]);
          expect(minute).toBeLessThanOrEqual(c.window[1]);
          expect(c.days ?? WEEKDAYS).toContain(WEEKDAYS[(wall.getUTCDay() + 6) % 7]);
          expect(send.sendAt).toBeLessThan(c.deadline);
          expect(send.sendAt).toBeGreaterThan(c.now - MIN);
          // A scheduled send never comes later than the same step without holidays: a holiday
          // moves it back, never forward.
          const plain = without.find((s) => s.step === send.step && s.channel === send.channel);
          if (send.kind === 'scheduled' && plain?.kind === 'scheduled')
            expect(send.sendAt).toBeLessThanOrEqual(plain.sendAt);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('gives two subscribers of one zone different instants around a holiday of one of them', () => {
    // Deadline Wednesday 15 July 2026 at noon in Paris; the P1D step falls on 14 July, a public
    // holiday in France and not in the United Kingdom.
    const deadline = Date.parse('2026-07-15T12:00:00+02:00');
    const c: HolidayCase = {
      zone: 'Europe/Paris',
      country: 'FR',
      holidays: [],
      deadline,
      now: Date.parse('2026-07-01T00:00:00Z'),
      sendAt: 600,
      window: [540, 1080],
      minGap: { text: 'PT24H', ms: 24 * HOUR },
      steps: [{ id: 'd1', before: { text: 'P1D', d: 1 }, channels: ['email'] }],
    };
    expect(planned(c)).toEqual(['d1 email 2026-07-13T16:00:00.000Z scheduled']);
    expect(planned({ ...c, country: 'GB' })).toEqual(['d1 email 2026-07-14T08:00:00.000Z scheduled']);
    // No country, or one the library does not know: no holidays.
    expect(planned({ ...c, country: '' })).toEqual(['d1 email 2026-07-14T08:00:00.000Z scheduled']);
    expect(planned({ ...c, country: 'ZZ' })).toEqual(['d1 email 2026-07-14T08:00:00.000Z scheduled']);
    // A catch-up on the holiday waits for the next day.
    const late = { ...c, now: Date.parse('2026-07-14T07:00:00Z') };
    expect(planned(late)).toEqual(['d1 email 2026-07-15T07:00:00.000Z catch-up']);
  });

  it("tries a marketing-limited message again on the next day that is not a holiday of the subscriber's country", () => {
    const c: HolidayCase = {
      zone: 'Europe/Paris',
      country: 'FR',
      holidays: [],
      deadline: Date.parse('2026-07-15T12:00:00+02:00'),
      now: 0,
      sendAt: 600,
      window: [540, 1080],
      minGap: { text: 'PT24H', ms: 24 * HOUR },
      steps: [{ id: 'd1', before: { text: 'P1D', d: 1 }, channels: ['whatsapp'] }],
    };
    // Refused at 17:30 on Monday 13 July: an hour later is past 18:00; 14 July is a French holiday.
    const refusedAt = Date.parse('2026-07-13T17:30:00+02:00');
    expect(iso(marketingRetryAt(withHolidays(c), c.zone, refusedAt, 1, 'FR')!)).toBe(
      '2026-07-15T07:00:00.000Z',
    );
    expect(iso(marketingRetryAt(withHolidays(c), c.zone, refusedAt, 1, 'GB')!)).toBe(
      '2026-07-14T07:00:00.000Z',
    );
  });
});
