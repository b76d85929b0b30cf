import { describe, expect, it } from 'vitest';
import { both, lines, schedule, time } from '../../test/support/planning-fixtures.ts';
import { createZonePlanner, planSubscriber, planZone } from './planner.ts';

// Every expected instant in this file is a literal worked out by hand (UTC), never a value
// computed by the code under test. Timing details (DST, calendar, window) are in
// planner.timing.test.ts; late joiners in catch-up.test.ts.

describe('the shipped campaign, planned on 1 December 2025', () => {
  const now = '2025-12-01T00:00:00Z';
  it.each([
    // Paris, +01:00 all winter: D = 15 Jan 00:00 local; h6 = 14 Jan 18:00 local.
    [
      'Europe/Paris',
      ['2025-12-16T09:00:00Z', '2026-01-08T09:00:00Z', '2026-01-14T09:00:00Z', '2026-01-14T17:00:00Z'],
    ],
    // New York, -05:00: D = 14 Jan 18:00 local; h6 = 14 Jan 12:00 local.
    [
      'America/New_York',
      ['2025-12-15T15:00:00Z', '2026-01-07T15:00:00Z', '2026-01-13T15:00:00Z', '2026-01-14T17:00:00Z'],
    ],
    // Kathmandu, +05:45: D = 15 Jan 04:45 local; h6 = 14 Jan 22:45 local → back to 20:00.
    [
      'Asia/Kathmandu',
      ['2025-12-16T04:15:00Z', '2026-01-08T04:15:00Z', '2026-01-14T04:15:00Z', '2026-01-14T14:15:00Z'],
    ],
    // Chatham, +13:45 (summer): D = 15 Jan 12:45 local; h6 = 15 Jan 06:45 → 14 Jan 20:00.
    [
      'Pacific/Chatham',
      ['2025-12-15T20:15:00Z', '2026-01-07T20:15:00Z', '2026-01-13T20:15:00Z', '2026-01-14T06:15:00Z'],
    ],
    // Kiritimati, +14:00: D = 15 Jan 13:00 local; h6 = 15 Jan 07:00 → 14 Jan 20:00.
    [
      'Pacific/Kiritimati',
      ['2025-12-15T20:00:00Z', '2026-01-07T20:00:00Z', '2026-01-13T20:00:00Z', '2026-01-14T06:00:00Z'],
    ],
    // St John's, -03:30: D = 14 Jan 19:30 local; h6 = 14 Jan 13:30 local.
    [
      'America/St_Johns',
      ['2025-12-15T13:30:00Z', '2026-01-07T13:30:00Z', '2026-01-13T13:30:00Z', '2026-01-14T17:00:00Z'],
    ],
    // Pago Pago, -11:00: D = 14 Jan 12:00 local; h6 = 14 Jan 06:00 → 13 Jan 20:00.
    [
      'Pacific/Pago_Pago',
      ['2025-12-15T21:00:00Z', '2026-01-07T21:00:00Z', '2026-01-13T21:00:00Z', '2026-01-14T07:00:00Z'],
    ],
    // Sydney, +11:00 (summer): D = 15 Jan 10:00 local; h6 = 15 Jan 04:00 → 14 Jan 20:00.
    [
      'Australia/Sydney',
      ['2025-12-15T23:00:00Z', '2026-01-07T23:00:00Z', '2026-01-13T23:00:00Z', '2026-01-14T09:00:00Z'],
    ],
  ])('%s', (zone, [d30, d7, d1, h6]) => {
    expect(lines(schedule(), zone, now)).toEqual([
      `d30 whatsapp ${d30} scheduled`,
      `d30 email ${d30} scheduled`,
      `d7 whatsapp ${d7} scheduled`,
      `d7 email ${d7} scheduled`,
      `d1 whatsapp ${d1} scheduled`,
      `d1 email ${d1} scheduled`,
      `h6 whatsapp ${h6} scheduled`,
    ]);
  });
});

