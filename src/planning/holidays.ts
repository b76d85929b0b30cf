// Public holidays per country (docs/audiences.md, "Public holidays"), from the `date-holidays`
// library: a holiday is a local date without sends, exactly like one of `window.except`, for the
// subscribers of that country. Dates are read as the library writes them (the country's own
// calendar date, "2026-07-14 00:00:00") and used as wall dates in the subscriber's zone; a holiday
// that lasts several days excludes each of them. Nation-wide holidays only (no states or regions).
//
// The library is loaded on first use, not with this module: it costs about 37 MB of memory and
// 300 ms, which a process planning no campaign with holidays (most imports, every sender) should
// not pay (docs/memory.md). Its CommonJS build loads synchronously, as planning is.

import { createRequire } from 'node:module';
import type Holidays from 'date-holidays';
import { parseLocalDate } from './days.ts';
import { DAY } from './local-time.ts';

/** The library's holiday types; `public` is the default a campaign honours. */
export const HOLIDAY_TYPES = ['public', 'bank', 'school', 'optional', 'observance'] as const;
export type HolidayType = (typeof HOLIDAY_TYPES)[number];

/** One holiday of a country, as `plan` lists them. */
export interface Holiday {
  /** "2026-07-14" */
  readonly date: string;
  readonly name: string;
  readonly type: HolidayType;
}

let loaded: typeof Holidays | undefined;
function library(): typeof Holidays {
  loaded ??= createRequire(import.meta.url)('date-holidays') as typeof Holidays;
  return loaded;
}

let countries: ReadonlySet<string> | undefined;

/** The country codes the library has holidays for (ISO 3166-1 alpha-2, upper case). */
export function holidayCountries(): ReadonlySet<string> {
  countries ??= new Set(Object.keys(new (library())().getCountries()));
  return countries;
}

export function isHolidayCountry(code: string): boolean {
  return holidayCountries().has(code);
}

const byCountryYear = new Map<string, readonly Holiday[]>();

/** The nation-wide holidays of `country` in `year`, every type, in date order (memoised). */
export function holidaysIn(country: string, year: number): readonly Holiday[] {
  const key = `${country}\u0000${year}`;
  let found = byCountryYear.get(key);
  if (found !== undefined) return found;
  found = [];
  if (isHolidayCountry(country)) {
    const calendar = new (library())(country, { languages: ['en'] });
    const list: Holiday[] = [];
    for (const h of calendar.getHolidays(year) || []) {
      const first = h.date.slice(0, 10);
      const days = Math.max(1, Math.round((h.end.getTime() - h.start.getTime()) / DAY));
      const wall = parseLocalDate(first);
      if (wall === undefined) continue;
      for (let i = 0; i < days; i++)
        list.push({ date: new Date(wall + i * DAY).toISOString().slice(0, 10), name: h.name, type: h.type });
    }
    found = Object.freeze(list);
  }
  byCountryYear.set(key, found);
  return found;
}

/**
 * The test "is this local date (its midnight as a wall value) a holiday of `country`, of one of
 * `types`", memoised per year. An unknown country has none.
 */
export function holidayTest(country: string, types: readonly string[]): (wallMidnight: number) => boolean {
  const wanted = new Set(types);
  const years = new Map<number, ReadonlySet<number>>();
  return (wallMidnight) => {
    const year = new Date(wallMidnight).getUTCFullYear();
    let dates = years.get(year);
    if (dates === undefined) {
      // A holiday of several days may run from the year before into this one.
      dates = new Set(
        [...holidaysIn(country, year - 1), ...holidaysIn(country, year)]
          .filter((h) => wanted.has(h.type))
          .map((h) => parseLocalDate(h.date)!),
      );
      years.set(year, dates);
    }
    return dates.has(wallMidnight);
  };
}

/** The holidays of `country`, of `types`, between two local dates ("YYYY-MM-DD", both included). */
export function holidaysBetween(
  country: string,
  types: readonly string[],
  from: string,
  to: string,
): Holiday[] {
  const wanted = new Set(types);
  const found: Holiday[] = [];
  for (let year = Number(from.slice(0, 4)) - 1; year <= Number(to.slice(0, 4)); year++)
    for (const h of holidaysIn(country, year))
      if (wanted.has(h.type) && h.date >= from && h.date <= to) found.push(h);
  return found;
}
