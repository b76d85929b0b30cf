// What `lastcall plan` says about public holidays (docs/audiences.md, "Public holidays"): per
// holiday country of the planned subscribers, the holidays between `now` and the deadline and
// which sends they moved.
import type { FormattedSend } from '../planning/ndjson.ts';
import { formatUtc, holidaysBetween, isHolidayCountry } from '../planning/planner.ts';
import type { CampaignHolidays } from './campaign.schema.ts';

/** Holidays named per country; beyond, their number. */
const LISTED = 5;

interface CountryTally {
  subscribers: number;
  moved: number;
  readonly steps: Set<string>;
}

export class HolidayReport {
  readonly #tallies = new Map<string, CountryTally>();
  readonly #holidays: CampaignHolidays;
  readonly #span: { readonly from: number; readonly to: number };

  constructor(holidays: CampaignHolidays, span: { readonly from: number; readonly to: number }) {
    this.#holidays = holidays;
    this.#span = span;
  }

  /** One planned subscriber of `country` ('' for none) and their sends. */
  add(country: string, sends: readonly FormattedSend[]): void {
    let tally = this.#tallies.get(country);
    if (tally === undefined) {
      tally = { subscribers: 0, moved: 0, steps: new Set() };
      this.#tallies.set(country, tally);
    }
    tally.subscribers++;
    for (const s of sends)
      if (s.holiday !== undefined) {
        tally.moved++;
        tally.steps.add(s.send.step);
      }
  }

  /** The heading and one line per country (codes in order, no country last). */
  lines(): string[] {
    const from = formatUtc(this.#span.from).slice(0, 10);
    const to = formatUtc(this.#span.to).slice(0, 10);
    const { types, country: sources } = this.#holidays;
    const lines = [
      `Public holidays (${types.join(', ')}) of each subscriber's country (${sources.join(', then ')}), ${from} to ${to}:`,
    ];
    const countries = [...this.#tallies.keys()].sort((a, b) =>
      a === '' ? 1 : b === '' ? -1 : a.localeCompare(b),
    );
    for (const country of countries) {
      const tally = this.#tallies.get(country)!;
      const who = `${tally.subscribers.toLocaleString('en-US')} subscriber${tally.subscribers === 1 ? '' : 's'}`;
      if (country === '') {
        lines.push(`  (none) ${who}: no country, planned without holidays`);
        continue;
      }
      if (!isHolidayCountry(country)) {
        lines.push(`  ${country}     ${who}: no holiday data for ${country}, planned without holidays`);
        continue;
      }
      const found = holidaysBetween(country, types, from, to);
      const named = found.slice(0, LISTED).map((h) => `${h.date} (${h.name})`);
      if (found.length > LISTED) named.push(`${found.length - LISTED} more`);
      const dates = found.length === 0 ? 'no holiday in the span' : named.join(', ');
      const moved =
        tally.moved === 0
          ? 'no send moved'
          : `${tally.moved.toLocaleString('en-US')} send${tally.moved === 1 ? '' : 's'} moved (${[...tally.steps].join(', ')})`;
      lines.push(`  ${country}     ${who}: ${dates}; ${moved}`);
    }
    return lines;
  }
}
