import { IANAZone } from 'luxon';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { canonicalZone, isValidZone, parseLocalTime, resolveWall, wallOf } from './local-time.ts';

/** A local wall time written as "YYYY-MM-DDTHH:MM", as the planner's UTC-like wall value. */
const wall = (text: string): number => Date.parse(`${text}:00Z`);
const iso = (instant: number): string => new Date(instant).toISOString().replace('.000Z', 'Z');
const resolve = (zone: string, local: string): string => iso(resolveWall(IANAZone.create(zone), wall(local)));

describe('parseLocalTime', () => {
  it.each([
    ['10:00', { hour: 10, minute: 0 }],
    ['09:05', { hour: 9, minute: 5 }],
    ['9:05', { hour: 9, minute: 5 }],
    ['00:00', { hour: 0, minute: 0 }],
    ['23:59', { hour: 23, minute: 59 }],
  ])('reads %s', (text, time) => {
    expect(parseLocalTime(text)).toEqual(time);
  });

  it.each(['24:00', '23:60', '1000', '10:0', '10h00', '10:00:00', '-1:00', '', 'noon'])(
    'refuses %j',
    (text) => {
      expect(parseLocalTime(text)).toBeUndefined();
    },
  );

  it('refuses values that are not text without throwing', () => {
    expect(parseLocalTime(600 as unknown as string)).toBeUndefined();
  });
});

describe('isValidZone and canonicalZone', () => {
  it.each(['Europe/Paris', 'America/St_Johns', 'Asia/Kathmandu', 'Pacific/Chatham', 'UTC', 'Etc/GMT+5'])(
    'knows %s',
    (zone) => {
      expect(isValidZone(zone)).toBe(true);
    },
  );

  it.each(['', 'Paris', 'Europe/Pariss', 'Foo/Bar', '+01:00', '-05:00', 'Local'])('refuses %j', (zone) => {
    expect(isValidZone(zone)).toBe(false);
  });

  it('gives the canonical spelling of a name written in another case', () => {
    expect(canonicalZone('europe/paris')).toBe('Europe/Paris');
    expect(canonicalZone('Europe/Paris')).toBe('Europe/Paris');
    expect(canonicalZone('Mars/Olympus')).toBeUndefined();
  });
});

