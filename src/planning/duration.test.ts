import { describe, expect, it } from 'vitest';
import { parseDuration, parseIsoDuration } from './duration.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('parseIsoDuration', () => {
  it.each([
    ['P30D', 30 * DAY],
    ['P7D', 7 * DAY],
    ['PT6H', 6 * HOUR],
    ['P1DT6H', 30 * HOUR],
    ['P2W', 14 * DAY],
    ['P1M', 30 * DAY],
    ['P1Y', 365 * DAY],
    ['PT90M', 90 * 60_000],
    ['PT1.5H', 90 * 60_000],
    ['PT0,5H', 30 * 60_000],
    ['PT45S', 45_000],
    ['P1Y2M3W4DT5H6M7S', (365 + 60 + 21 + 4) * DAY + 5 * HOUR + 6 * 60_000 + 7_000],
    ['P0D', 0],
    ['PT0S', 0],
    [' P1D ', DAY],
  ])('accepts %s', (text, millis) => {
    expect(parseIsoDuration(text)).toEqual({ ok: true, millisApprox: millis });
  });

  it.each([
    ['', /ISO 8601 duration/],
    ['P', /at least one unit/],
    ['PT', /at least one unit/],
    ['P1DT', /"T" must be followed by a unit/],
    ['30D', /ISO 8601 duration/],
    ['p1d', /upper case/],
    ['P1H', /ISO 8601 duration/],
    ['PT1D', /ISO 8601 duration/],
    ['P1D1M', /ISO 8601 duration/],
    ['-P1D', /negative/],
    ['P-1D', /ISO 8601 duration/],
    ['P1.5D', /whole numbers/],
    ['P0.5M', /whole numbers/],
    ['P101Y', /100 years/],
    ['P99999999999999999999D', /100 years/],
    ['six hours', /ISO 8601 duration/],
  ])('refuses %j with a reason', (text, reason) => {
    const result = parseIsoDuration(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });

  it('never throws, whatever it is given', () => {
    for (const value of [undefined, null, 42, {}, []]) {
      expect(parseIsoDuration(value as unknown as string).ok).toBe(false);
    }
  });
});

describe('parseDuration', () => {
  it('separates calendar units from exact time units', () => {
    const result = parseDuration('P1Y2M3W4DT5H6M7.5S');
    expect(result.ok && result.duration).toEqual({
      years: 1,
      months: 2,
      weeks: 3,
      days: 4,
      timeMillis: 5 * HOUR + 6 * 60_000 + 7_500,
      hasTimeUnits: true,
    });
  });

  it('records whether a time part was written, even when it is zero', () => {
    const dateOnly = parseDuration('P1D');
    const withTime = parseDuration('P1DT0H');
    expect(dateOnly.ok && dateOnly.duration.hasTimeUnits).toBe(false);
    expect(withTime.ok && withTime.duration.hasTimeUnits).toBe(true);
    expect(withTime.ok && withTime.duration.timeMillis).toBe(0);
  });
});