describe('steps landing on the same instant', () => {
  it('keep only the step closest to the deadline, per channel', () => {
    // 21:00 and 22:00 local both move back to 20:00 (19:00Z). WhatsApp keeps h2; email only has h3.
    const s = schedule({
      steps: [
        { id: 'h3', before: 'PT3H', channels: both },
        { id: 'h2', before: 'PT2H', channels: ['whatsapp'] },
      ],
    });
    expect(lines(s, 'Europe/Paris', '2026-01-01T00:00:00Z')).toEqual([
      'h3 email 2026-01-14T19:00:00Z scheduled',
      'h2 whatsapp 2026-01-14T19:00:00Z scheduled',
    ]);
  });

  it('whatever the order of the steps in the file', () => {
    const s = schedule({
      steps: [
        { id: 'h2', before: 'PT2H', channels: ['whatsapp'] },
        { id: 'h3', before: 'PT3H', channels: both },
      ],
    });
    expect(lines(s, 'Europe/Paris', '2026-01-01T00:00:00Z')).toEqual([
      'h2 whatsapp 2026-01-14T19:00:00Z scheduled',
      'h3 email 2026-01-14T19:00:00Z scheduled',
    ]);
  });

  it('closest means the later candidate, even for a longer `before`', () => {
    // d1 at sendAt 22:00 (candidate 14 Jan 22:00) is closer than h3 (candidate 14 Jan 21:00).
    const s = schedule({
      sendAt: time('22:00'),
      steps: [
        { id: 'h3', before: 'PT3H', channels: ['email'] },
        { id: 'd1', before: 'P1D', channels: ['email'] },
      ],
    });
    expect(lines(s, 'Europe/Paris', '2026-01-01T00:00:00Z')).toEqual([
      'd1 email 2026-01-14T19:00:00Z scheduled',
    ]);
  });

  it('on equal candidates (P7D and P1W), keeps the step listed later', () => {
    const s = schedule({
      steps: [
        { id: 'week', before: 'P1W', channels: ['email'] },
        { id: 'seven', before: 'P7D', channels: ['email'] },
      ],
    });
    expect(lines(s, 'Europe/Paris', '2026-01-01T00:00:00Z')).toEqual([
      'seven email 2026-01-08T09:00:00Z scheduled',
    ]);
  });

  it('lists a channel once even if a step names it twice', () => {
    const s = schedule({ steps: [{ id: 'd1', before: 'P1D', channels: ['email', 'email'] }] });
    expect(lines(s, 'Europe/Paris', '2026-01-01T00:00:00Z')).toEqual([
      'd1 email 2026-01-14T09:00:00Z scheduled',
    ]);
  });
});

describe('planSubscriber', () => {
  const now = Date.parse('2025-12-01T00:00:00Z');
  it('narrows to the subscriber’s channels', () => {
    const sends = planSubscriber(schedule(), 'Europe/Paris', ['email'], now);
    expect(sends.map((s) => `${s.step} ${s.channel}`)).toEqual(['d30 email', 'd7 email', 'd1 email']);
    expect(planSubscriber(schedule(), 'Europe/Paris', [], now)).toEqual([]);
    expect(planSubscriber(schedule(), 'Europe/Paris', ['email', 'whatsapp'], now)).toHaveLength(7);
  });
});

describe('createZonePlanner', () => {
  it('plans each zone once and shares the frozen result', () => {
    const now = Date.parse('2025-12-01T00:00:00Z');
    const planFor = createZonePlanner(schedule(), now);
    const paris = planFor('Europe/Paris');
    expect(planFor('Europe/Paris')).toBe(paris);
    expect(paris).toEqual(planZone(schedule(), 'Europe/Paris', now));
    expect(planFor('Asia/Kathmandu')).toEqual(planZone(schedule(), 'Asia/Kathmandu', now));
    expect(Object.isFrozen(paris)).toBe(true);
    expect(Object.isFrozen(paris[0])).toBe(true);
  });

  it('plans a million subscribers in a handful of zones quickly', () => {
    const planFor = createZonePlanner(schedule(), Date.parse('2025-12-01T00:00:00Z'));
    const zones = ['Europe/Paris', 'America/New_York', 'Asia/Kathmandu', 'Pacific/Chatham'];
    const started = performance.now();
    let sends = 0;
    for (let i = 0; i < 1_000_000; i++) sends += planFor(zones[i % zones.length]!).length;
    expect(sends).toBe(7_000_000);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('bad input', () => {
  it('names the unknown zone', () => {
    expect(() => planZone(schedule(), 'Mars/Olympus', 0)).toThrow(/unknown IANA time zone "Mars\/Olympus"/);
  });

  it('names the step whose duration is invalid', () => {
    const s = schedule({ steps: [{ id: 'x', before: 'P1.5D', channels: both }] });
    expect(() => planZone(s, 'Europe/Paris', 0)).toThrow(/steps\[0\]\.before: .*whole numbers.*"P1\.5D"/);
  });

  it('refuses a window that spans midnight', () => {
    const s = schedule({ window: { start: time('20:00'), end: time('09:00') } });
    expect(() => planZone(s, 'Europe/Paris', 0)).toThrow(/window: start must not be after end/);
  });
});