describe('resolveWall', () => {
  // Every expected instant below was worked out by hand from the zones' 2026 transitions
  // (zdump): it is not produced by the code under test.
  it.each([
    // Ordinary times, unusual offsets.
    ['Europe/Paris', '2026-01-14T10:00', '2026-01-14T09:00:00Z'],
    ['Asia/Kathmandu', '2026-01-14T10:00', '2026-01-14T04:15:00Z'],
    ['Pacific/Chatham', '2026-01-14T10:00', '2026-01-13T20:15:00Z'],
    ['Pacific/Kiritimati', '2026-01-14T10:00', '2026-01-13T20:00:00Z'],
    ['America/St_Johns', '2026-01-14T10:00', '2026-01-14T13:30:00Z'],
    ['Pacific/Pago_Pago', '2026-01-14T10:00', '2026-01-14T21:00:00Z'],
    // Paris: 29 March 02:00 CET → 03:00 CEST; 25 October 03:00 CEST → 02:00 CET.
    ['Europe/Paris', '2026-03-29T01:59', '2026-03-29T00:59:00Z'],
    ['Europe/Paris', '2026-03-29T02:00', '2026-03-29T01:00:00Z'],
    ['Europe/Paris', '2026-03-29T02:30', '2026-03-29T01:30:00Z'],
    ['Europe/Paris', '2026-03-29T03:00', '2026-03-29T01:00:00Z'],
    ['Europe/Paris', '2026-10-25T01:59', '2026-10-24T23:59:00Z'],
    ['Europe/Paris', '2026-10-25T02:00', '2026-10-25T00:00:00Z'],
    ['Europe/Paris', '2026-10-25T02:30', '2026-10-25T00:30:00Z'],
    ['Europe/Paris', '2026-10-25T02:59', '2026-10-25T00:59:00Z'],
    ['Europe/Paris', '2026-10-25T03:00', '2026-10-25T02:00:00Z'],
    // New York: 8 March 02:00 EST → 03:00 EDT; 1 November 02:00 EDT → 01:00 EST.
    ['America/New_York', '2026-03-08T02:15', '2026-03-08T07:15:00Z'],
    ['America/New_York', '2026-11-01T01:30', '2026-11-01T05:30:00Z'],
    // Sydney (southern hemisphere): 5 April 03:00 AEDT → 02:00 AEST; 4 October 02:00 → 03:00.
    ['Australia/Sydney', '2026-04-05T02:30', '2026-04-04T15:30:00Z'],
    ['Australia/Sydney', '2026-10-04T02:30', '2026-10-03T16:30:00Z'],
    // Lord Howe, a 30-minute shift: 5 April 02:00 +11 → 01:30 +10:30; 4 October 02:00 → 02:30.
    ['Australia/Lord_Howe', '2026-04-05T01:45', '2026-04-04T14:45:00Z'],
    ['Australia/Lord_Howe', '2026-10-04T02:15', '2026-10-03T15:45:00Z'],
    // Chatham: 5 April 03:45 +13:45 → 02:45 +12:45; 27 September 02:45 → 03:45.
    ['Pacific/Chatham', '2026-04-05T03:00', '2026-04-04T13:15:00Z'],
    ['Pacific/Chatham', '2026-09-27T03:00', '2026-09-26T14:15:00Z'],
    // St John's: 8 March 02:00 NST → 03:00 NDT; 1 November 02:00 NDT → 01:00 NST.
    ['America/St_Johns', '2026-03-08T02:30', '2026-03-08T06:00:00Z'],
    ['America/St_Johns', '2026-11-01T01:30', '2026-11-01T04:00:00Z'],
    // Troll, a two-hour shift: 29 March 01:00 +00 → 03:00 +02; 25 October 03:00 +02 → 01:00 +00.
    ['Antarctica/Troll', '2026-03-29T02:00', '2026-03-29T02:00:00Z'],
    ['Antarctica/Troll', '2026-10-25T02:00', '2026-10-25T00:00:00Z'],
  ])('%s %s → %s', (zone, local, expected) => {
    expect(resolve(zone, local)).toBe(expected);
  });

  it('reads back as the same wall time outside gaps, and as wall + gap inside one', () => {
    const paris = IANAZone.create('Europe/Paris');
    expect(wallOf(paris, resolveWall(paris, wall('2026-10-25T02:30')))).toBe(wall('2026-10-25T02:30'));
    expect(wallOf(paris, resolveWall(paris, wall('2026-03-29T02:30')))).toBe(wall('2026-03-29T03:30'));
    const lordHowe = IANAZone.create('Australia/Lord_Howe');
    expect(wallOf(lordHowe, resolveWall(lordHowe, wall('2026-10-04T02:15')))).toBe(wall('2026-10-04T02:45'));
  });

  describe('whatever day the program runs', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it.each(['2026-01-15T12:00:00Z', '2026-07-15T12:00:00Z', '2026-03-29T01:30:00Z', '2031-10-26T00:30:00Z'])(
      'gives the same answers when the clock says %s',
      (clock) => {
        vi.useFakeTimers({ toFake: ['Date'] });
        vi.setSystemTime(new Date(clock));
        expect(resolve('Europe/Paris', '2026-03-29T02:30')).toBe('2026-03-29T01:30:00Z');
        expect(resolve('Europe/Paris', '2026-10-25T02:30')).toBe('2026-10-25T00:30:00Z');
        expect(resolve('Australia/Sydney', '2026-04-05T02:30')).toBe('2026-04-04T15:30:00Z');
        expect(resolve('Australia/Lord_Howe', '2026-10-04T02:15')).toBe('2026-10-03T15:45:00Z');
      },
    );
  });
});
