import { describe, expect, it } from 'vitest';
import { daysLeft, describeBefore, formatDeadline, formatLocal, formatUtc } from './format.ts';

const at = (text: string): number => Date.parse(text);
const deadline = at('2026-01-15T00:00:00+01:00');

describe('formatUtc', () => {
  it('writes ISO 8601 in UTC without milliseconds', () => {
    expect(formatUtc(at('2026-01-14T09:00:00Z'))).toBe('2026-01-14T09:00:00Z');
    expect(formatUtc(at('2026-01-14T09:00:05.999Z'))).toBe('2026-01-14T09:00:05Z');
  });
});

describe('formatLocal', () => {
  it.each([
    ['Europe/Paris', '2026-01-14T09:00:00Z', '2026-01-14T10:00:00+01:00'],
    ['Europe/Paris', '2026-07-14T08:00:00Z', '2026-07-14T10:00:00+02:00'],
    ['Asia/Kathmandu', '2026-01-14T04:15:00Z', '2026-01-14T10:00:00+05:45'],
    ['Pacific/Chatham', '2026-01-13T20:15:00Z', '2026-01-14T10:00:00+13:45'],
    ['Pacific/Kiritimati', '2026-01-14T06:00:00Z', '2026-01-14T20:00:00+14:00'],
    ['America/St_Johns', '2026-01-14T17:00:00Z', '2026-01-14T13:30:00-03:30'],
    ['Pacific/Pago_Pago', '2026-01-14T07:00:00Z', '2026-01-13T20:00:00-11:00'],
    ['UTC', '2026-01-14T07:00:00Z', '2026-01-14T07:00:00+00:00'],
    // Both passes of Paris's autumn overlap read 02:30, with their own offsets.
    ['Europe/Paris', '2026-10-25T00:30:00Z', '2026-10-25T02:30:00+02:00'],
    ['Europe/Paris', '2026-10-25T01:30:00Z', '2026-10-25T02:30:00+01:00'],
  ])('%s %s → %s', (zone, instant, expected) => {
    expect(formatLocal(at(instant), zone)).toBe(expected);
  });
});

describe('formatDeadline', () => {
  it('in French and English, in the subscriber’s zone', () => {
    expect(formatDeadline(deadline, 'Europe/Paris', 'fr')).toBe(
      'jeudi 15 janvier 2026 à 00:00 (heure de Paris)',
    );
    expect(formatDeadline(deadline, 'Europe/Paris', 'en')).toBe(
      'Thursday, 15 January 2026 at 00:00 (Paris time)',
    );
    expect(formatDeadline(deadline, 'America/New_York', 'en')).toBe(
      'Wednesday, 14 January 2026 at 18:00 (New York time)',
    );
    expect(formatDeadline(deadline, 'America/New_York', 'fr')).toBe(
      'mercredi 14 janvier 2026 à 18:00 (heure de New York)',
    );
    expect(formatDeadline(deadline, 'Asia/Kathmandu', 'en')).toBe(
      'Thursday, 15 January 2026 at 04:45 (Kathmandu time)',
    );
  });

  it('writes "1er" for the first of the month and elides "de" before a vowel in French', () => {
    expect(formatDeadline(at('2026-01-01T00:00:00+01:00'), 'Europe/Amsterdam', 'fr')).toBe(
      "jeudi 1er janvier 2026 à 00:00 (heure d'Amsterdam)",
    );
    expect(formatDeadline(at('2026-01-01T00:00:00+01:00'), 'Europe/Amsterdam', 'en')).toBe(
      'Thursday, 1 January 2026 at 00:00 (Amsterdam time)',
    );
  });

  it('labels zones without a city by their offset', () => {
    expect(formatDeadline(deadline, 'UTC', 'en')).toBe('Wednesday, 14 January 2026 at 23:00 (UTC)');
    expect(formatDeadline(deadline, 'Etc/GMT+5', 'fr')).toBe('mercredi 14 janvier 2026 à 18:00 (UTC−05:00)');
  });
});

describe('daysLeft', () => {
  const springDeadline = '2026-03-30T00:00:00+02:00';
  it.each([
    [
      'the eve of a midnight deadline',
      '2026-01-14T09:00:00Z',
      '2026-01-15T00:00:00+01:00',
      'Europe/Paris',
      1,
    ],
    ['late on the eve', '2026-01-14T22:59:00Z', '2026-01-15T00:00:00+01:00', 'Europe/Paris', 1],
    ['a week before', '2026-01-08T09:00:00Z', '2026-01-15T00:00:00+01:00', 'Europe/Paris', 7],
    ['thirty days before', '2025-12-16T09:00:00Z', '2026-01-15T00:00:00+01:00', 'Europe/Paris', 30],
    [
      'on the deadline day (14 Jan 18:00 local)',
      '2026-01-14T15:00:00Z',
      '2026-01-15T00:00:00+01:00',
      'America/New_York',
      0,
    ],
    ['after the deadline', '2026-01-16T12:00:00Z', '2026-01-15T00:00:00+01:00', 'Europe/Paris', -1],
    ['across the spring change (a 23-hour day)', '2026-03-28T12:00:00Z', springDeadline, 'Europe/Paris', 2],
    ['just after midnight on the change day', '2026-03-28T23:30:00Z', springDeadline, 'Europe/Paris', 1],
  ])('%s', (_, instant, end, zone, expected) => {
    expect(daysLeft(at(instant), at(end), zone)).toBe(expected);
  });
});

describe('describeBefore', () => {
  it("writes a step's offset for people, in their language", () => {
    expect(describeBefore('P30D', 'en')).toBe('30 days');
    expect(describeBefore('PT6H', 'en')).toBe('6 hours');
    expect(describeBefore('P1DT6H', 'en')).toBe('1 day and 6 hours');
    expect(describeBefore('PT10M', 'fr')).toMatch(/^10\sminutes$/);
    expect(describeBefore('P1W', 'fr')).toMatch(/^1\ssemaine$/);
  });
});
