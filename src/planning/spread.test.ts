import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { MESSAGING_WINDOW_MS, simulateMessagingLimit } from './messaging-limit.ts';
import { createZonePlanner, latestSendBefore } from './planner.ts';
import { partOf, SPREAD_MARGIN_MS, type SpreadSend, spreadPlan } from './spread.ts';
import type { Schedule } from './types.ts';

const H = 60 * 60 * 1000;
const DAY = 24 * H;

function schedule(overrides: Partial<Schedule> = {}): Schedule {
  return {
    deadline: Date.parse('2026-03-20T00:00:00+01:00'),
    sendAt: { hour: 10, minute: 0 },
    window: { start: { hour: 9, minute: 0 }, end: { hour: 20, minute: 0 } },
    catchUpMinGap: 'PT24H',
    steps: [{ id: 'd7', before: 'P7D', channels: ['whatsapp'] }],
    ...overrides,
  };
}

/** The WhatsApp sends of `people` (id → zone) planned at `now`, as the campaign's preview makes them. */
function sendsOf(s: Schedule, people: readonly [string, string][], now: number): SpreadSend[] {
  const planner = createZonePlanner(s, now);
  return people.flatMap(([person, zone]) =>
    planner(zone)
      .filter((p) => p.channel === 'whatsapp')
      .map((p) => ({ person, zone, step: p.step, at: p.sendAt, kind: p.kind })),
  );
}

const paris = (n: number, prefix = 's') =>
  Array.from(
    { length: n },
    (_, i) => [`${prefix}${String(i).padStart(4, '0')}`, 'Europe/Paris'] as [string, string],
  );

describe('partOf', () => {
  it('puts a person in the same part every time, spread about evenly', () => {
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) {
      const part = partOf(`sub-${i}`, 3);
      expect(part).toBe(partOf(`sub-${i}`, 3));
      counts[part]!++;
    }
    for (const n of counts) expect(n).toBeGreaterThan(900);
    expect(partOf('anyone', 1)).toBe(0);
  });
});

describe('spreadPlan', () => {
  const s = schedule();
  const now = Date.parse('2026-03-01T12:00:00Z');
  const latestBefore = latestSendBefore(s);

  it('spreads a 300-person step under a 250 limit over 2 days, nobody held back', () => {
    const sends = sendsOf(s, paris(300), now);
    const plan = spreadPlan(sends, { limit: 250, now, maxDays: 7, latestBefore });
    expect(plan.parts.get('d7')).toBe(2);
    const [step] = plan.steps;
    expect(step).toMatchObject({ step: 'd7', people: 300, heldBack: 0 });
    expect(step!.parts.reduce((a, b) => a + b, 0)).toBe(300);
    for (const n of step!.parts) expect(n).toBeLessThanOrEqual(250);
    // d7 is 10:00 on 13 March in Paris; part 1 one day and an hour earlier: 09:00 on 12 March.
    expect(plan.partTimes('Europe/Paris', sends[0]!.at, 2).map((t) => new Date(t).toISOString())).toEqual([
      '2026-03-13T09:00:00.000Z',
      '2026-03-12T08:00:00.000Z',
    ]);
  });

  it('changes nothing when the step fits, or when the limit is unlimited', () => {
    const sends = sendsOf(s, paris(200), now);
    expect(spreadPlan(sends, { limit: 250, now, maxDays: 7, latestBefore }).steps).toEqual([
      { step: 'd7', people: 200, heldBack: 0, parts: [200] },
    ]);
    expect(
      spreadPlan(sendsOf(s, paris(900), now), { limit: 'unlimited', now, maxDays: 7, latestBefore }).steps,
    ).toEqual([{ step: 'd7', people: 900, heldBack: 0, parts: [900] }]);
  });

  it('says how many are still held back when the days before the step run out', () => {
    // Now is the day before d7: only part 0 and one earlier part fit after now.
    const late = Date.parse('2026-03-12T06:00:00Z');
    const sends = sendsOf(s, paris(600), late);
    const plan = spreadPlan(sends, { limit: 250, now: late, maxDays: 7, latestBefore });
    expect(plan.parts.get('d7')).toBe(2);
    expect(plan.steps[0]!.heldBack).toBe(100);
    // And maxDays caps the parts however many days there are.
    const capped = spreadPlan(sendsOf(s, paris(600), now), { limit: 250, now, maxDays: 1, latestBefore });
    expect(capped.parts.get('d7')).toBe(2);
    expect(capped.steps[0]!.heldBack).toBe(100);
  });

  it('counts the people other steps and earlier campaigns use in those days', () => {
    const two = schedule({
      steps: [
        { id: 'd7', before: 'P7D', channels: ['whatsapp'] },
        { id: 'd1', before: 'P1D', channels: ['whatsapp'] },
      ],
    });
    // 200 people get d7; 200 others only d1's day but d1 six days later: they do not meet.
    const sends = sendsOf(two, paris(200), now);
    const counted = new Map(Array.from({ length: 100 }, (_, i) => [`old${i}`, now - H] as const));
    const plan = spreadPlan(sends, {
      limit: 250,
      counted,
      now,
      maxDays: 7,
      latestBefore: latestSendBefore(two),
    });
    expect(plan.steps.map((x) => x.heldBack)).toEqual([0, 0]);
    expect(plan.parts.get('d1')).toBe(1);
  });

  it('keeps the parts a started campaign stored', () => {
    const sends = sendsOf(s, paris(300), now);
    const plan = spreadPlan(sends, {
      limit: 250,
      now,
      maxDays: 7,
      latestBefore,
      fixedParts: new Map([['d7', 3]]),
    });
    expect(plan.parts.get('d7')).toBe(3);
    expect(plan.steps[0]!.parts).toHaveLength(3);
  });
});

