// Whose public holidays apply to a subscriber (docs/audiences.md, "Public holidays"): the first of
// `window.holidays.country`'s sources that gives a country. `attr.<name>` gives the attribute's
// value when it is two ASCII letters (any case, spaces around ignored; "fr" is FR); `phone` gives the
// phone number's region (`subscribers.phone_region`, empty for a number without one); a code
// gives itself. None: '' (no holidays).
//
// Written twice, like the audience rule: `holidayCountry` over one subscriber in memory (joiners,
// the offline `plan`), `holidayCountrySql` over `subscribers s` (campaign start, fan-out, the plan
// preview). holiday-country.test.ts checks that both agree.
import type { CampaignHolidays } from './campaign.schema.ts';

/** What the rule reads of a subscriber. */
export interface CountryFacts {
  readonly attributes: Readonly<Record<string, string>>;
  /** The phone's region, '' or absent without one. */
  readonly phoneRegion?: string | null;
}

const CODE = /^[A-Z]{2}$/;
/** Two ASCII letters, tested before upper-casing (JavaScript's "ß".toUpperCase() is "SS"). */
const LETTERS = /^[A-Za-z]{2}$/;
const ATTRIBUTE = /^attr\.([a-z][a-z0-9_]{0,39})$/;

/** The subscriber's holiday country, '' when no source gives one or the campaign has no holidays. */
export function holidayCountry(holidays: CampaignHolidays | undefined, s: CountryFacts): string {
  for (const source of holidays?.country ?? []) {
    if (source === 'phone') {
      if (s.phoneRegion) return s.phoneRegion;
      continue;
    }
    const attribute = ATTRIBUTE.exec(source);
    if (attribute) {
      const value = Object.hasOwn(s.attributes, attribute[1]!) ? s.attributes[attribute[1]!] : undefined;
      const letters = value?.replace(/^ +| +$/g, '');
      if (letters !== undefined && LETTERS.test(letters)) return letters.toUpperCase();
      continue;
    }
    if (CODE.test(source)) return source;
  }
  return '';
}

/**
 * The same rule as a SQL expression over `subscribers s`, '' when the campaign has no holidays.
 * Sources are validated by the campaign schema (attribute names are words, codes two capitals);
 * they are checked again here before being written into the statement.
 */
export function holidayCountrySql(holidays: CampaignHolidays | undefined): string {
  const parts: string[] = [];
  for (const source of holidays?.country ?? []) {
    if (source === 'phone') {
      parts.push(`nullif(s.phone_region, '')`);
      continue;
    }
    const attribute = ATTRIBUTE.exec(source);
    if (attribute) {
      const value = `btrim(s.attributes->>'${attribute[1]}', ' ')`;
      parts.push(`CASE WHEN ${value} ~ '^[A-Za-z]{2}$' THEN upper(${value}) END`);
      continue;
    }
    if (!CODE.test(source)) throw new Error(`window.holidays.country: "${source}" is not a source`);
    parts.push(`'${source}'`);
  }
  return parts.length === 0 ? `''` : `coalesce(${parts.join(', ')}, '')`;
}
