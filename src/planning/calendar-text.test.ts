import { describe, expect, it } from 'vitest';
import { describeCalendar } from './calendar-text.ts';

describe('describeCalendar', () => {
  it('names weekdays, weekends, every day and other days in English and French', () => {
    const workweek = { start: '09:00', end: '18:00', days: ['mon', 'tue', 'wed', 'thu', 'fri'] };
    expect(describeCalendar(workweek, 'en')).toBe('weekdays 9:00–18:00 your time');
    expect(describeCalendar(workweek, 'fr')).toBe('en semaine, 9:00–18:00 à votre heure');
    expect(describeCalendar({ start: '10:00', end: '16:30', days: ['sun', 'sat'] }, 'en')).toBe(
      'weekends 10:00–16:30 your time',
    );
    expect(describeCalendar({ start: '09:00', end: '20:00' }, 'fr')).toBe(
      'tous les jours, 9:00–20:00 à votre heure',
    );
    expect(describeCalendar({ start: '08:00', end: '12:00', days: ['fri', 'mon', 'wed'] }, 'en')).toBe(
      'Monday, Wednesday, and Friday 8:00–12:00 your time',
    );
    expect(describeCalendar({ start: '08:00', end: '12:00', days: ['fri', 'mon', 'wed'] }, 'fr')).toBe(
      'lundi, mercredi et vendredi, 8:00–12:00 à votre heure',
    );
    expect(describeCalendar({ start: '00:00', end: '23:59' }, 'en')).toBe('every day at any hour');
  });

  it('lists a few excluded dates, and counts many', () => {
    const holidays = { start: '09:00', end: '18:00', except: ['2027-01-01', '2026-12-25'] };
    expect(describeCalendar(holidays, 'en')).toBe(
      'every day 9:00–18:00 your time, except 25 December 2026 and 1 January 2027',
    );
    expect(describeCalendar(holidays, 'fr')).toBe(
      'tous les jours, 9:00–18:00 à votre heure, sauf le 25 décembre 2026 et le 1er janvier 2027',
    );
    const many = { ...holidays, except: ['2026-12-24', '2026-12-25', '2026-12-26', '2026-12-31'] };
    expect(describeCalendar(many, 'en')).toBe('every day 9:00–18:00 your time, except 4 dates');
  });

  it("says public holidays are left out: the subscriber's country's, or a fixed one by name", () => {
    const workweek = { start: '09:00', end: '18:00', days: ['mon', 'tue', 'wed', 'thu', 'fri'] };
    const own = { ...workweek, holidays: { country: ['attr.country', 'phone'], types: ['public'] } };
    expect(describeCalendar(own, 'en')).toBe(
      'weekdays 9:00–18:00 your time, not on public holidays in your country',
    );
    expect(describeCalendar(own, 'fr')).toBe(
      'en semaine, 9:00–18:00 à votre heure, sauf les jours fériés de votre pays',
    );
    const france = { ...workweek, except: ['2026-12-24'], holidays: { country: ['FR'], types: ['public'] } };
    expect(describeCalendar(france, 'en')).toBe(
      'weekdays 9:00–18:00 your time, except 24 December 2026, not on public holidays (France)',
    );
    expect(describeCalendar(france, 'fr')).toBe(
      'en semaine, 9:00–18:00 à votre heure, sauf le 24 décembre 2026, sauf les jours fériés (France)',
    );
    const banks = { ...workweek, holidays: { country: ['GB'], types: ['public', 'bank'] } };
    expect(describeCalendar(banks, 'en')).toBe(
      'weekdays 9:00–18:00 your time, not on holidays (United Kingdom)',
    );
  });
});
