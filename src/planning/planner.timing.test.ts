import { afterEach, describe, expect, it, vi } from 'vitest';
import { fullDay, lines, only, schedule, time } from '../../test/support/planning-fixtures.ts';

// When one step is sent (docs/campaigns.md, "Planning", points 1–3), in zones with DST changes,
// unusual offsets, month ends and window edges. Every expected instant is a literal worked out by
// hand (UTC) from the zones' 2026 transitions (zdump), never a value computed by the code under
// test.

describe('DST gaps and overlaps', () => {
  it.each([
    // [zone, deadline, sendAt, expected]: a P1D step landing on the change day.
    ['Europe/Paris', '2026-03-30T12:00:00+02:00', '02:30', '2026-03-29T01:30:00Z'], // gap → 03:30 CEST
    ['Europe/Paris', '2026-10-26T12:00:00+01:00', '02:30', '2026-10-25T00:30:00Z'], // first 02:30 (CEST)
    ['America/New_York', '2026-03-09T00:00:00-04:00', '02:15', '2026-03-08T07:15:00Z'], // → 03:15 EDT
    ['America/New_York', '2026-11-02T00:00:00-05:00', '01:30', '2026-11-01T05:30:00Z'], // first 01:30 (EDT)
    ['Australia/Sydney', '2026-10-05T00:00:00+11:00', '02:30', '2026-10-03T16:30:00Z'], // → 03:30 AEDT
    ['Australia/Sydney', '2026-04-06T00:00:00+10:00', '02:30', '2026-04-04T15:30:00Z'], // first (AEDT)
    ['Australia/Lord_Howe', '2026-10-05T00:00:00+11:00', '02:15', '2026-10-03T15:45:00Z'], // +30 min → 02:45
    ['Australia/Lord_Howe', '2026-04-06T00:00:00+10:30', '01:45', '2026-04-04T14:45:00Z'], // first (+11)
    ['Pacific/Chatham', '2026-09-28T00:00:00+13:45', '03:00', '2026-09-26T14:15:00Z'], // → 04:00 +13:45
    ['Pacific/Chatham', '2026-04-06T00:00:00+12:45', '03:00', '2026-04-04T13:15:00Z'], // first (+13:45)
    ['America/St_Johns', '2026-03-09T00:00:00-02:30', '02:30', '2026-03-08T06:00:00Z'], // → 03:30 NDT
    ['America/St_Johns', '2026-11-02T00:00:00-03:30', '01:30', '2026-11-01T04:00:00Z'], // first (NDT)
  ])('%s, deadline %s, sendAt %s → %s', (zone, deadline, sendAt, expected) => {
    expect(only(schedule({ deadline, sendAt: time(sendAt), ...fullDay }), 'P1D', zone)).toEqual([expected]);
  });

  it('a sendAt in the gap outside the window moves back to the previous evening', () => {
    // 02:30 → 03:30 CEST on 29 March, before 09:00: back to 28 March 20:00 CET.
    const s = schedule({ deadline: '2026-03-30T12:00:00+02:00', sendAt: time('02:30') });
    expect(only(s, 'P1D', 'Europe/Paris')).toEqual(['2026-03-28T19:00:00Z']);
  });

  it('a window ending inside the autumn overlap sends at the second occurrence of its end', () => {
    const s = schedule({
      deadline: '2026-10-26T12:00:00+01:00',
      window: { start: time('00:30'), end: time('02:30') },
    });
    expect(only(s, 'P1D', 'Europe/Paris')).toEqual(['2026-10-25T01:30:00Z']);
  });

  it('PT6H is six real hours, across the spring change (seven on the wall clock)', () => {
    // D = 29 March 06:00 CEST = 04:00Z; six hours earlier is 28 March 23:00 CET.
    const s = schedule({ deadline: '2026-03-29T06:00:00+02:00', ...fullDay });
    expect(only(s, 'PT6H', 'Europe/Paris')).toEqual(['2026-03-28T22:00:00Z']);
  });

  it('PT6H is six real hours, across the autumn change (five on the wall clock)', () => {
    // D = 25 October 06:00 CET = 05:00Z; six hours earlier is 25 October 01:00 CEST.
    const s = schedule({ deadline: '2026-10-25T06:00:00+01:00', ...fullDay });
    expect(only(s, 'PT6H', 'Europe/Paris')).toEqual(['2026-10-24T23:00:00Z']);
  });

  it('PT6H across Lord Howe’s 30-minute change', () => {
    // D = 5 April 06:00 +10:30 = 4 April 19:30Z; minus six hours = 13:30Z (00:30 +11).
    const s = schedule({ deadline: '2026-04-05T06:00:00+10:30', ...fullDay });
    expect(only(s, 'PT6H', 'Australia/Lord_Howe')).toEqual(['2026-04-04T13:30:00Z']);
  });

  it('time units count from the deadline instant itself, even inside an overlap', () => {
    // D = the second 02:30 of 25 October (CET, 01:30Z). One hour before is the first 02:30
    // (CEST, 00:30Z), not an hour before the first occurrence.
    const s = schedule({ deadline: '2026-10-25T02:30:00+01:00', ...fullDay });
    expect(only(s, 'PT1H', 'Europe/Paris')).toEqual(['2026-10-25T00:30:00Z']);
  });

  it('P1DT6H is the same local time a day earlier, then six real hours', () => {
    // D = 29 March 12:00 CEST. A day earlier: 28 March 12:00 CET = 11:00Z; minus 6 h = 05:00Z.
    // (Thirty exact hours would give 04:00Z.)
    const s = schedule({ deadline: '2026-03-29T12:00:00+02:00', ...fullDay });
    expect(only(s, 'P1DT6H', 'Europe/Paris')).toEqual(['2026-03-28T05:00:00Z']);
    // D = 30 March 12:00 CEST = 10:00Z. A day earlier: 29 March 12:00 CEST = 10:00Z; minus 6 h.
    const s2 = schedule({ deadline: '2026-03-30T12:00:00+02:00', ...fullDay });
    expect(only(s2, 'P1DT6H', 'Europe/Paris')).toEqual(['2026-03-29T04:00:00Z']);
  });

  it('P1DT0H keeps the deadline’s time of day, P1D uses sendAt', () => {
    const s = schedule({ deadline: '2026-01-15T16:30:00+01:00' });
    expect(only(s, 'P1DT0H', 'Europe/Paris')).toEqual(['2026-01-14T15:30:00Z']);
    expect(only(s, 'P1D', 'Europe/Paris')).toEqual(['2026-01-14T09:00:00Z']);
  });

  it('does not depend on the day the program runs', () => {
    const s = schedule({ deadline: '2026-03-30T12:00:00+02:00', sendAt: time('02:30'), ...fullDay });
    const plans = ['2026-01-10T00:00:00Z', '2026-07-10T00:00:00Z', '2026-03-29T01:30:00Z'].map((clock) => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date(clock));
      return only(s, 'P1D', 'Europe/Paris');
    });
    expect(plans).toEqual([['2026-03-29T01:30:00Z'], ['2026-03-29T01:30:00Z'], ['2026-03-29T01:30:00Z']]);
  });

  afterEach(() => {
    vi.useRealTimers();
  });
});

