import { IANAZone } from 'luxon';
import { describe, expect, it } from 'vitest';
import { ceilMinute, earliestInWindow, floorMinute, latestInWindow } from './window.ts';

const at = (text: string): number => Date.parse(text);
const iso = (instant: number): string => new Date(instant).toISOString().replace('.000Z', 'Z');
const hm = (text: string): number => Number(text.slice(0, 2)) * 60 + Number(text.slice(3, 5));
const win = (start: string, end: string) => ({ start: hm(start), end: hm(end) });
const paris = IANAZone.create('Europe/Paris');

describe('whole minutes', () => {
  it('rounds down and up to the minute', () => {
    expect(iso(floorMinute(at('2026-01-14T09:00:59.999Z')))).toBe('2026-01-14T09:00:00Z');
    expect(iso(ceilMinute(at('2026-01-14T09:00:00.001Z')))).toBe('2026-01-14T09:01:00Z');
    expect(iso(ceilMinute(at('2026-01-14T09:00:00Z')))).toBe('2026-01-14T09:00:00Z');
  });
});

describe('latestInWindow (Paris, 09:00–20:00)', () => {
  const w = win('09:00', '20:00');
  it.each([
    ['inside', '2026-01-14T14:37:00+01:00', '2026-01-14T13:37:00Z'],
    ['exactly at start', '2026-01-14T09:00:00+01:00', '2026-01-14T08:00:00Z'],
    ['exactly at end', '2026-01-14T20:00:00+01:00', '2026-01-14T19:00:00Z'],
    ['at end with seconds', '2026-01-14T20:00:59+01:00', '2026-01-14T19:00:00Z'],
    ['one minute past end', '2026-01-14T20:01:00+01:00', '2026-01-14T19:00:00Z'],
    ['just before midnight', '2026-01-14T23:59:00+01:00', '2026-01-14T19:00:00Z'],
    ['one minute before start', '2026-01-14T08:59:00+01:00', '2026-01-13T19:00:00Z'],
    ['at midnight', '2026-01-15T00:00:00+01:00', '2026-01-14T19:00:00Z'],
  ])('%s', (_, limit, expected) => {
    expect(iso(latestInWindow(paris, at(limit), w))).toBe(expected);
  });

  it('goes back to the end of the window on the previous local day across the spring change', () => {
    // 29 March 03:30 CEST is before 09:00: back to 28 March 20:00 CET.
    expect(iso(latestInWindow(paris, at('2026-03-29T03:30:00+02:00'), w))).toBe('2026-03-28T19:00:00Z');
  });
});

describe('latestInWindow with window edges inside DST changes', () => {
  it('an end inside the spring gap stops at the last minute before the gap', () => {
    // Window 01:00–02:30 on 29 March: 02:00–02:59 does not exist, so 01:59 CET is the latest.
    expect(iso(latestInWindow(paris, at('2026-03-29T10:00:00+02:00'), win('01:00', '02:30')))).toBe(
      '2026-03-29T00:59:00Z',
    );
  });

  it('an end inside the autumn overlap is its second occurrence, the later instant', () => {
    expect(iso(latestInWindow(paris, at('2026-10-25T09:00:00+01:00'), win('01:00', '02:30')))).toBe(
      '2026-10-25T01:30:00Z',
    );
  });

  it('a limit inside the second pass of the overlap stays where it is when in window', () => {
    expect(iso(latestInWindow(paris, at('2026-10-25T02:10:00+01:00'), win('01:00', '02:30')))).toBe(
      '2026-10-25T01:10:00Z',
    );
  });

  it('Lord Howe: 30-minute autumn overlap with the end at 01:45', () => {
    // 5 April 01:30–01:59 occurs at +11 then at +10:30; the second 01:45 is 15:15Z.
    const lordHowe = IANAZone.create('Australia/Lord_Howe');
    expect(iso(latestInWindow(lordHowe, at('2026-04-05T09:00:00+10:30'), win('00:00', '01:45')))).toBe(
      '2026-04-04T15:15:00Z',
    );
  });
});

describe('earliestInWindow (Paris)', () => {
  const w = win('09:00', '20:00');
  it.each([
    ['inside, rounded up to the minute', '2026-01-14T13:37:20+01:00', '2026-01-14T12:38:00Z'],
    ['exactly at start', '2026-01-14T09:00:00+01:00', '2026-01-14T08:00:00Z'],
    ['exactly at end', '2026-01-14T20:00:00+01:00', '2026-01-14T19:00:00Z'],
    ['one second past end', '2026-01-14T20:00:01+01:00', '2026-01-15T08:00:00Z'],
    ['before start', '2026-01-14T06:00:00+01:00', '2026-01-14T08:00:00Z'],
    ['after end', '2026-01-14T21:00:00+01:00', '2026-01-15T08:00:00Z'],
    ['after end, the evening before the spring change', '2026-03-28T21:00:00+01:00', '2026-03-29T07:00:00Z'],
  ])('%s', (_, from, expected) => {
    expect(iso(earliestInWindow(paris, at(from), w))).toBe(expected);
  });

  it('a start inside the spring gap is reached at the first minute after the gap', () => {
    // Window 02:30–20:00 on 29 March: 03:00 CEST is the first local time >= 02:30.
    expect(iso(earliestInWindow(paris, at('2026-03-29T00:30:00+01:00'), win('02:30', '20:00')))).toBe(
      '2026-03-29T01:00:00Z',
    );
  });

  it('a start inside the autumn overlap: first occurrence from the first pass, second from the second', () => {
    const w2 = win('02:30', '20:00');
    expect(iso(earliestInWindow(paris, at('2026-10-25T01:00:00+02:00'), w2))).toBe('2026-10-25T00:30:00Z');
    expect(iso(earliestInWindow(paris, at('2026-10-25T02:10:00+01:00'), w2))).toBe('2026-10-25T01:30:00Z');
  });

  it('an end inside the autumn overlap keeps the second pass in the window', () => {
    // Window 00:00–02:30: at 02:45 CEST the local time is past the end, but 02:00 CET follows.
    expect(iso(earliestInWindow(paris, at('2026-10-25T02:45:00+02:00'), win('00:00', '02:30')))).toBe(
      '2026-10-25T01:00:00Z',
    );
  });
});
