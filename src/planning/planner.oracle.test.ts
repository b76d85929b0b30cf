// Property test: planZone against the brute-force oracle of test/support/planner-oracle.ts, which is
// written from the rules of docs/campaigns.md, "Planning", alone and shares no code with the
// planner. Cases are drawn with a seeded generator, weighted towards DST changes, night-time
// windows and joining exactly at a send time, so a failure always reproduces (its seed and case are
// in the message).

import { describe, expect, it } from 'vitest';
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
import type { Channel } from '../shared/vocabulary.ts';
import { planZone } from './planner.ts';

// ---------------------------------------------------------------------------- the cases

const ZONES = [
  'Europe/Paris',
  'America/New_York',
  'Australia/Sydney',
  'Australia/Lord_Howe',
  'Asia/Kathmandu',
  'Pacific/Chatham',
  'Pacific/Kiritimati',
  'America/St_Johns',
  'Pacific/Pago_Pago',
  'Antarctica/Troll', // two-hour shift
  'America/Santiago', // changes at midnight
  'America/Havana', // changes at midnight and 01:00
  'Africa/Casablanca', // two changes a year around Ramadan
  'Europe/Dublin', // "negative" DST in tzdata
  'America/Nuuk',
  'Asia/Tehran',
  'Pacific/Apia',
  'UTC',
];

const BEFORES: Dur[] = [
  { text: 'P30D', d: 30 },
  { text: 'P7D', d: 7 },
  { text: 'P1D', d: 1 },
  { text: 'PT6H', ms: 6 * HOUR },
  { text: 'P1M', mo: 1 },
  { text: 'P1DT6H', d: 1, ms: 6 * HOUR },
  { text: 'PT90M', ms: 90 * MIN },
  { text: 'P2W', w: 2 },
  { text: 'P1Y', y: 1 },
  { text: 'P0D' },
  { text: 'PT0S', ms: 0 },
  { text: 'PT1H', ms: HOUR },
  { text: 'PT30M', ms: 30 * MIN },
  { text: 'P1DT0H', d: 1, ms: 0 },
  { text: 'P3D', d: 3 },
  { text: 'PT25H', ms: 25 * HOUR },
  { text: 'P1MT12H', mo: 1, ms: 12 * HOUR },
  { text: 'PT45S', ms: 45_000 },
];

const MIN_GAPS: Dur[] = [
  { text: 'PT24H', ms: 24 * HOUR },
  { text: 'P1D', d: 1 },
  { text: 'PT0S', ms: 0 },
  { text: 'PT12H', ms: 12 * HOUR },
  { text: 'P2D', d: 2 },
  { text: 'P1DT1H', d: 1, ms: HOUR },
];

const CHANNEL_SETS: Channel[][] = [['whatsapp'], ['email'], ['whatsapp', 'email'], ['email', 'whatsapp']];

function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const transitionCache = new Map<string, number[]>();
/** Instants (whole minutes) where the zone's offset changes during the year. */
function transitions(zone: string, year: number): number[] {
  const key = `${zone} ${year}`;
  const cached = transitionCache.get(key);
  if (cached) return cached;
  const offset = (t: number) => localWall(t, zone) - t;
  const found: number[] = [];
  let previous = offset(Date.UTC(year, 0, 1));
  for (let t = Date.UTC(year, 0, 1); t < Date.UTC(year + 1, 0, 1); t += DAY) {
    const next = offset(t + DAY);
    if (next === previous) continue;
    let lo = t;
    let hi = t + DAY;
    while (hi - lo > MIN) {
      const mid = lo + Math.floor((hi - lo) / 2 / MIN) * MIN;
      if (offset(mid) === previous) lo = mid;
      else hi = mid;
    }
    found.push(hi);
    previous = next;
  }
  transitionCache.set(key, found);
  return found;
}

