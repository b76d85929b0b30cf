// A campaign's calendar in words, for the people it reaches and the operator: "weekdays
// 9:00–18:00 your time, except 25 December 2026, not on public holidays in your country" / "en
// semaine, 9:00–18:00 à votre heure, sauf le 25 décembre 2026, sauf les jours fériés de votre
// pays". Days and countries are named with Intl in the reader's language.

import { parseLocalDate, WEEKDAYS, type Weekday } from './days.ts';

export interface CalendarWindow {
  readonly start: string;
  readonly end: string;
  readonly days?: readonly string[];
  readonly except?: readonly string[];
  /** window.holidays: where the country comes from (attr.<name>, phone, a code) and the types. */
  readonly holidays?: { readonly country: readonly string[]; readonly types: readonly string[] };
}

/** Beyond this many excluded dates, their number is given rather than the list. */
const DATES_LISTED = 3;

const WORDS = {
  en: {
    everyDay: 'every day',
    weekdays: 'weekdays',
    weekends: 'weekends',
    allDay: 'at any hour',
    hours: (start: string, end: string) => `${start}–${end}`,
    yourTime: 'your time',
    except: (dates: string) => `except ${dates}`,
    dates: (n: number) => `${n} dates`,
    holidays: (publicOnly: boolean, where: string | undefined) =>
      `not on ${publicOnly ? 'public ' : ''}holidays ${where === undefined ? 'in your country' : `(${where})`}`,
  },
  fr: {
    everyDay: 'tous les jours',
    weekdays: 'en semaine',
    weekends: 'le week-end',
    allDay: 'à toute heure',
    hours: (start: string, end: string) => `${start}–${end}`,
    yourTime: 'à votre heure',
    except: (dates: string) => `sauf ${dates}`,
    dates: (n: number) => `${n} dates`,
    holidays: (publicOnly: boolean, where: string | undefined) =>
      `sauf les jours fériés${publicOnly ? '' : ' et autres congés'} ${where === undefined ? 'de votre pays' : `(${where})`}`,
  },
} as const;

/** "09:00" → "9:00". */
const clock = (time: string) => time.replace(/^0(\d)/, '$1');

function dayWords(days: readonly string[] | undefined, locale: 'fr' | 'en'): string {
  const w = WORDS[locale];
  const set = new Set(days ?? WEEKDAYS);
  const ordered = WEEKDAYS.filter((d) => set.has(d));
  if (ordered.length === WEEKDAYS.length) return w.everyDay;
  if (ordered.join() === 'mon,tue,wed,thu,fri') return w.weekdays;
  if (ordered.join() === 'sat,sun') return w.weekends;
  const names = ordered.map((d) => weekdayName(d, locale));
  return new Intl.ListFormat(locale, { type: 'conjunction' }).format(names);
}

function weekdayName(day: Weekday, locale: 'fr' | 'en'): string {
  // 2024-01-01 was a Monday.
  const date = Date.UTC(2024, 0, 1 + WEEKDAYS.indexOf(day));
  return new Intl.DateTimeFormat(locale, { weekday: 'long', timeZone: 'UTC' }).format(date);
}

function dateWords(except: readonly string[], locale: 'fr' | 'en'): string {
  if (except.length > DATES_LISTED) return WORDS[locale].dates(except.length);
  const format = new Intl.DateTimeFormat(locale === 'fr' ? 'fr' : 'en-GB', {
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  });
  const dates = [...except]
    .sort()
    .map((text) => format.format(parseLocalDate(text) ?? Number.NaN))
    .map((date) => (locale === 'fr' ? `le ${date.replace(/^1 /, '1er ')}` : date));
  return new Intl.ListFormat(locale, { type: 'conjunction' }).format(dates);
}

/** "not on public holidays in your country" / "(France)" when every subscriber has that one. */
function holidayWords(holidays: NonNullable<CalendarWindow['holidays']>, locale: 'fr' | 'en'): string {
  const first = holidays.country[0] ?? '';
  const fixed = /^[A-Z]{2}$/.test(first)
    ? (new Intl.DisplayNames(locale, { type: 'region' }).of(first) ?? first)
    : undefined;
  const publicOnly = holidays.types.length === 1 && holidays.types[0] === 'public';
  return WORDS[locale].holidays(publicOnly, fixed);
}

/** The calendar in one line of the reader's language. */
export function describeCalendar(window: CalendarWindow, locale: 'fr' | 'en'): string {
  const w = WORDS[locale];
  const allDay = window.start === '00:00' && window.end >= '23:59';
  const hours = allDay ? w.allDay : `${w.hours(clock(window.start), clock(window.end))} ${w.yourTime}`;
  const days = dayWords(window.days, locale);
  const except =
    window.except && window.except.length > 0 ? `, ${w.except(dateWords(window.except, locale))}` : '';
  const holidays = window.holidays ? `, ${holidayWords(window.holidays, locale)}` : '';
  return `${days}${locale === 'fr' ? ', ' : ' '}${hours}${except}${holidays}`;
}