describe('calendar arithmetic', () => {
  it.each([
    [
      'P1M before 31 March (common year) is 28 February',
      '2026-03-31T12:00:00+02:00',
      'P1M',
      '2026-02-28T09:00:00Z',
    ],
    [
      'P1M before 31 March (leap year) is 29 February',
      '2024-03-31T12:00:00+02:00',
      'P1M',
      '2024-02-29T09:00:00Z',
    ],
    ['P1M before 30 March is 28 February', '2026-03-30T12:00:00+02:00', 'P1M', '2026-02-28T09:00:00Z'],
    ['P1M before 30 May is 30 April', '2026-05-30T12:00:00+02:00', 'P1M', '2026-04-30T08:00:00Z'],
    ['P1M before 31 July is 30 June', '2026-07-31T12:00:00+02:00', 'P1M', '2026-06-30T08:00:00Z'],
    ['P1Y before 29 February is 28 February', '2028-02-29T12:00:00+01:00', 'P1Y', '2027-02-28T09:00:00Z'],
    ['P2W is fourteen days', '2026-01-15T00:00:00+01:00', 'P2W', '2026-01-01T09:00:00Z'],
    ['P1M before 15 January crosses the year', '2026-01-15T00:00:00+01:00', 'P1M', '2025-12-15T09:00:00Z'],
    [
      'P1MT1H: 28 February 12:00 CET, then one hour',
      '2026-03-31T12:00:00+02:00',
      'P1MT1H',
      '2026-02-28T10:00:00Z',
    ],
  ])('%s', (_, deadline, before, expected) => {
    expect(only(schedule({ deadline }), before, 'Europe/Paris')).toEqual([expected]);
  });
});