const ZONES = ['Europe/Paris', 'America/New_York', 'Asia/Kolkata', 'Australia/Sydney', 'UTC'];

describe('spreadPlan, generated campaigns', () => {
  it('never sends a part late, outside the window, before now, or closer than a day and a margin to the next; each part fits', () => {
    fc.assert(
      fc.property(
        fc.record({
          people: fc.integer({ min: 1, max: 700 }),
          zones: fc.subarray(ZONES, { minLength: 1 }),
          limit: fc.integer({ min: 40, max: 400 }),
          nowDaysBefore: fc.integer({ min: 1, max: 12 }),
          start: fc.integer({ min: 0, max: 12 }),
          length: fc.integer({ min: 0, max: 11 }),
          weekdays: fc.boolean(),
          maxDays: fc.integer({ min: 1, max: 10 }),
          jitter: fc.double({ min: 0, max: 0.99, noNaN: true }),
        }),
        (g) => {
          const s = schedule({
            sendAt: { hour: g.start + Math.floor(g.length / 2), minute: 0 },
            window: {
              start: { hour: g.start, minute: 0 },
              end: { hour: g.start + g.length, minute: 30 },
              ...(g.weekdays ? { days: ['mon', 'tue', 'wed', 'thu', 'fri'] } : {}),
            },
          });
          const now = s.deadline - 7 * DAY - g.nowDaysBefore * DAY;
          const people = Array.from(
            { length: g.people },
            (_, i) => [`p${i}`, g.zones[i % g.zones.length]!] as [string, string],
          );
          const sends = sendsOf(s, people, now);
          const latestBefore = latestSendBefore(s);
          const plan = spreadPlan(sends, { limit: g.limit, now, maxDays: g.maxDays, latestBefore });
          const parts = plan.parts.get('d7') ?? 1;
          expect(parts).toBeLessThanOrEqual(g.maxDays + 1);
          const rank = new Map<string, number>();
          const spread = sends.map((x) => {
            const times = plan.partTimes(x.zone, x.at, parts);
            const at = times[partOf(x.person, parts)]!;
            // Early, never late; after now; inside the window on an allowed day.
            expect(at).toBeLessThanOrEqual(x.at);
            expect(at).toBeGreaterThan(now);
            expect(latestBefore(x.zone, at)).toBe(at);
            for (let p = 1; p < times.length; p++)
              expect(times[p - 1]! - times[p]!).toBeGreaterThanOrEqual(
                MESSAGING_WINDOW_MS + SPREAD_MARGIN_MS,
              );
            // A part's people go out one after the other, over up to the margin.
            const k = `${x.zone}@${at}`;
            const i = rank.get(k) ?? 0;
            rank.set(k, i + 1);
            return {
              person: x.person,
              step: x.step,
              at: at + Math.floor((g.jitter * SPREAD_MARGIN_MS * i) / g.people),
            };
          });
          const [step] = plan.steps;
          expect(step!.parts.reduce((a, b) => a + b, 0)).toBe(g.people);
          if (g.zones.length === 1) {
            // The gate's rule, with each part taking its time to go out, holds back what the plan
            // says; a plan that holds nobody back has every part within the limit.
            expect(simulateMessagingLimit(spread, g.limit)[0]!.heldBack).toBe(step!.heldBack);
            if (step!.heldBack === 0) for (const n of step!.parts) expect(n).toBeLessThanOrEqual(g.limit);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('spreads one zone of N people under limit L over ceil-ish N / L days when there is room', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1200 }), fc.integer({ min: 200, max: 500 }), (n, limit) => {
        const s = schedule();
        const now = s.deadline - 20 * DAY;
        const sends = sendsOf(s, paris(n, 'x'), now);
        const plan = spreadPlan(sends, { limit, now, maxDays: 12, latestBefore: latestSendBefore(s) });
        expect(plan.steps[0]!.heldBack).toBe(0);
        const parts = plan.parts.get('d7') ?? 1;
        expect(parts).toBeGreaterThanOrEqual(Math.ceil(n / limit));
        // The fewest parts that fit: one fewer would hold someone back (or not be needed).
        if (parts > 1) {
          const fewer = spreadPlan(sends, {
            limit,
            now,
            maxDays: 12,
            latestBefore: latestSendBefore(s),
            fixedParts: new Map([['d7', parts - 1]]),
          });
          expect(fewer.steps[0]!.heldBack).toBeGreaterThan(0);
        }
        expect(DateTime.fromMillis(plan.partTimes('Europe/Paris', sends[0]!.at, parts).at(-1)!).isValid).toBe(
          true,
        );
      }),
      { numRuns: 60 },
    );
  });
});