function makeCase(seed: number): Case {
  const rnd = random(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;

  const zone = pick(ZONES);
  const year = 2021 + int(15);
  const changes = transitions(zone, year);
  const grid = rnd() < 0.6 ? 15 : 1;
  let deadline: number;
  if (changes.length > 0 && rnd() < 0.75) {
    const days = pick([0, 0, 1, 1, 2, 3, 7, 14, 30, 31, 365]);
    deadline = pick(changes) + days * DAY + (int(49) - 24) * 30 * MIN + int(60 / grid) * grid * MIN;
  } else {
    deadline = Date.UTC(year, 0, 1) + int(365 * 1440) * MIN;
  }
  if (rnd() < 0.1) deadline += (1 + int(59)) * 1000;

  const sendAt = rnd() < 0.4 ? int(17) * 15 : int(1440);
  let window: [number, number];
  if (rnd() < 0.35) {
    const start = int(4 * 4) * 15;
    window = [start, Math.min(1439, start + int(8 * 4) * 15)];
  } else {
    const start = int(720);
    window = [start, start + int(1440 - start)];
  }
  const stepCount = 1 + int(5);
  const befores = [...BEFORES].sort(() => rnd() - 0.5).slice(0, stepCount);
  const steps = befores.map((before, i) => ({ id: `s${i}`, before, channels: pick(CHANNEL_SETS) }));
  const minGap = pick(MIN_GAPS);

  let now: number;
  const mode = rnd();
  if (mode < 0.3 && changes.length > 0) now = pick(changes) + (int(13) - 6) * 30 * MIN;
  else if (mode < 0.45) now = deadline + (int(5) - 3) * MIN;
  else now = deadline - int(45 * 1440) * MIN + (rnd() < 0.2 ? int(60_000) : 0);
  const base: Case = { zone, deadline, now, sendAt, window, minGap, steps };
  if (rnd() < 0.3) {
    // Join exactly at one of the send times: it must count as missed.
    const sends = planZone(toSchedule(base), zone, deadline - 400 * DAY);
    if (sends.length > 0) now = pick(sends).sendAt;
  }
  return { ...base, now };
}

function planned(c: Case): string[] {
  return planZone(toSchedule(c), c.zone, c.now).map(
    (p) => `${p.step} ${p.channel} ${iso(p.sendAt)} ${p.kind}`,
  );
}

describe('planZone agrees with a brute-force oracle', () => {
  it('on the hand-computed shipped campaign', () => {
    const c: Case = {
      zone: 'Europe/Paris',
      deadline: Date.parse('2026-01-15T00:00:00+01:00'),
      now: Date.parse('2026-01-10T12:00:00Z'),
      sendAt: 600,
      window: [540, 1200],
      minGap: MIN_GAPS[0]!,
      steps: [
        { id: 'd30', before: BEFORES[0]!, channels: ['whatsapp', 'email'] },
        { id: 'd7', before: BEFORES[1]!, channels: ['whatsapp', 'email'] },
        { id: 'd1', before: BEFORES[2]!, channels: ['whatsapp', 'email'] },
        { id: 'h6', before: BEFORES[3]!, channels: ['whatsapp'] },
      ],
    };
    const expected = [
      'd7 whatsapp 2026-01-10T12:00:00.000Z catch-up',
      'd7 email 2026-01-10T12:00:00.000Z catch-up',
      'd1 whatsapp 2026-01-14T09:00:00.000Z scheduled',
      'd1 email 2026-01-14T09:00:00.000Z scheduled',
      'h6 whatsapp 2026-01-14T17:00:00.000Z scheduled',
    ];
    expect(oracle(c)).toEqual(expected);
    expect(planned(c)).toEqual(expected);
  });

  it('on 1,500 random campaigns, zones, dates and joining times', () => {
    let sends = 0;
    let catchUps = 0;
    for (let seed = 1; seed <= 1500; seed++) {
      const c = makeCase(seed);
      const expected = oracle(c);
      expect(planned(c), `seed ${seed}: ${describeCase(c)}`).toEqual(expected);
      sends += expected.length;
      catchUps += expected.filter((line) => line.endsWith('catch-up')).length;
    }
    // The generator really exercises both paths.
    expect(sends).toBeGreaterThan(2000);
    expect(catchUps).toBeGreaterThan(200);
  });
});