describe('the window and the deadline', () => {
  it.each([
    [
      'candidate exactly at the window end stays',
      '2026-01-15T02:00:00+01:00',
      'PT6H',
      '2026-01-14T19:00:00Z',
    ],
    [
      'one minute past the end moves back to the end',
      '2026-01-15T02:01:00+01:00',
      'PT6H',
      '2026-01-14T19:00:00Z',
    ],
    [
      'candidate exactly at the window start stays',
      '2026-01-15T15:00:00+01:00',
      'PT6H',
      '2026-01-15T08:00:00Z',
    ],
    [
      'one minute before the start goes to the previous evening',
      '2026-01-15T14:59:00+01:00',
      'PT6H',
      '2026-01-14T19:00:00Z',
    ],
    [
      'a candidate with seconds is floored to the minute',
      '2026-01-15T16:00:00+01:00',
      'PT6H30S',
      '2026-01-15T08:59:00Z',
    ],
    [
      'P0D on a 10:00 deadline sends one minute before it',
      '2026-01-15T10:00:00+01:00',
      'P0D',
      '2026-01-15T08:59:00Z',
    ],
    [
      'PT0S sends one minute before the deadline',
      '2026-01-15T18:00:00+01:00',
      'PT0S',
      '2026-01-15T16:59:00Z',
    ],
    [
      'a deadline with seconds: at most a minute before it',
      '2026-01-15T10:00:30+01:00',
      'P0D',
      '2026-01-15T08:59:00Z',
    ],
    [
      'P0D on a midnight deadline: sendAt is after it, so the evening before',
      '2026-01-15T00:00:00+01:00',
      'P0D',
      '2026-01-14T19:00:00Z',
    ],
  ])('%s', (_, deadline, before, expected) => {
    expect(only(schedule({ deadline }), before, 'Europe/Paris')).toEqual([expected]);
  });

  it('a sendAt outside the window comes early, never late', () => {
    expect(only(schedule({ sendAt: time('21:30') }), 'P1D', 'Europe/Paris')).toEqual([
      '2026-01-14T19:00:00Z',
    ]);
    expect(only(schedule({ sendAt: time('07:00') }), 'P1D', 'Europe/Paris')).toEqual([
      '2026-01-13T19:00:00Z',
    ]);
  });

  it('a one-minute window', () => {
    const s = schedule({ window: { start: time('12:00'), end: time('12:00') } });
    expect(only(s, 'PT6H', 'Europe/Paris')).toEqual(['2026-01-14T11:00:00Z']);
  });

  it('plans nothing once the deadline is reached or passed', () => {
    expect(lines(schedule(), 'Europe/Paris', '2026-01-14T23:00:00Z')).toEqual([]);
    expect(lines(schedule(), 'Europe/Paris', '2026-06-01T00:00:00Z')).toEqual([]);
  });
});
